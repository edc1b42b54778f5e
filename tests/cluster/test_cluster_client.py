"""ArakoonClient against fake endpoints on a task.Clock: discovery, routing,
retries, deadlines and cancellation, deterministically."""

from __future__ import annotations

import random
from typing import Any

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.error import ConnectionDone
from twisted.trial.unittest import SynchronousTestCase

from txarakoon import errors
from txarakoon.cluster import ArakoonClient
from txarakoon.consistency import AtLeast, NoGuarantees

from .fakes import FakeCluster


class ClusterClientTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.cluster = FakeCluster()

    def client(self, **settings: Any) -> ArakoonClient:
        settings.setdefault("random", random.Random(7))
        return ArakoonClient(
            self.cluster.config,
            self.cluster.clock,
            endpoint_factory=self.cluster.endpoint_factory,
            **settings,
        )

    def settle(self, deferred: Deferred[Any], seconds: float = 60.0) -> Any:
        self.cluster.run(seconds)
        return self.successResultOf(deferred)

    def failure(self, deferred: Deferred[Any], *types: type[BaseException]) -> Any:
        self.cluster.run()
        return self.failureResultOf(deferred, *types).value

    def assertNoTimersLeft(self) -> None:
        self.assertEqual(self.cluster.clock.getDelayedCalls(), [])


class DiscoveryTests(ClusterClientTestCase):
    def test_a_write_goes_to_the_master_the_nodes_agree_on(self) -> None:
        client = self.client()
        self.settle(client.set(b"k", b"v"))
        self.assertEqual(self.cluster.store, {b"k": b"v"})
        self.assertEqual(self.cluster.nodes["n0"].handled.count("set"), 1)
        self.assertEqual(client.master, "n0")

    def test_the_master_named_by_another_node_must_name_itself(self) -> None:
        self.cluster.nodes["n1"].believes_set = True
        self.cluster.nodes["n1"].believes = "n2"  # n2 does not think it is master
        self.cluster.nodes["n0"].refuse = True
        self.cluster.master = "n2"
        self.cluster.nodes["n2"].believes_set = True
        self.cluster.nodes["n2"].believes = "n0"
        client = self.client(timeout=2.0)
        error = self.failure(client.get(b"k"), errors.NoMasterError)
        self.assertIn("names", str(error))
        self.assertEqual(self.cluster.nodes["n2"].handled.count("get"), 0)

    def test_no_master_is_retried_until_one_is_elected(self) -> None:
        self.cluster.master = None
        client = self.client()
        deferred = client.set(b"k", b"v")
        self.cluster.run(3.0)
        self.assertNoResult(deferred)
        self.cluster.master = "n2"
        self.settle(deferred)
        self.assertEqual(client.master, "n2")
        self.assertEqual(self.cluster.store, {b"k": b"v"})

    def test_no_master_until_the_deadline_fails_with_no_master(self) -> None:
        self.cluster.master = None
        client = self.client(timeout=5.0)
        self.failure(client.get(b"k"), errors.NoMasterError)
        self.assertNoTimersLeft()

    def test_concurrent_calls_share_one_discovery(self) -> None:
        client = self.client()
        calls = [client.set(b"k%d" % i, b"v") for i in range(5)]
        self.cluster.run(1.0)
        for call in calls:
            self.successResultOf(call)
        asked = sum(node.handled.count("who_master") for node in self.cluster.nodes.values())
        self.assertLessEqual(asked, 2)

    def test_who_master_asks_the_cluster_not_the_cache(self) -> None:
        client = self.client()
        self.settle(client.set(b"k", b"v"))
        self.cluster.master = "n1"
        self.assertEqual(self.settle(client.who_master()), b"n1")
        self.assertEqual(client.master, "n1")

    def test_who_master_is_none_when_no_master_can_be_found(self) -> None:
        self.cluster.master = None
        client = self.client()
        self.assertIsNone(self.settle(client.who_master()))


class FailoverTests(ClusterClientTestCase):
    def test_not_master_makes_the_client_rediscover_and_retry_a_write(self) -> None:
        client = self.client()
        self.settle(client.set(b"a", b"1"))
        self.cluster.master = "n1"
        self.settle(client.set(b"b", b"2"))
        self.assertEqual(client.master, "n1")
        self.assertEqual(self.cluster.writes, [b"a", b"b"])

    def test_a_refused_master_is_forgotten_and_the_write_retried(self) -> None:
        client = self.client()
        self.settle(client.set(b"a", b"1"))
        self.cluster.kill("n0")
        self.cluster.master = "n2"
        self.settle(client.set(b"b", b"2"))
        self.assertEqual(self.cluster.writes, [b"a", b"b"])

    def test_a_write_in_flight_when_the_connection_drops_has_an_unknown_outcome(self) -> None:
        client = self.client()
        self.settle(client.set(b"a", b"1"))
        self.cluster.nodes["n0"].silent = True
        deferred = client.set(b"b", b"2")
        self.cluster.flush()
        self.cluster.kill("n0")
        error = self.failure(deferred, errors.OutcomeUnknown)
        self.assertIsInstance(error.reason, errors.ConnectionLost)
        self.assertIn("set", error.request)

    def test_a_read_in_flight_when_the_connection_drops_is_retried(self) -> None:
        self.cluster.store[b"k"] = b"v"
        client = self.client()
        self.settle(client.set(b"a", b"1"))
        self.cluster.nodes["n0"].silent = True
        deferred = client.get(b"k")
        self.cluster.flush()
        self.cluster.kill("n0")
        self.cluster.master = "n1"
        self.assertEqual(self.settle(deferred), b"v")

    def test_no_longer_master_is_not_retried_for_a_write(self) -> None:
        client = self.client()
        self.cluster.nodes["n0"].write_errors.append(errors.NoLongerMaster(b"lost"))
        error = self.failure(client.set(b"k", b"v"), errors.OutcomeUnknown)
        self.assertIsInstance(error.reason, errors.NoLongerMaster)
        self.assertEqual(self.cluster.writes, [b"k"])

    def test_retry_idempotent_retries_a_set_after_no_longer_master(self) -> None:
        client = self.client()
        self.cluster.nodes["n0"].write_errors.append(errors.NoLongerMaster(b"lost"))
        self.settle(client.using(retry_idempotent=True).set(b"k", b"v"))
        self.assertEqual(self.cluster.writes, [b"k", b"k"])

    def test_retry_idempotent_does_not_cover_a_delete(self) -> None:
        self.cluster.store[b"k"] = b"v"
        client = self.client()
        view = client.using(retry_idempotent=True)
        self.cluster.nodes["n0"].write_errors.append(errors.NoLongerMaster(b"lost"))
        self.failure(view.delete(b"k"), errors.OutcomeUnknown)

    def test_going_down_as_the_first_reply_on_a_connection_is_retried(self) -> None:
        client = self.client()
        self.settle(client.set(b"a", b"1"))
        for connection in self.cluster.nodes["n0"].connections:
            connection.lose(ConnectionDone())
        # The write is now the first request on a new connection.
        self.cluster.nodes["n0"].write_errors.append(errors.GoingDown(b"closing socket"))
        self.settle(client.set(b"k", b"v"))
        self.assertEqual(self.cluster.writes, [b"a", b"k"])

    def test_going_down_after_other_replies_on_a_connection_has_an_unknown_outcome(
        self,
    ) -> None:
        client = self.client()
        # who_master (discovery) is answered first on the master's connection.
        self.cluster.nodes["n0"].write_errors.append(errors.GoingDown(b"closing socket"))
        error = self.failure(client.set(b"k", b"v"), errors.OutcomeUnknown)
        self.assertIsInstance(error.reason, errors.GoingDown)

    def test_semantic_errors_are_raised_not_retried(self) -> None:
        client = self.client()
        self.failure(client.get(b"missing"), errors.NotFound)
        self.assertEqual(self.cluster.nodes["n0"].handled.count("get"), 1)


class DeadlineTests(ClusterClientTestCase):
    def test_a_silent_master_times_a_read_out(self) -> None:
        client = self.client(timeout=3.0)
        self.settle(client.set(b"a", b"1"))
        self.cluster.nodes["n0"].silent = True
        deferred = client.using(timeout=1.0).get(b"a")
        error = self.failure(deferred, errors.RequestTimeout)
        self.assertIsNone(error.applied)
        self.assertNoTimersLeft()

    def test_a_timed_out_write_has_an_unknown_outcome(self) -> None:
        client = self.client(timeout=1.0)
        self.settle(client.set(b"a", b"1"))
        self.cluster.nodes["n0"].silent = True
        error = self.failure(client.set(b"b", b"2"), errors.OutcomeUnknown)
        self.assertIsInstance(error.reason, errors.RequestTimeout)

    def test_a_hanging_connect_is_abandoned_after_the_connect_timeout(self) -> None:
        self.cluster.nodes["n0"].hang = True
        self.cluster.master = "n1"
        client = self.client(connect_timeout=0.5, random=random.Random(0))
        self.settle(client.set(b"k", b"v"), seconds=10)
        self.assertEqual(self.cluster.writes, [b"k"])

    def test_cancelling_during_discovery_leaves_no_timers(self) -> None:
        self.cluster.master = None
        client = self.client()
        deferred = client.get(b"k")
        self.cluster.run(0.5)
        deferred.cancel()
        self.failureResultOf(deferred, CancelledError)
        self.cluster.run(10)
        self.assertNoTimersLeft()

    def test_cancelling_while_waiting_for_a_reply_keeps_later_replies_matched(self) -> None:
        self.cluster.store[b"x"] = b"1"
        self.cluster.store[b"y"] = b"2"
        client = self.client()
        self.settle(client.set(b"a", b"1"))
        self.cluster.nodes["n0"].silent = True
        first = client.get(b"x")
        second = client.get(b"y")
        self.cluster.flush()
        first.cancel()
        self.failureResultOf(first, CancelledError)
        self.cluster.nodes["n0"].silent = False
        self.assertEqual(self.settle(second), b"2")
        self.assertNoTimersLeft()

    def test_calls_after_disconnect_fail_with_not_connected(self) -> None:
        client = self.client()
        self.settle(client.set(b"a", b"1"))
        self.successResultOf(client.disconnect())
        self.failureResultOf(client.get(b"a"), errors.NotConnectedError)


class ReadRoutingTests(ClusterClientTestCase):
    def test_dirty_reads_go_to_the_read_node(self) -> None:
        self.cluster.store[b"k"] = b"v"
        client = self.client(read_node="n2")
        self.assertEqual(self.settle(client.get(b"k", allow_dirty=True)), b"v")
        self.assertEqual(self.cluster.nodes["n2"].handled, ["get"])

    def test_dirty_reads_fall_back_to_another_node_when_the_read_node_is_down(self) -> None:
        self.cluster.store[b"k"] = b"v"
        self.cluster.kill("n2")
        client = self.client(read_node="n2")
        self.assertEqual(self.settle(client.get(b"k", consistency=NoGuarantees)), b"v")
        self.assertNotEqual(client.read_node, "n2")

    def test_read_your_writes_falls_back_to_the_master_while_the_slave_lags(self) -> None:
        client = self.client(read_node="n1")
        session = client.read_your_writes()
        self.settle(session.set(b"k", b"v"))
        self.assertEqual(session.txid, AtLeast(self.cluster.txid))
        self.assertEqual(self.settle(session.get(b"k")), b"v")
        self.assertEqual(self.cluster.nodes["n1"].handled, ["get"])  # 0x80 there
        self.assertEqual(self.cluster.nodes["n0"].handled.count("get"), 1)

    def test_read_your_writes_reads_the_slave_once_it_caught_up(self) -> None:
        client = self.client(read_node="n1")
        session = client.read_your_writes()
        self.settle(session.set(b"k", b"v"))
        self.settle(client.nop())  # a slave applies update i once i+1 is agreed
        self.assertEqual(self.settle(session.get(b"k")), b"v")
        self.assertEqual(self.cluster.nodes["n0"].handled.count("get"), 0)


class NodeClientTests(ClusterClientTestCase):
    def test_node_client_talks_to_that_node_only(self) -> None:
        client = self.client()
        version = self.settle(client.node("n2").version())
        self.assertEqual(version, (1, 9, 25, b"n2"))
        self.assertEqual(self.cluster.nodes["n2"].handled, ["version"])

    def test_unknown_node_is_a_key_error(self) -> None:
        with self.assertRaises(KeyError):
            self.client().node("nope")


class DeadlineRoundingTests(SynchronousTestCase):
    """The last retry is clamped to just before the deadline; float rounding
    must not leave a sliver of time that reschedules it at the same instant
    forever (found with a 3 s timeout: the loop spun at t=2.9)."""

    def test_no_master_until_a_fractional_deadline_ends_the_call(self) -> None:
        from twisted.internet.task import Clock

        from txarakoon.testing import ArakoonCluster
        from txarakoon.testing.trial import memory_cluster_client, resolve

        for timeout in (3.0, 7.3, 30.0):
            cluster = ArakoonCluster(3, clock=Clock())
            client = memory_cluster_client(cluster, timeout=timeout)
            cluster.election_delay = None
            cluster.drop_master()
            with self.assertRaises(errors.NoMasterError):
                resolve(cluster, client.get(b"k"))
            self.assertLess(cluster.clock.seconds(), timeout)


class UnsentAtTheDeadlineTests(ClusterClientTestCase):
    def test_a_write_still_unsent_at_the_deadline_is_known_not_applied(self) -> None:
        client = self.client(timeout=1.0, max_in_flight=1)
        self.settle(client.set(b"a", b"1"))
        self.cluster.nodes["n0"].silent = True
        written = client.set(b"b", b"2")
        waiting = client.set(b"c", b"3")  # queued behind the in-flight limit
        self.cluster.run(5)
        self.assertIsInstance(self.failureResultOf(written).value, errors.OutcomeUnknown)
        error = self.failureResultOf(waiting, errors.RequestTimeout).value
        self.assertIs(error.applied, False)
