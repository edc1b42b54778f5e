"""A cluster over time (PROTOCOL.md D24, D27, D31): lease renewals are updates,
and the ``drop_master`` command only stops renewing the lease; and a frozen
in-memory master, over loopback sockets.

Each test runs on the in-memory cluster on a Clock, and on a real cluster
when ``TXARAKOON_TEST_NODES`` names one and ``TXARAKOON_TEST_LEASE`` gives its
lease (without it they skip there). Bounds are in leases, wide enough for a
real cluster; in memory the times are exact.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
import pytest_twisted
from twisted.internet.task import deferLater

from txarakoon.consistency import AtLeast, NoGuarantees
from txarakoon.errors import InconsistentRead, NotFound, NotMaster

from .support import NODES_VARIABLE, TIMEOUT, InMemory, Keys, Target, reactor
from .timeline import MemoryTimeline, RealTimeline, Timeline, names_another_master, real_lease

ensure = pytest_twisted.ensureDeferred


@pytest.fixture
def timeline(request: pytest.FixtureRequest) -> Iterator[Timeline]:
    made: Timeline
    if os.environ.get(NODES_VARIABLE):
        lease = real_lease()
        target: Target = request.getfixturevalue("target")
        made = RealTimeline(target, lease)
    else:
        made = MemoryTimeline()
    yield made
    made.close()


@pytest.fixture
def prefix(timeline: Timeline, request: pytest.FixtureRequest) -> Keys:
    # A real cluster is shared: write under a fresh prefix, deleted afterwards.
    if timeline.real:
        keys: Keys = request.getfixturevalue("keys")
        return keys
    return Keys()


def slave_of(timeline: Timeline, master: str) -> str:
    return next(name for name in timeline.names if name != master)


# -- D24, D31: lease renewals are updates -------------------------------------------


@ensure
async def test_an_idle_clusters_txid_advances_by_itself(timeline: Timeline) -> None:
    master = await timeline.connect(timeline.master())
    before = await timeline.done(master.get_txid())
    await timeline.wait(timeline.lease)
    after = await timeline.done(master.get_txid())
    assert isinstance(before, AtLeast) and isinstance(after, AtLeast)
    assert after.i > before.i


@ensure
async def test_a_slave_one_update_behind_catches_up_without_a_write(
    timeline: Timeline, prefix: Keys
) -> None:
    name = timeline.master()
    master = await timeline.connect(name)
    slave = await timeline.connect(slave_of(timeline, name))
    await timeline.done(master.set(prefix("k"), b"v"))
    txid = await timeline.done(master.get_txid())

    async def fresh() -> bool:
        try:
            return await timeline.done(slave.get(prefix("k"), consistency=txid)) == b"v"
        except InconsistentRead:
            return False

    took = await timeline.until(fresh, within=2 * timeline.lease)
    assert took <= timeline.lease
    assert slave.connected


@ensure
async def test_a_dirty_read_on_an_idle_slave_becomes_fresh_by_itself(
    timeline: Timeline, prefix: Keys
) -> None:
    name = timeline.master()
    master = await timeline.connect(name)
    slave = await timeline.connect(slave_of(timeline, name))
    await timeline.done(master.set(prefix("k"), b"v"))

    async def fresh() -> bool:
        try:
            return await timeline.done(slave.get(prefix("k"), consistency=NoGuarantees)) == b"v"
        except NotFound:
            return False

    assert await timeline.until(fresh, within=2 * timeline.lease) <= timeline.lease


# -- D27: drop_master only stops renewing the lease -------------------------------------


@ensure
async def test_after_drop_master_the_old_master_commits_writes_until_its_lease_runs_out(
    timeline: Timeline, prefix: Keys
) -> None:
    old = timeline.master()
    master = await timeline.connect(old)
    dropping = await timeline.connect(old)
    reply = dropping.drop_master()
    await timeline.wait(timeline.lease / 10)
    assert not reply.called
    assert await timeline.who_master(slave_of(timeline, old)) == old.encode()
    await timeline.done(master.set(prefix("k"), b"v"))
    await timeline.until(
        lambda: names_another_master(timeline, old, old), within=3 * timeline.lease
    )
    new = await timeline.connect(timeline.master())
    assert await timeline.done(new.get(prefix("k"))) == b"v"
    await timeline.answer(reply, within=2 * timeline.lease)


@ensure
async def test_drop_master_answers_about_half_a_lease_after_another_node_took_over(
    timeline: Timeline,
) -> None:
    old = timeline.master()
    dropping = await timeline.connect(old)
    reply = dropping.drop_master()
    taking_over = await timeline.until(
        lambda: names_another_master(timeline, slave_of(timeline, old), old),
        within=3 * timeline.lease,
    )
    assert taking_over >= timeline.lease / 2
    assert not reply.called
    after, _ = await timeline.answer(reply, within=2 * timeline.lease)
    assert timeline.lease / 5 <= after <= timeline.lease


# -- freeze, on loopback sockets (only the in-memory cluster can freeze) ------------


@ensure
async def test_a_frozen_master_keeps_its_socket_open_and_once_thawed_answers_not_master(
    in_memory: InMemory,
) -> None:
    cluster = in_memory.start(lease_period=0.2, election_delay=0.05)
    master = await in_memory.connect(cluster)
    cluster.freeze("n0")
    written = master.set(b"k", b"v")
    deadline = time.monotonic() + TIMEOUT
    while cluster.master != "n1":
        assert time.monotonic() < deadline, "no new master"
        await deferLater(reactor(), 0.02, lambda: None)
    assert not written.called
    assert master.connected
    cluster.thaw("n0")
    with pytest.raises(NotMaster) as caught:
        await written
    assert caught.value.message == b"n1"
    assert b"k" not in cluster.store
