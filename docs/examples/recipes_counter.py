"""Recipes: a counter that several writers increment, exact through a failover.

Each writer stands for a program of its own, with its own cluster client;
all add one to the same counter with :func:`txarakoon.recipes.increment`,
which retries on a conflict and settles a write whose outcome is unknown by
its marker, so no increment is lost or counted twice. Without arguments it
starts an in-memory three-node Arakoon on loopback and kills its master
halfway through, while the writers write; the count still comes out exact.
Give it your cluster's ``.ini`` to run against a real cluster instead (no
node is killed; it uses, then deletes, the key ``txarakoon-example/visits``)::

    python docs/examples/recipes_counter.py [CLUSTER.ini]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from twisted.internet import task
from twisted.internet.defer import Deferred, gatherResults

from txarakoon.cluster import ArakoonClient
from txarakoon.config import ClusterConfig
from txarakoon.recipes import MARKER_PREFIX, increment, update

COUNTER = b"txarakoon-example/visits"
WRITERS = 4
VISITS = 25  # each writer's


async def writer(config: ClusterConfig, reactor: Any, halfway: Deferred[None]) -> None:
    """Count this writer's visits, one increment each."""
    client = ArakoonClient(config, reactor)
    try:
        for visit in range(VISITS):
            await increment(client, COUNTER)
            if visit == VISITS // 2 and not halfway.called:
                halfway.callback(None)
    finally:
        await client.disconnect()


async def count_visits(
    reactor: Any, config: ClusterConfig, at_halfway: Callable[[None], Any]
) -> int:
    """Run the writers side by side, from a counter of 0; the count they reach.
    ``at_halfway`` is called once a writer is halfway through."""
    client = ArakoonClient(config, reactor)
    try:
        # update() is the general form; fn returning None deletes the key.
        await update(client, COUNTER, lambda old: None)
        halfway: Deferred[None] = Deferred()
        halfway.addCallback(at_halfway)
        writers = [Deferred.fromCoroutine(writer(config, reactor, halfway)) for _ in range(WRITERS)]
        await gatherResults(writers, consumeErrors=True)
        count = int(await client.get(COUNTER))
        # Each update removed its markers once it was applied.
        left = await client.prefix(MARKER_PREFIX)
        if left:
            raise RuntimeError(f"markers left behind: {left!r}")
        await update(client, COUNTER, lambda old: None)
    finally:
        await client.disconnect()
    return count


async def run(reactor: Any, ini: str | None) -> None:
    if ini is not None:
        count = await count_visits(reactor, ClusterConfig.from_ini(ini), lambda _: None)
    else:
        from txarakoon.testing import ArakoonCluster

        # A short lease: a new master is elected some 3 s after a kill, not 11.
        cluster = ArakoonCluster(3, lease_period=2.0)
        cluster.listen(reactor)  # free loopback ports
        print(f"started an in-memory cluster: {cluster.nodes_spec()}")

        def kill_the_master(_: None) -> Deferred[None]:
            master = cluster.master
            assert master is not None
            print(f"halfway: killing the master, {master}, while the writers write")
            return cluster.kill(master)

        try:
            count = await count_visits(
                reactor, ClusterConfig.from_ini(cluster.ini()), kill_the_master
            )
            print(f"master now: {cluster.master}")
        finally:
            await cluster.stop()
    print(f"{WRITERS} writers x {VISITS} visits: the counter says {count}")
    if count != WRITERS * VISITS:
        raise RuntimeError(f"counted {count}, not {WRITERS * VISITS}")


def main(argv: list[str] | None = None) -> None:
    """Run it; ``task.react`` exits with status 0 on success."""
    args = sys.argv[1:] if argv is None else argv
    ini = args[0] if args else None
    task.react(lambda reactor: Deferred.fromCoroutine(run(reactor, ini)))


if __name__ == "__main__":
    main()
