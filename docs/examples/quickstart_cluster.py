"""Quickstart: the cluster client, with ``async def`` and ``task.react``.

Without arguments it starts an in-memory three-node Arakoon on loopback and
talks to it, so it runs anywhere. Give it your cluster's ``.ini`` to talk to a
real cluster instead (it writes and then deletes keys under
``txarakoon-example/``)::

    python docs/examples/quickstart_cluster.py [CLUSTER.ini]
"""

from __future__ import annotations

import sys
from typing import Any

from twisted.internet import task
from twisted.internet.defer import Deferred

from txarakoon import NoGuarantees, NotFound
from txarakoon.cluster import ArakoonClient
from txarakoon.config import ClusterConfig
from txarakoon.sequence import Assert, Set

PREFIX = b"txarakoon-example/"


async def tour(client: ArakoonClient) -> None:
    """What most programs do: writes, reads, an atomic sequence."""
    print(f"master: {(await client.who_master())!r}")

    await client.set(PREFIX + b"greeting", b"hello")
    await client.set(PREFIX + b"colour", "blue")  # str is sent as UTF-8
    value = await client.get(PREFIX + b"greeting")
    print(f"get greeting -> {value!r}")  # always bytes

    try:
        await client.get(PREFIX + b"missing")
    except NotFound:  # also a KeyError
        print("get missing -> NotFound")

    # All steps or none: the assertion guards the write.
    await client.sequence([Assert(PREFIX + b"colour", b"blue"), Set(PREFIX + b"colour", b"red")])
    print(f"colour after the sequence -> {(await client.get(PREFIX + b'colour'))!r}")

    keys = await client.prefix(PREFIX)
    print(f"prefix -> {keys!r}")

    # A dirty read may be served by a slave, and may be one update behind.
    stale_or_not = await client.get(PREFIX + b"greeting", consistency=NoGuarantees)
    print(f"dirty read -> {stale_or_not!r}")

    deleted = await client.delete_prefix(PREFIX)
    print(f"delete_prefix -> {deleted} keys deleted")


async def run(reactor: Any, ini: str | None) -> None:
    cluster = None
    if ini is None:
        from txarakoon.testing import ArakoonCluster

        cluster = ArakoonCluster(3)
        cluster.listen(reactor)  # free loopback ports
        config = ClusterConfig.from_ini(cluster.ini())
        print(f"started an in-memory cluster: {cluster.nodes_spec()}")
    else:
        config = ClusterConfig.from_ini(ini)
    client = ArakoonClient(config, reactor)
    try:
        await tour(client)
    finally:
        await client.disconnect()
        if cluster is not None:
            await cluster.stop()
    print("done")


def main(argv: list[str] | None = None) -> None:
    """Run the tour; ``task.react`` exits with status 0 on success."""
    args = sys.argv[1:] if argv is None else argv
    ini = args[0] if args else None
    task.react(lambda reactor: Deferred.fromCoroutine(run(reactor, ini)))


if __name__ == "__main__":
    main()
