"""Quickstart: the blocking clients, for scripts and tools.

No reactor: each call sends its request and returns the reply's value (or
raises). ``BlockingArakoonClient`` is the cluster: it finds the master and
follows it through failovers; ``SocketClient`` is one connection to one node.
To have something to talk to, this program runs ``python -m txarakoon serve``
(an in-memory three-node Arakoon) in a child process, reads the nodes'
addresses from the ``export TXARAKOON_NODES=...`` line it prints, and stops it
at the end::

    python docs/examples/quickstart_blocking.py
"""

from __future__ import annotations

import shlex
import subprocess
import sys

from txarakoon import BlockingArakoonClient, NotFound, SocketClient
from txarakoon.config import ClusterConfig
from txarakoon.sequence import Delete, Set

SPEC_LINE = "export TXARAKOON_NODES="


def start_server() -> tuple[subprocess.Popen[str], ClusterConfig]:
    """Start ``txarakoon serve`` and wait for the line naming its nodes."""
    server = subprocess.Popen(
        [sys.executable, "-m", "txarakoon", "serve", "--count", "3"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    for line in server.stdout:
        if line.startswith(SPEC_LINE):
            # The line is meant for a shell: read it as one would.
            _, setting = shlex.split(line)
            return server, ClusterConfig.from_spec(setting.partition("=")[2])
    server.wait()
    raise SystemExit(f"txarakoon serve exited with status {server.returncode}")


def tour(config: ClusterConfig) -> None:
    # The cluster: ClusterConfig.from_ini("/etc/arakoon/arakoon.ini") for yours.
    with BlockingArakoonClient(config, timeout=10) as client:
        client.set(b"greeting", b"hello")
        print(f"get(b'greeting') -> {client.get(b'greeting')!r} (master {client.master})")

        client.sequence([Set(b"a", b"1"), Set(b"b", b"2"), Delete(b"greeting")])
        print(f"range_entries -> {client.range_entries(None, True, None, True)!r}")
        try:
            client.get(b"greeting")
        except NotFound:  # a KeyError too
            print("after the sequence: NotFound")

        # A session reads its own writes, from a slave when it has caught up.
        session = client.read_your_writes()
        session.set(b"c", b"3")
        print(f"session get(b'c') -> {session.get(b'c')!r}")
        # Per-node state and admin commands: node(name).
        major, minor, patch, _info = client.node("n1").version()
        print(f"n1 runs version {major}.{minor}.{patch}")


def node_tour(config: ClusterConfig) -> None:
    node = config.nodes["n0"]  # the master of a freshly served cluster
    with SocketClient((node.hosts[0], node.port), config.cluster_id, timeout=10) as client:
        print(f"who_master() -> {client.who_master()!r}")
        # The pyrakoon mapping aliases: get, set, delete and exists.
        client["colour"] = "blue"
        print(f"client['colour'] -> {client['colour']!r}")
        print(f"'colour' in client -> {'colour' in client}")
        del client["colour"]


def main() -> None:
    server, config = start_server()
    try:
        tour(config)
        node_tour(config)
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
    print("done")


if __name__ == "__main__":
    main()
