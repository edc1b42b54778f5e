"""The hot path of ArakoonClient: with the master known and connected, calls
go straight to its connection, under one deadline timer per client."""

from __future__ import annotations

import math
import random
from typing import Any

from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectionDone
from twisted.trial.unittest import SynchronousTestCase

from txarakoon import errors
from txarakoon.cluster import ArakoonClient

from .fakes import FakeCluster

#: Long enough to tell the connection's silence timer from a call's deadline.
SILENCE = 100.0


class HotPathTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.cluster = FakeCluster()
        self.clock = self.cluster.clock

    def connected_client(self, **settings: Any) -> ArakoonClient:
        """A client that knows the master and holds its connection, with the
        clock still at 0 (flushing answers without moving time)."""
        settings.setdefault("random", random.Random(7))
        settings.setdefault("silence_timeout", SILENCE)
        # The timers listed here are the deadlines' and the silence timer,
        # which the stall check would arm shorter (test_stalls.py).
        settings.setdefault("stall_interval", math.inf)
        client = ArakoonClient(
            self.cluster.config,
            self.clock,
            endpoint_factory=self.cluster.endpoint_factory,
            **settings,
        )
        self.cluster.store[b"k"] = b"v"
        first = client.get(b"k")
        self.cluster.flush()
        self.assertEqual(self.successResultOf(first), b"v")
        self.assertEqual(client.master, "n0")
        self.assertEqual(self.clock.seconds(), 0.0)
        return client

    def timer_times(self) -> list[float]:
        return sorted(call.getTime() for call in self.clock.getDelayedCalls())


class DeadlineTests(HotPathTestCase):
    def test_the_deadline_of_a_call_fires_exactly_on_time(self) -> None:
        client = self.connected_client(timeout=2.0)
        self.cluster.nodes["n0"].silent = True
        deferred = client.get(b"k")
        self.cluster.flush()
        self.clock.advance(1.75)
        self.assertNoResult(deferred)
        self.clock.advance(0.25)
        error = self.failureResultOf(deferred, errors.RequestTimeout).value
        self.assertIsNone(error.applied)
        self.assertEqual(self.clock.seconds(), 2.0)

    def test_many_calls_in_flight_arm_one_timer(self) -> None:
        client = self.connected_client(timeout=2.0)
        self.cluster.nodes["n0"].silent = True
        calls = [client.get(b"k") for _ in range(50)]
        self.cluster.flush()
        self.assertEqual(self.timer_times(), [2.0, SILENCE])
        for call in calls:
            self.assertNoResult(call)

    def test_the_timer_is_gone_once_the_calls_complete(self) -> None:
        client = self.connected_client(timeout=2.0)
        self.cluster.nodes["n0"].silent = True
        calls = [client.get(b"k") for _ in range(50)]
        self.cluster.flush()
        self.cluster.nodes["n0"].silent = False
        self.cluster.flush()
        self.assertEqual([self.successResultOf(call) for call in calls], [b"v"] * 50)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_calls_made_later_time_out_at_their_own_deadlines(self) -> None:
        client = self.connected_client(timeout=2.0)
        self.cluster.nodes["n0"].silent = True
        early = client.get(b"k")
        self.clock.advance(0.5)
        late = client.get(b"k")
        self.clock.advance(1.5)
        self.failureResultOf(early, errors.RequestTimeout)
        self.assertNoResult(late)
        self.assertEqual(self.timer_times(), [2.5, SILENCE])
        self.clock.advance(0.5)
        self.failureResultOf(late, errors.RequestTimeout)

    def test_a_shorter_timeout_fires_before_the_calls_made_earlier(self) -> None:
        client = self.connected_client(timeout=8.0)
        self.cluster.nodes["n0"].silent = True
        long = client.get(b"k")
        short = client.using(timeout=2.0).get(b"k")
        self.clock.advance(2.0)
        self.failureResultOf(short, errors.RequestTimeout)
        self.assertNoResult(long)
        self.clock.advance(6.0)
        self.failureResultOf(long, errors.RequestTimeout)

    def test_a_timed_out_write_has_an_unknown_outcome(self) -> None:
        client = self.connected_client(timeout=2.0)
        self.cluster.nodes["n0"].silent = True
        deferred = client.set(b"k", b"w")
        self.clock.advance(2.0)
        error = self.failureResultOf(deferred, errors.OutcomeUnknown).value
        self.assertIsInstance(error.reason, errors.RequestTimeout)


class RetryTests(HotPathTestCase):
    def test_a_retryable_failure_is_retried_on_the_new_master(self) -> None:
        client = self.connected_client()
        self.cluster.master = "n1"
        deferred = client.set(b"a", b"1")  # n0 answers NotMaster
        self.cluster.run(5)
        self.successResultOf(deferred)
        self.assertEqual(client.master, "n1")
        self.assertEqual(self.cluster.writes, [b"a"])

    def test_the_retry_keeps_the_deadline_of_the_call(self) -> None:
        client = self.connected_client(timeout=2.0)
        self.cluster.nodes["n0"].silent = True
        deferred = client.set(b"a", b"1")
        self.clock.advance(1.0)
        self.cluster.master = None
        self.cluster.nodes["n0"].silent = False
        self.cluster.flush()  # NotMaster at t=1: retried, but no master is found
        self.assertNoResult(deferred)
        self.cluster.run(0.95)
        self.failureResultOf(deferred, errors.NoMasterError)
        self.assertLessEqual(self.clock.seconds(), 2.0)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_a_failure_the_policy_raises_is_not_retried(self) -> None:
        client = self.connected_client()
        self.cluster.nodes["n0"].write_errors.append(errors.NoLongerMaster(b"lost"))
        deferred = client.set(b"a", b"1")
        self.cluster.flush()
        error = self.failureResultOf(deferred, errors.OutcomeUnknown).value
        self.assertIsInstance(error.reason, errors.NoLongerMaster)
        self.assertEqual(self.cluster.writes, [b"a"])
        self.assertEqual(self.clock.getDelayedCalls(), [])


class MasterConnectionTests(HotPathTestCase):
    """The calls that go straight to the master's connection follow what the
    client knows of the master, not the connection it used last."""

    def requests_to(self, client: ArakoonClient, name: str) -> int:
        connection = client.connection(name)
        return 0 if connection is None else connection.requests_sent

    def hot_client(self, **settings: Any) -> ArakoonClient:
        """A connected client whose calls have gone straight to n0's connection."""
        client = self.connected_client(**settings)
        read = client.get(b"k")
        self.cluster.flush()
        self.assertEqual(self.successResultOf(read), b"v")
        return client

    def test_a_master_found_by_who_master_takes_the_next_write_at_once(self) -> None:
        client = self.hot_client()
        self.cluster.master = "n1"
        asked = client.who_master()
        self.cluster.flush()
        self.assertEqual(self.successResultOf(asked), b"n1")
        before = self.requests_to(client, "n0")  # its connection is still up
        write = client.set(b"a", b"1")
        self.cluster.flush()
        self.successResultOf(write)
        self.assertEqual(self.requests_to(client, "n0"), before)
        self.assertEqual(self.cluster.writes, [b"a"])

    def test_a_dirty_read_goes_to_the_read_node_while_the_master_is_at_hand(self) -> None:
        client = self.hot_client(read_node="n2")
        before = {name: self.requests_to(client, name) for name in ("n0", "n2")}
        reads = [client.get(b"k", allow_dirty=True) for _ in range(2)]
        self.cluster.flush()
        self.assertEqual([self.successResultOf(read) for read in reads], [b"v", b"v"])
        self.assertEqual(self.requests_to(client, "n2"), before["n2"] + 2)
        self.assertEqual(self.requests_to(client, "n0"), before["n0"])

    def test_a_call_after_the_masters_connection_is_lost_reconnects(self) -> None:
        client = self.hot_client()
        for connection in self.cluster.nodes["n0"].connections:
            connection.lose(ConnectionDone())
        read = client.get(b"k")
        self.cluster.flush()
        self.assertEqual(self.successResultOf(read), b"v")
        self.assertEqual(client.master, "n0")

    def test_a_call_made_while_disconnecting_is_not_sent(self) -> None:
        client = self.hot_client()
        self.cluster.nodes["n0"].silent = True
        made: list[Any] = []

        def call_again(failure: Any) -> Any:
            # Run by disconnect(), before it closes the connections.
            made.append(client.get(b"k"))
            return failure

        read = client.get(b"k").addErrback(call_again)
        connection = client.connection("n0")
        assert connection is not None
        sent = connection.requests_sent
        client.disconnect()
        self.failureResultOf(read, errors.NotConnectedError)
        self.failureResultOf(made[0], errors.NotConnectedError)
        self.assertEqual(connection.requests_sent, sent)

    def test_a_call_after_a_stop_and_a_start_finds_the_master_again(self) -> None:
        client = self.hot_client()
        stopped = client.stopService()
        self.cluster.flush()
        self.successResultOf(stopped)
        self.failureResultOf(client.get(b"k"), errors.NotConnectedError)
        client.startService()
        read = client.get(b"k")
        self.cluster.flush()
        self.assertEqual(self.successResultOf(read), b"v")


class CancellationTests(HotPathTestCase):
    def test_a_cancelled_call_fails_and_later_replies_stay_matched(self) -> None:
        self.cluster.store[b"other"] = b"2"
        client = self.connected_client()
        self.cluster.nodes["n0"].silent = True
        first = client.get(b"k")
        second = client.get(b"other")
        self.cluster.flush()
        first.cancel()
        self.failureResultOf(first, CancelledError)
        self.cluster.nodes["n0"].silent = False
        self.cluster.flush()
        self.assertEqual(self.successResultOf(second), b"2")
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_cancelling_the_only_call_leaves_only_the_silence_timer(self) -> None:
        client = self.connected_client(timeout=2.0)
        self.cluster.nodes["n0"].silent = True
        deferred = client.get(b"k")
        deferred.cancel()
        self.failureResultOf(deferred, CancelledError)
        # Its request was written: the reply is still owed, and timed.
        self.assertEqual(self.timer_times(), [SILENCE])

    def test_cancelling_a_call_being_retried_stops_the_retry(self) -> None:
        client = self.connected_client()
        self.cluster.master = None
        deferred = client.set(b"a", b"1")
        self.cluster.flush()  # NotMaster: now in the retry loop's backoff
        self.assertNoResult(deferred)
        deferred.cancel()
        self.failureResultOf(deferred, CancelledError)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_disconnect_fails_a_pending_call_as_not_connected(self) -> None:
        client = self.connected_client()
        self.cluster.nodes["n0"].silent = True
        read = client.get(b"k")
        write = client.set(b"k", b"w")
        self.cluster.flush()
        client.disconnect()
        self.failureResultOf(read, errors.NotConnectedError)
        error = self.failureResultOf(write, errors.OutcomeUnknown).value
        self.assertIsInstance(error.reason, errors.NotConnectedError)
        self.assertEqual(self.clock.getDelayedCalls(), [])


class FollowingTests(HotPathTestCase):
    def test_a_call_being_retried_is_not_called_until_its_retry_ends(self) -> None:
        client = self.connected_client()
        self.cluster.master = "n1"
        deferred = client.set(b"a", b"1")  # n0 answers NotMaster
        self.cluster.flush()
        self.assertFalse(deferred.called)
        self.cluster.run(5)
        self.assertIsNone(self.successResultOf(deferred))

    def test_an_unsent_write_past_its_deadline_was_not_applied(self) -> None:
        client = self.connected_client(timeout=2.0, max_in_flight=1)
        self.cluster.nodes["n0"].silent = True
        read = client.get(b"k")
        write = client.set(b"k", b"w")  # waits, unsent, behind the read
        self.clock.advance(2.0)
        self.failureResultOf(read, errors.RequestTimeout)
        error = self.failureResultOf(write, errors.RequestTimeout).value
        self.assertIs(error.applied, False)

    def test_disconnect_fails_an_unsent_write_as_not_connected(self) -> None:
        client = self.connected_client(max_in_flight=1)
        self.cluster.nodes["n0"].silent = True
        read = client.get(b"k")
        write = client.set(b"k", b"w")  # waits, unsent, behind the read
        client.disconnect()
        self.failureResultOf(read, errors.NotConnectedError)
        self.failureResultOf(write, errors.NotConnectedError)
        self.assertEqual(self.cluster.writes, [])
