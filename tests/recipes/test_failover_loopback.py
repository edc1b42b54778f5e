"""Eight writers increment one counter through the Twisted cluster client,
over real loopback sockets, while the master is killed twice in the middle
of a write: once after applying it (its reply held), once before (the
request held unexecuted). Every increment is applied exactly once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest_twisted
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.task import deferLater

from txarakoon import messages
from txarakoon.cluster import ArakoonClient
from txarakoon.config import ClusterConfig
from txarakoon.recipes import MARKER_PREFIX, increment
from txarakoon.testing import ArakoonCluster
from txarakoon.testing.holds import touching

WRITERS = 8
INCREMENTS = 50
KEY = b"counter"
#: A hang fails the test instead of blocking the run.
GUARD = 60.0


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


async def _until(condition: Callable[[], bool]) -> None:
    reactor = _reactor()
    waited = 0.0
    while not condition():
        assert waited < GUARD, "gave up waiting"
        await deferLater(reactor, 0.005)
        waited += 0.005


async def _writer(client: ArakoonClient, counts: list[int]) -> None:
    for _ in range(INCREMENTS):
        counts.append(await increment(client, KEY))


async def _kill_during_a_write(cluster: ArakoonCluster, applied: bool) -> str:
    """Kill the master while it holds a write of the counter (applied or
    not), elect another node, revive the dead one; the node killed."""
    master = cluster.master
    assert master is not None
    hold = cluster.hold_replies(master, touching(messages.SEQUENCE, KEY), applied=applied)
    await hold.when_held()
    assert hold.held == 1  # a write in flight, its client waiting
    await hold.kill()
    cluster.elect(next(node.name for node in cluster if node.alive))
    await cluster.revive(master)
    return master


@pytest_twisted.ensureDeferred
async def test_concurrent_increments_through_two_kills_mid_write_are_each_applied_once() -> None:
    reactor = _reactor()
    cluster = ArakoonCluster(3, election_delay=None)
    cluster.listen(reactor)
    config = ClusterConfig.from_spec(cluster.nodes_spec())
    clients = [
        ArakoonClient(config, reactor, timeout=GUARD, backoff=(0.005, 0.05)) for _ in range(WRITERS)
    ]
    counts: list[int] = []
    try:
        writing: Deferred[Any] = gatherResults(
            [Deferred.fromCoroutine(_writer(client, counts)) for client in clients],
            consumeErrors=True,
        )
        await _until(lambda: len(counts) >= 100)
        first = await _kill_during_a_write(cluster, applied=True)
        await _until(lambda: len(counts) >= 250)
        second = await _kill_during_a_write(cluster, applied=False)
        await writing.addTimeout(GUARD, reactor)

        assert cluster.store.get(KEY) == b"%d" % (WRITERS * INCREMENTS)
        # Each increment returned its own count: none applied twice, none lost.
        assert sorted(counts) == list(range(1, WRITERS * INCREMENTS + 1))
        assert await clients[0].prefix(MARKER_PREFIX) == []
        assert (first, second) == ("n0", "n1")
    finally:
        await gatherResults([client.disconnect() for client in clients])
        await cluster.stop()
