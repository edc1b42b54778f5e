"""The stall check, step by step, on fake nodes that answer only when the test
flushes (so that the test decides when each byte arrives), on a task.Clock."""

from __future__ import annotations

import random
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from txarakoon import errors, messages
from txarakoon.cluster import ArakoonClient
from txarakoon.cluster.links import NodeProtocol
from txarakoon.consistency import Consistent
from txarakoon.replies import encode_success

from .fakes import FakeCluster, FakeConnection

SILENCE = 100.0
TIMEOUT = 50.0


class StallCheckTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.cluster = FakeCluster()
        self.clock = self.cluster.clock
        self.cluster.store[b"k"] = b"v"

    def connected_client(self, **settings: Any) -> ArakoonClient:
        """A client that knows the master n0 and holds its connection, with
        the clock still at 0."""
        settings.setdefault("random", random.Random(7))
        settings.setdefault("silence_timeout", SILENCE)
        settings.setdefault("timeout", TIMEOUT)
        client = ArakoonClient(
            self.cluster.config,
            self.clock,
            endpoint_factory=self.cluster.endpoint_factory,
            **settings,
        )
        first = client.get(b"k")
        self.cluster.flush()
        self.assertEqual(self.successResultOf(first), b"v")
        self.assertEqual(client.master, "n0")
        self.asked_before = {name: self.questions(name) for name in self.cluster.nodes}
        return client

    def master_connection(self, client: ArakoonClient) -> NodeProtocol:
        connection = client.connection("n0")
        assert connection is not None
        return connection

    def fake_connection(self, name: str) -> FakeConnection:
        (connection,) = (c for c in self.cluster.nodes[name].connections if c.open)
        return connection

    def questions(self, name: str) -> int:
        """The ``who_master`` questions ``name`` answered (since the client
        was connected, once it is)."""
        asked = self.cluster.nodes[name].handled.count("who_master")
        return asked - getattr(self, "asked_before", {}).get(name, 0)

    def timer_times(self) -> list[float]:
        return sorted(call.getTime() for call in self.clock.getDelayedCalls())


class LeavingTests(StallCheckTestCase):
    def test_another_validated_master_and_no_byte_leave_the_connection_at_once(self) -> None:
        client = self.connected_client()
        connection = self.master_connection(client)
        self.cluster.nodes["n0"].silent = True
        read, write = client.get(b"k"), client.set(b"a", b"1")
        self.cluster.master = "n1"
        self.clock.advance(1.0)
        self.cluster.flush()  # n1 and n2 answer: n1 is master
        error = self.failureResultOf(write, errors.OutcomeUnknown).value
        self.assertIsInstance(error.reason, errors.ConnectionLost)
        self.assertIn("n1 is master now", str(error))
        self.assertFalse(connection.connected)
        self.assertEqual(self.cluster.writes, [])
        self.assertEqual(self.clock.seconds(), 1.0)
        self.assertNoResult(read)  # retried after a backoff
        self.cluster.run(1.0)
        self.assertEqual(self.successResultOf(read), b"v")
        self.assertEqual(client.master, "n1")

    def test_a_node_that_does_not_answer_does_not_hold_the_round_up(self) -> None:
        client = self.connected_client(connect_timeout=5.0)
        self.cluster.nodes["n0"].silent = True
        self.cluster.nodes["n2"].silent = True
        write = client.set(b"a", b"1")
        self.cluster.master = "n1"
        self.clock.advance(1.0)
        self.cluster.flush()  # n1 names itself; n2 says nothing
        self.failureResultOf(write, errors.OutcomeUnknown)
        self.assertEqual(self.clock.seconds(), 1.0)

    def test_requests_never_written_go_to_the_new_master(self) -> None:
        client = self.connected_client(max_in_flight=1)
        self.cluster.nodes["n0"].silent = True
        written, unsent = client.get(b"k"), client.set(b"a", b"1")
        self.cluster.master = "n1"
        self.clock.advance(1.0)
        self.cluster.flush()
        self.cluster.run(1.0)
        self.assertEqual(self.successResultOf(written), b"v")
        self.assertIsNone(self.successResultOf(unsent))
        self.assertEqual(self.cluster.writes, [b"a"])

    def test_nothing_is_left_on_the_clock_once_the_calls_are_done(self) -> None:
        client = self.connected_client()
        self.cluster.nodes["n0"].silent = True
        read = client.get(b"k")
        self.cluster.master = "n1"
        self.clock.advance(1.0)
        self.cluster.run(1.0)
        self.successResultOf(read)
        self.assertEqual(self.clock.getDelayedCalls(), [])


class WaitingTests(StallCheckTestCase):
    def test_a_reply_arriving_during_the_round_is_never_a_stall(self) -> None:
        client = self.connected_client()
        self.cluster.nodes["n0"].silent = True
        read = client.get(b"k")
        self.cluster.master = "n1"
        self.clock.advance(1.0)  # the round asks n1 and n2
        reply = encode_success(messages.GET.result, b"v")
        self.fake_connection("n0").protocol.dataReceived(reply[:3])
        self.cluster.flush()  # they name n1, but n0 is answering
        self.assertTrue(self.master_connection(client).connected)
        self.assertNoResult(read)
        self.fake_connection("n0").protocol.dataReceived(reply[3:])
        self.assertEqual(self.successResultOf(read), b"v")

    def test_a_byte_resets_the_silence_before_the_others_are_asked(self) -> None:
        client = self.connected_client()
        self.cluster.nodes["n0"].silent = True
        client.get(b"k")
        reply = encode_success(messages.GET.result, b"v")
        self.clock.advance(0.75)
        self.fake_connection("n0").protocol.dataReceived(reply[:1])
        self.clock.advance(0.75)
        self.assertEqual(self.questions("n1") + self.questions("n2"), 0)
        self.clock.advance(0.25)
        self.cluster.flush()
        self.assertEqual((self.questions("n1"), self.questions("n2")), (1, 1))

    def test_the_others_naming_the_same_master_keep_the_connection(self) -> None:
        client = self.connected_client()
        self.cluster.nodes["n0"].silent = True
        read = client.get(b"k")
        for _ in range(3):
            self.clock.advance(1.0)
            self.cluster.flush()
        self.assertEqual((self.questions("n1"), self.questions("n2")), (3, 3))
        self.assertTrue(self.master_connection(client).connected)
        self.cluster.nodes["n0"].silent = False
        self.cluster.flush()
        self.assertEqual(self.successResultOf(read), b"v")

    def test_once_a_stall_is_suspected_the_others_are_asked_every_second(self) -> None:
        client = self.connected_client(stall_interval=2.5)
        self.cluster.nodes["n0"].silent = True
        client.get(b"k")
        self.clock.advance(2.4)
        self.assertEqual(self.questions("n1"), 0)
        self.clock.advance(0.1)
        self.cluster.flush()  # they name n0
        for _ in range(3):
            self.clock.advance(1.0)
            self.cluster.flush()
        self.assertEqual((self.questions("n1"), self.questions("n2")), (4, 4))

    def test_after_a_byte_the_next_round_waits_a_whole_interval_again(self) -> None:
        client = self.connected_client(stall_interval=2.5)
        self.cluster.nodes["n0"].silent = True
        client.get(b"k")
        self.clock.advance(2.5)
        self.cluster.flush()
        self.clock.advance(1.0)
        self.cluster.flush()
        self.assertEqual(self.questions("n1"), 2)
        reply = encode_success(messages.GET.result, b"v")
        self.fake_connection("n0").protocol.dataReceived(reply[:1])  # at 3.5 s
        self.cluster.run(2.4)
        self.assertEqual(self.questions("n1"), 2)
        self.cluster.run(0.2)
        self.assertEqual(self.questions("n1"), 3)

    def test_no_master_named_keeps_the_connection(self) -> None:
        client = self.connected_client()
        self.cluster.nodes["n0"].silent = True
        read = client.get(b"k")
        self.cluster.master = None
        self.clock.advance(1.0)
        self.cluster.flush()
        self.assertTrue(self.master_connection(client).connected)
        self.assertNoResult(read)

    def test_a_master_named_by_another_but_not_by_itself_keeps_the_connection(self) -> None:
        client = self.connected_client()
        self.cluster.nodes["n0"].silent = True
        read = client.get(b"k")
        self.cluster.nodes["n2"].believes, self.cluster.nodes["n2"].believes_set = "n1", True
        self.clock.advance(1.0)
        self.cluster.flush()  # n1 names n0
        self.assertTrue(self.master_connection(client).connected)
        self.assertNoResult(read)

    def test_one_round_at_a_time(self) -> None:
        client = self.connected_client(connect_timeout=5.0)
        self.cluster.nodes["n0"].silent = True
        self.cluster.nodes["n1"].silent = True  # its answer waits for the question timeout
        client.get(b"k")
        for _ in range(4):
            self.clock.advance(1.0)
            self.cluster.flush()
        self.assertEqual(self.questions("n2"), 1)
        self.clock.advance(1.0)
        self.clock.advance(1.0)  # the first round is over at 6 s; the next starts
        self.cluster.flush()
        self.assertEqual(self.questions("n2"), 2)

    def test_the_silence_timeout_still_leaves_a_silent_master(self) -> None:
        client = self.connected_client(silence_timeout=3.0)
        self.cluster.nodes["n0"].silent = True
        write = client.set(b"a", b"1")
        self.cluster.run(2.9)
        self.assertNoResult(write)
        self.cluster.run(0.2)
        error = self.failureResultOf(write, errors.OutcomeUnknown).value
        self.assertIsInstance(error.reason, errors.ConnectionLost)


class WhatIsWatchedTests(StallCheckTestCase):
    def test_the_master_connection_is_checked_after_the_stall_interval(self) -> None:
        client = self.connected_client(stall_interval=0.25)
        self.cluster.nodes["n0"].silent = True
        client.get(b"k")
        self.assertEqual(self.timer_times(), [0.25, TIMEOUT])

    def test_a_dirty_read_node_is_timed_by_the_silence_timeout_alone(self) -> None:
        client = self.connected_client(read_node="n2")
        self.cluster.nodes["n2"].silent = True
        read = client.get(b"k", allow_dirty=True)
        self.assertNoResult(read)
        self.assertEqual(self.timer_times(), [TIMEOUT, SILENCE])

    def test_a_one_node_cluster_has_no_stall_check(self) -> None:
        self.cluster = FakeCluster(names=("n0",))
        self.clock = self.cluster.clock
        self.cluster.store[b"k"] = b"v"
        client = self.connected_client()
        self.cluster.nodes["n0"].silent = True
        client.get(b"k", consistency=Consistent)
        self.assertEqual(self.timer_times(), [TIMEOUT, SILENCE])

    def test_an_infinite_stall_interval_turns_the_check_off(self) -> None:
        client = self.connected_client(stall_interval=float("inf"))
        self.cluster.nodes["n0"].silent = True
        client.get(b"k")
        self.assertEqual(self.timer_times(), [TIMEOUT, SILENCE])

    def test_disconnect_stops_a_round_under_way(self) -> None:
        client = self.connected_client()
        self.cluster.nodes["n0"].silent = True
        self.cluster.nodes["n1"].silent = True
        self.cluster.nodes["n2"].silent = True
        read = client.get(b"k")
        self.clock.advance(1.0)
        self.successResultOf(client.disconnect())
        self.failureResultOf(read, errors.NotConnectedError)
        self.assertEqual(self.clock.getDelayedCalls(), [])
