"""Quickstart: the blocking ``SocketClient``, for scripts and tools.

No reactor: each call sends its request and returns the reply's value (or
raises). To have something to talk to, this program runs
``python -m txarakoon serve --count 1`` (an in-memory single-node Arakoon) in a
child process, reads the node's address from the
``export TXARAKOON_NODES=...`` line it prints, and stops it at the end::

    python docs/examples/quickstart_blocking.py
"""

from __future__ import annotations

import shlex
import subprocess
import sys

from txarakoon import NotFound, SocketClient
from txarakoon.config import ClusterConfig
from txarakoon.sequence import Delete, Set

SPEC_LINE = "export TXARAKOON_NODES="


def start_server() -> tuple[subprocess.Popen[str], ClusterConfig]:
    """Start ``txarakoon serve`` and wait for the line naming its node."""
    server = subprocess.Popen(
        [sys.executable, "-m", "txarakoon", "serve", "--count", "1"],
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
    node = next(iter(config.nodes.values()))
    address = (node.hosts[0], node.port)
    print(f"connecting to {node.name} at {address[0]}:{address[1]}")
    with SocketClient(address, config.cluster_id, timeout=10) as client:
        print(f"who_master() -> {client.who_master()!r}")
        client.set(b"greeting", b"hello")
        print(f"get(b'greeting') -> {client.get(b'greeting')!r}")

        # The pyrakoon mapping aliases: get, set, delete and exists.
        client["colour"] = "blue"
        print(f"client['colour'] -> {client['colour']!r}")
        print(f"'colour' in client -> {'colour' in client}")
        del client["colour"]
        try:
            client["colour"]
        except NotFound:  # a KeyError too
            print("after del: NotFound")

        client.sequence([Set(b"a", b"1"), Set(b"b", b"2"), Delete(b"greeting")])
        print(f"range_entries -> {client.range_entries(None, True, None, True)!r}")
        major, minor, patch, _info = client.version()
        print(f"server version {major}.{minor}.{patch}")


def main() -> None:
    server, config = start_server()
    try:
        tour(config)
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
    print("done")


if __name__ == "__main__":
    main()
