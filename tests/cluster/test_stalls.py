"""ArakoonClient and a master that stops answering without closing its
connections (``cluster.freeze``: a paused process), against the in-memory
cluster on one task.Clock; and a master that is silent but healthy (a slow
reply, a client cut off from it), which the client must not leave.

The stall check (txarakoon/cluster/stalls.py) asks the other nodes who is
master once the master's connection has received nothing for
``stall_interval`` (1 s by default) while replies are owed, and leaves it only
once they have elected another."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txarakoon import errors
from txarakoon.cluster import ArakoonClient
from txarakoon.protocol import SilenceTimeout

from ..helpers.inmemory import (
    clock_of,
    memory_client,
    memory_cluster,
    run_for,
    run_until,
)

#: The lease of the measurements of issue 16, and a quick election after it.
LEASE = 4.0
ELECTION = 0.5
#: The goal: serving again this soon after the new master's election.
BOUND = 2.0
CALLS = 400


@dataclass
class FreezeUnderLoad:
    """What happened when the master was frozen with 400 calls made at once
    (even ``i``: ``set(w####, v####)``; odd: ``get(r####)``), 50 written."""

    outcomes: dict[int, list[tuple[float, Any]]] = field(default_factory=dict)
    acked_before_freeze: set[int] = field(default_factory=set)
    frozen_at: float = 0.0
    elected_at: float = 0.0
    writes_applied: int = 0
    present: dict[bytes, bytes] = field(default_factory=dict)
    client_master: str | None = None
    after_thaw: dict[int, list[tuple[float, Any]]] = field(default_factory=dict)
    master_after_thaw: str | None = None
    reads_after_thaw: list[Any] = field(default_factory=list)
    timers_left: list[Any] = field(default_factory=list)


@functools.cache
def freeze_under_load() -> FreezeUnderLoad:
    """The scenario, run once for the tests below.

    The master writes each reply 20 ms after executing its request: when it
    is frozen, some writes were acknowledged, some executed and not yet
    acknowledged, the rest of the 50 written wait unread, and 350 calls wait
    unsent in the client."""
    cluster = memory_cluster(3, lease_period=LEASE, election_delay=ELECTION, lease_renewals=False)
    cluster.seed({b"r%04d" % i: b"x%04d" % i for i in range(CALLS)})
    client = memory_client(cluster, max_in_flight=50)
    run_until(cluster, client.set(b"a", b"1"))
    clock = clock_of(cluster)
    cluster["n0"].delay_replies(0.02)
    txid = cluster.txid
    scenario = FreezeUnderLoad()
    calls: list[Deferred[Any]] = []
    for i in range(CALLS):
        call = client.set(b"w%04d" % i, b"v%04d" % i) if i % 2 == 0 else client.get(b"r%04d" % i)
        scenario.outcomes[i] = []
        call.addBoth(lambda outcome, i=i: scenario.outcomes[i].append((clock.seconds(), outcome)))
        calls.append(call)
    run_for(cluster, 0.3, step=0.01)
    scenario.acked_before_freeze = {
        i for i, seen in scenario.outcomes.items() if i % 2 == 0 and seen and seen[0][1] is None
    }
    scenario.frozen_at = clock.seconds()
    cluster.freeze("n0")
    while not all(scenario.outcomes.values()):
        assert clock.seconds() < scenario.frozen_at + 60, "calls still pending"
        clock.advance(0.01)
        cluster.flush()
        cluster.keep_time()
        if not scenario.elected_at and cluster.master not in (None, "n0"):
            scenario.elected_at = clock.seconds()
    scenario.writes_applied = cluster.txid - txid
    scenario.present = {key: value for key, value in cluster.store.items() if key[:1] == b"w"}
    scenario.client_master = client.master
    cluster.thaw("n0")
    run_for(cluster, 2 * LEASE)
    scenario.after_thaw = {i: list(seen) for i, seen in scenario.outcomes.items()}
    scenario.master_after_thaw = cluster.master
    reads = [client.get(b"r%04d" % i) for i in (1, 3, 5)]
    run_until(cluster, *reads)
    scenario.reads_after_thaw = [outcome for read in reads for outcome in _result(read)]
    run_until(cluster, client.disconnect())
    scenario.timers_left = clock.getDelayedCalls()
    return scenario


def _result(deferred: Deferred[Any]) -> list[Any]:
    found: list[Any] = []
    deferred.addBoth(found.append)
    return found


def _requests_to(client: ArakoonClient, name: str) -> int:
    connection = client.connection(name)
    return 0 if connection is None else connection.requests_sent


def _failures(scenario: FreezeUnderLoad) -> dict[int, tuple[float, BaseException]]:
    return {
        i: (seen[0][0], seen[0][1].value)
        for i, seen in scenario.outcomes.items()
        if isinstance(seen[0][1], Failure)
    }


class FrozenMasterUnderLoadTests(SynchronousTestCase):
    def test_every_call_fires_once(self) -> None:
        scenario = freeze_under_load()
        self.assertEqual([len(seen) for seen in scenario.outcomes.values()], [1] * CALLS)

    def test_reads_are_retried_on_the_new_master(self) -> None:
        scenario = freeze_under_load()
        reads = {i: seen[0][1] for i, seen in scenario.outcomes.items() if i % 2}
        self.assertEqual(reads, {i: b"x%04d" % i for i in reads})

    def test_only_writes_written_to_the_frozen_master_have_an_unknown_outcome(self) -> None:
        failures = _failures(freeze_under_load())
        # 50 requests were written when it froze; those not answered are
        # the writes among them (the reads were retried).
        self.assertTrue(failures)
        self.assertLess(len(failures), 25 + 1)
        for i, (_, error) in failures.items():
            self.assertEqual(i % 2, 0)
            self.assertIsInstance(error, errors.OutcomeUnknown)
            self.assertIsInstance(error.reason, errors.ConnectionLost)
            self.assertIsInstance(error.reason.reason, SilenceTimeout)
            self.assertIn("n1 is master now", str(error))

    def test_written_writes_fail_at_one_moment_after_the_election(self) -> None:
        scenario = freeze_under_load()
        moments = {moment for moment, _ in _failures(scenario).values()}
        self.assertEqual(len(moments), 1)
        (moment,) = moments
        self.assertGreaterEqual(moment, scenario.elected_at)

    def test_writes_never_written_are_applied_once_on_the_new_master(self) -> None:
        scenario = freeze_under_load()
        failed = set(_failures(scenario))
        late = {i for i in range(0, CALLS, 2)} - failed - scenario.acked_before_freeze
        self.assertGreater(len(late), 150)
        for i in late:
            self.assertEqual(scenario.present[b"w%04d" % i], b"v%04d" % i)
        self.assertEqual(scenario.writes_applied, len(scenario.present))

    def test_every_write_acknowledged_before_the_freeze_is_kept(self) -> None:
        scenario = freeze_under_load()
        self.assertTrue(scenario.acked_before_freeze)
        for i in scenario.acked_before_freeze:
            self.assertEqual(scenario.present[b"w%04d" % i], b"v%04d" % i)

    def test_the_client_serves_again_within_the_bound_after_the_election(self) -> None:
        scenario = freeze_under_load()
        self.assertTrue(scenario.elected_at)
        finished = max(seen[0][0] for seen in scenario.outcomes.values())
        self.assertLessEqual(finished - scenario.elected_at, BOUND)
        self.assertEqual(scenario.client_master, "n1")

    def test_a_thawed_old_master_rejoins_as_a_slave_and_no_late_answer_reaches_a_caller(
        self,
    ) -> None:
        scenario = freeze_under_load()
        self.assertEqual(scenario.master_after_thaw, "n1")
        self.assertEqual(scenario.after_thaw, scenario.outcomes)
        self.assertEqual([len(seen) for seen in scenario.after_thaw.values()], [1] * CALLS)
        self.assertEqual(scenario.reads_after_thaw, [b"x0001", b"x0003", b"x0005"])

    def test_nothing_is_left_on_the_clock_after_disconnect(self) -> None:
        self.assertEqual(freeze_under_load().timers_left, [])


class HealthySilentMasterTests(SynchronousTestCase):
    """Silence with the others still naming the master: no abort."""

    def test_a_slow_reply_from_a_healthy_master_is_waited_for(self) -> None:
        cluster = memory_cluster(3, lag=0)
        cluster.seed({b"k": b"v"})
        client = memory_client(cluster)
        run_until(cluster, client.set(b"a", b"1"))
        connection = client.connection("n0")
        asked = _requests_to(client, "n1"), _requests_to(client, "n2")
        cluster["n0"].delay_replies(5.0)
        read, write = client.get(b"k"), client.set(b"b", b"2")
        finished = run_until(cluster, read, write)
        self.assertEqual(self.successResultOf(read), b"v")
        self.assertIsNone(self.successResultOf(write))
        self.assertGreaterEqual(finished, 5.0)
        self.assertIs(client.connection("n0"), connection)
        # The others were asked, and named n0.
        self.assertGreater(_requests_to(client, "n1"), asked[0])
        self.assertGreater(_requests_to(client, "n2"), asked[1])

    def test_a_client_cut_off_from_a_healthy_master_keeps_its_deadline(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster, timeout=5.0)
        run_until(cluster, client.set(b"a", b"1"))
        connection = client.connection("n0")
        asked = _requests_to(client, "n1")
        cluster["n0"].stall()  # it keeps its lease: the others name it
        read, write = client.get(b"a"), client.set(b"b", b"2")
        finished = run_until(cluster, read, write)
        error = self.failureResultOf(read, errors.RequestTimeout).value
        self.assertIsNone(error.applied)
        unknown = self.failureResultOf(write, errors.OutcomeUnknown).value
        self.assertIsInstance(unknown.reason, errors.RequestTimeout)
        self.assertLessEqual(abs(finished - 5.0), 0.1)
        self.assertIs(client.connection("n0"), connection)
        assert connection is not None
        self.assertTrue(connection.connected)
        self.assertGreater(_requests_to(client, "n1"), asked)

    def test_a_client_cut_off_from_a_healthy_master_still_leaves_it_after_the_silence_timeout(
        self,
    ) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster, timeout=60.0, silence_timeout=10.0)
        run_until(cluster, client.set(b"a", b"1"))
        cluster["n0"].stall()
        write = client.set(b"b", b"2")
        finished = run_until(cluster, write)
        unknown = self.failureResultOf(write, errors.OutcomeUnknown).value
        self.assertIsInstance(unknown.reason, errors.ConnectionLost)
        self.assertLessEqual(abs(finished - 10.0), 0.1)


class DedicatedAdminConnectionTests(SynchronousTestCase):
    def test_calls_do_not_wait_behind_drop_master(self) -> None:
        cluster = memory_cluster(3, lease_period=LEASE, election_delay=ELECTION)
        cluster.seed({b"k": b"v"})
        client = memory_client(cluster)
        run_until(cluster, client.get(b"k"))
        connection = client.connection("n0")
        dropped = client.node("n0").drop_master()
        cluster.flush()
        read = client.get(b"k")
        run_until(cluster, read, limit=0.5)
        self.assertEqual(self.successResultOf(read), b"v")
        self.assertNoResult(dropped)
        run_until(cluster, dropped)
        self.assertIsNone(self.successResultOf(dropped))
        self.assertIs(client.connection("n0"), connection)
