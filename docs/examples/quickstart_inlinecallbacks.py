"""Quickstart: the cluster client, with ``inlineCallbacks``.

The same program as ``quickstart_cluster.py`` for code bases that use
``@inlineCallbacks`` generators rather than ``async def``. It starts an
in-memory three-node Arakoon, or talks to the cluster of the ``.ini`` given::

    python docs/examples/quickstart_inlinecallbacks.py [CLUSTER.ini]
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from typing import Any

from twisted.internet import task
from twisted.internet.defer import Deferred, gatherResults, inlineCallbacks

from txarakoon import NotFound
from txarakoon.cluster import ArakoonClient
from txarakoon.config import ClusterConfig
from txarakoon.sequence import Assert, Set

PREFIX = b"txarakoon-example/"


@inlineCallbacks
def tour(client: ArakoonClient) -> Generator[Deferred[Any], Any, None]:
    """Writes, reads and an atomic sequence; each ``yield`` waits for a reply."""
    master = yield client.who_master()
    print(f"master: {master!r}")

    yield client.set(PREFIX + b"greeting", b"hello")
    value = yield client.get(PREFIX + b"greeting")
    print(f"get greeting -> {value!r}")

    try:
        yield client.get(PREFIX + b"missing")
    except NotFound:
        print("get missing -> NotFound")

    # Requests are pipelined: start several, then wait for all of them.
    yield gatherResults([client.set(PREFIX + b"n%d" % i, b"%d" % i) for i in range(5)])
    print(f"count of n* keys -> {len((yield client.prefix(PREFIX + b'n')))}")

    yield client.sequence([Assert(PREFIX + b"greeting", b"hello"), Set(PREFIX + b"seen", b"yes")])
    print(f"seen -> {(yield client.get(PREFIX + b'seen'))!r}")

    deleted = yield client.delete_prefix(PREFIX)
    print(f"delete_prefix -> {deleted} keys deleted")


@inlineCallbacks
def run(reactor: Any, ini: str | None) -> Generator[Deferred[Any], Any, None]:
    cluster = None
    if ini is None:
        from txarakoon.testing import ArakoonCluster

        cluster = ArakoonCluster(3)
        cluster.listen(reactor)
        config = ClusterConfig.from_ini(cluster.ini())
        print(f"started an in-memory cluster: {cluster.nodes_spec()}")
    else:
        config = ClusterConfig.from_ini(ini)
    client = ArakoonClient(config, reactor)
    try:
        yield tour(client)
    finally:
        yield client.disconnect()
        if cluster is not None:
            yield cluster.stop()
    print("done")


def main(argv: list[str] | None = None) -> None:
    """Run the tour; ``task.react`` exits with status 0 on success."""
    args = sys.argv[1:] if argv is None else argv
    task.react(run, [args[0] if args else None])


if __name__ == "__main__":
    main()
