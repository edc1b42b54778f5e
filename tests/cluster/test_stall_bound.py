"""The stall check's two promises, for each lease: a client serves again
within 2 s of the new master's election, and it asks the other nodes no more
than one round of ``who_master`` per second (none before ``stall_interval``)
while the master is healthy but silent, against the in-memory cluster on one
task.Clock.

The client knows the lease from its configuration, as from an ``.ini``:
``stall_interval`` is then a quarter of it (1 s for a 4 s lease, 2.5 s for
Arakoon's default 10 s), or 1 s when it is not given."""

from __future__ import annotations

import random
from typing import Any

import pytest
from twisted.internet.defer import Deferred

from txarakoon import errors
from txarakoon.cluster import ArakoonClient
from txarakoon.config import ClusterConfig
from txarakoon.testing import ArakoonCluster

from ..helpers.inmemory import MemoryEndpoints, clock_of, config_for, memory_cluster, run_until

#: The goal: serving again this soon after the new master's election.
BOUND = 2.0
#: Leases of the cluster, and whether the client's configuration gives it.
LEASES = [(4.0, True), (10.0, True), (10.0, False)]
#: Delays between a lease's expiry and the election: where the election falls
#: between two rounds of questions.
ELECTION_DELAYS = [0.1, 0.4, 0.7, 1.0]


def client_of(cluster: ArakoonCluster, *, lease_known: bool, **settings: Any) -> ArakoonClient:
    """A client of ``cluster`` in memory whose configuration gives the
    cluster's lease if ``lease_known``."""
    config = config_for(cluster)
    if lease_known:
        config = ClusterConfig(config.cluster_id, config.nodes, lease_period=cluster.lease_period)
    return ArakoonClient(
        config,
        cluster.clock,
        endpoint_factory=MemoryEndpoints(cluster),
        random=random.Random(5),
        **settings,
    )


def recovery_after_freeze(lease: float, lease_known: bool, election_delay: float) -> float:
    """Seconds from the new master's election to the last of 40 calls made
    on the master (20 written, the rest unsent) just before it froze."""
    cluster = memory_cluster(3, lease_period=lease, election_delay=election_delay)
    cluster.seed({b"r%02d" % i: b"x" for i in range(40)})
    client = client_of(cluster, lease_known=lease_known, max_in_flight=20)
    run_until(cluster, client.set(b"a", b"1"))
    clock = clock_of(cluster)
    cluster["n0"].delay_replies(0.02)
    calls: list[Deferred[Any]] = [
        client.set(b"w%02d" % i, b"v") if i % 2 == 0 else client.get(b"r%02d" % i)
        for i in range(40)
    ]
    finished: list[float] = []
    for call in calls:
        call.addErrback(lambda failure: failure.trap(errors.OutcomeUnknown))
        call.addBoth(lambda _: finished.append(clock.seconds()))
    cluster.flush()
    cluster.freeze("n0")
    elected_at = None
    while len(finished) < len(calls):
        assert clock.seconds() < 60, "calls still pending"
        clock.advance(0.01)
        cluster.flush()
        cluster.keep_time()
        if elected_at is None and cluster.master not in (None, "n0"):
            elected_at = clock.seconds()
    assert elected_at is not None
    assert client.master == cluster.master
    return max(finished) - elected_at


@pytest.mark.parametrize("election_delay", ELECTION_DELAYS)
@pytest.mark.parametrize(("lease", "lease_known"), LEASES)
def test_a_frozen_master_is_left_within_two_seconds_of_the_election(
    lease: float, lease_known: bool, election_delay: float
) -> None:
    assert recovery_after_freeze(lease, lease_known, election_delay) <= BOUND


def questions_during_a_slow_reply(lease: float, lease_known: bool, delay: float) -> list[int]:
    """The ``who_master`` questions each other node was asked while a
    healthy master took ``delay`` seconds to answer a read."""
    cluster = memory_cluster(3, lease_period=lease, lag=0)
    cluster.seed({b"k": b"v"})
    client = client_of(cluster, lease_known=lease_known, timeout=60.0)
    run_until(cluster, client.set(b"a", b"1"))
    connection = client.connection("n0")
    before = {name: _requests_to(client, name) for name in ("n1", "n2")}
    cluster["n0"].delay_replies(delay)
    read = client.get(b"k")
    run_until(cluster, read)
    assert read.result == b"v"
    assert client.connection("n0") is connection
    return [_requests_to(client, name) - asked for name, asked in before.items()]


def _requests_to(client: ArakoonClient, name: str) -> int:
    connection = client.connection(name)
    return 0 if connection is None else connection.requests_sent


@pytest.mark.parametrize(
    ("lease", "lease_known", "delay", "rounds"),
    [
        # stall_interval 2.5 s: asked at 2.5, then every second (3.5, 4.5, 5.5).
        (10.0, True, 6.0, 4),
        # stall_interval 1 s: asked every second (1 to 5).
        (10.0, False, 5.5, 5),
        (4.0, True, 5.5, 5),
        # Nobody is asked before stall_interval.
        (10.0, True, 2.4, 0),
    ],
)
def test_a_slow_healthy_master_costs_one_round_of_questions_a_second(
    lease: float, lease_known: bool, delay: float, rounds: int
) -> None:
    assert questions_during_a_slow_reply(lease, lease_known, delay) == [rounds, rounds]
