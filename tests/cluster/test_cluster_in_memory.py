"""ArakoonClient against the in-memory cluster, without sockets, on the
cluster's task.Clock: routing, consistency, cancellation, disconnect, per-node
and admin operations."""

from __future__ import annotations

from twisted.internet.defer import CancelledError
from twisted.trial.unittest import SynchronousTestCase

from txarakoon import errors
from txarakoon.consistency import AtLeast

from ..helpers.inmemory import (
    MemoryEndpoints,
    client_timers,
    clock_of,
    memory_client,
    memory_cluster,
    run_for,
    run_until,
)


def gets(cluster: object, name: str) -> int:
    """How many ``get`` requests node ``name`` served."""
    n: int = cluster[name].statistics()["get_info"]["n"]  # type: ignore[index]
    return n


class RoutingTests(SynchronousTestCase):
    def test_writes_and_consistent_reads_go_to_the_master(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        run_until(cluster, client.set(b"k", b"v"))
        read = client.get(b"k")
        run_until(cluster, read)
        self.assertEqual(self.successResultOf(read), b"v")
        self.assertEqual(gets(cluster, "n0"), 1)
        self.assertEqual(cluster["n0"].statistics()["set_info"]["n"], 1)

    def test_dirty_reads_are_served_by_a_slave(self) -> None:
        cluster = memory_cluster(3, lag=0)
        client = memory_client(cluster, read_node="n1")
        run_until(cluster, client.set(b"k", b"v"))
        read = client.get(b"k", allow_dirty=True)
        run_until(cluster, read)
        self.assertEqual(self.successResultOf(read), b"v")
        self.assertEqual((gets(cluster, "n0"), gets(cluster, "n1")), (0, 1))

    def test_a_dirty_read_on_a_lagging_slave_sees_the_previous_update(self) -> None:
        cluster = memory_cluster(3)  # slaves lag one update, as in production
        client = memory_client(cluster, read_node="n2")
        run_until(cluster, client.set(b"k", b"old"))
        run_until(cluster, client.set(b"k", b"new"))
        read = client.get(b"k", allow_dirty=True)
        run_until(cluster, read)
        self.assertEqual(self.successResultOf(read), b"old")

    def test_at_least_the_txid_of_a_write_is_refused_by_the_lagging_slave(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster, read_node="n1")
        run_until(cluster, client.set(b"k", b"v"))
        txid = client.get_txid()
        run_until(cluster, txid)
        read = client.get(b"k", consistency=self.successResultOf(txid))
        run_until(cluster, read)
        self.failureResultOf(read, errors.InconsistentRead)

    def test_at_least_the_txid_of_a_write_reads_it_on_the_slave_after_one_more_update(
        self,
    ) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster, read_node="n1")
        run_until(cluster, client.set(b"k", b"v"))
        txid = client.get_txid()
        run_until(cluster, txid)
        after_write = self.successResultOf(txid)
        self.assertEqual(after_write, AtLeast(cluster.txid))
        run_until(cluster, client.nop())
        read = client.get(b"k", consistency=after_write)
        run_until(cluster, read)
        self.assertEqual(self.successResultOf(read), b"v")
        self.assertEqual((gets(cluster, "n0"), gets(cluster, "n1")), (0, 1))

    def test_read_your_writes_falls_back_to_the_master_while_the_slave_lags(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster, read_node="n1")
        session = client.read_your_writes()
        run_until(cluster, session.set(b"k", b"v"))
        read = session.get(b"k")
        run_until(cluster, read)
        self.assertEqual(self.successResultOf(read), b"v")
        self.assertEqual((gets(cluster, "n0"), gets(cluster, "n1")), (1, 0))

    def test_read_your_writes_reads_the_slave_once_it_caught_up(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster, read_node="n1")
        session = client.read_your_writes()
        run_until(cluster, session.set(b"k", b"v"))
        run_until(cluster, client.nop())
        read = session.get(b"k")
        run_until(cluster, read)
        self.assertEqual(self.successResultOf(read), b"v")
        self.assertEqual((gets(cluster, "n0"), gets(cluster, "n1")), (0, 1))

    def test_who_master_on_the_client_never_names_a_dead_master(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster, connect_timeout=0.5)
        run_until(cluster, client.set(b"k", b"v"))
        cluster.kill("n0")
        believed = client.node("n1").who_master()
        asked = client.who_master()
        run_until(cluster, believed, asked)
        self.assertEqual(self.successResultOf(believed), b"n0")  # its lease runs
        self.assertIsNone(self.successResultOf(asked))

    def test_a_per_call_timeout_bounds_the_wait_for_a_master(self) -> None:
        cluster = memory_cluster(3, master=None, election_delay=None)
        client = memory_client(cluster)
        deferred = client.using(timeout=2.0).set(b"k", b"v")
        run_for(cluster, 1.5)
        self.assertNoResult(deferred)
        run_for(cluster, 0.5)
        error = self.failureResultOf(deferred, errors.NoMasterError).value
        self.assertIn("knows no master", str(error))
        self.assertEqual(clock_of(cluster).getDelayedCalls(), [])


class CancellationTests(SynchronousTestCase):
    def test_cancelling_while_connecting_leaves_no_delayed_calls(self) -> None:
        cluster = memory_cluster(3)
        endpoints = MemoryEndpoints(cluster)
        endpoints.hang.update(cluster.names)
        client = memory_client(cluster, endpoints)
        deferred = client.get(b"k")
        run_for(cluster, 0.5)
        self.assertEqual(len(endpoints.pending), 1)
        deferred.cancel()
        self.failureResultOf(deferred, CancelledError)
        self.assertTrue(endpoints.pending[0].called)  # the attempt was cancelled
        self.assertEqual(clock_of(cluster).getDelayedCalls(), [])

    def test_cancelling_during_discovery_leaves_only_the_connection_silence_timer(
        self,
    ) -> None:
        cluster = memory_cluster(3)
        for node in cluster:
            node.stall()
        client = memory_client(cluster, silence_timeout=30.0)
        deferred = client.get(b"k")
        run_for(cluster, 0.5)
        asked = [node for node in cluster if node.connections]
        self.assertEqual(len(asked), 1)
        deferred.cancel()
        self.failureResultOf(deferred, CancelledError)
        # The who_master already written keeps its place until its reply comes.
        (silence,) = clock_of(cluster).getDelayedCalls()
        self.assertAlmostEqual(silence.getTime(), 30.0)
        for node in cluster:
            node.unstall()
        cluster.flush()
        self.assertEqual(clock_of(cluster).getDelayedCalls(), [])

    def test_cancelling_while_waiting_for_a_reply_keeps_later_replies_matched(self) -> None:
        cluster = memory_cluster(3)
        cluster.seed({b"x": b"1", b"y": b"2"})
        client = memory_client(cluster)
        run_until(cluster, client.set(b"a", b"1"))
        cluster["n0"].stall()
        first = client.get(b"x")
        second = client.get(b"y")
        cluster.flush()
        first.cancel()
        self.failureResultOf(first, CancelledError)
        cluster["n0"].unstall()
        run_until(cluster, second)
        self.assertEqual(self.successResultOf(second), b"2")
        self.assertEqual(clock_of(cluster).getDelayedCalls(), [])

    def test_cancelling_during_the_backoff_leaves_no_delayed_calls(self) -> None:
        cluster = memory_cluster(3, master=None, election_delay=None)
        client = memory_client(cluster)
        deferred = client.set(b"k", b"v")
        run_for(cluster, 0.5)
        self.assertNotEqual(client_timers(cluster), [])
        deferred.cancel()
        self.failureResultOf(deferred, CancelledError)
        self.assertEqual(clock_of(cluster).getDelayedCalls(), [])

    def test_a_cancelled_call_does_not_cancel_another_waiting_for_the_same_master(
        self,
    ) -> None:
        cluster = memory_cluster(3, master=None, election_delay=None)
        client = memory_client(cluster)
        first = client.set(b"a", b"1")
        second = client.set(b"b", b"2")
        run_for(cluster, 0.5)
        first.cancel()
        self.failureResultOf(first, CancelledError)
        cluster.elect("n2")
        run_until(cluster, second)
        self.successResultOf(second)
        self.assertEqual(cluster.store.as_dict(), {b"b": b"2"})


class DisconnectTests(SynchronousTestCase):
    def test_disconnect_closes_every_connection(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        run_until(cluster, client.set(b"k", b"v"))
        for name in cluster.names:
            run_until(cluster, client.node(name).version())
        self.assertTrue(all(node.connections for node in cluster))
        closed = client.disconnect()
        run_until(cluster, closed)
        self.successResultOf(closed)
        self.assertEqual([node.connections for node in cluster], [[], [], []])
        self.assertEqual(clock_of(cluster).getDelayedCalls(), [])

    def test_calls_after_disconnect_fail_with_not_connected(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        run_until(cluster, client.set(b"k", b"v"))
        run_until(cluster, client.disconnect())
        self.failureResultOf(client.get(b"k"), errors.NotConnectedError)
        self.failureResultOf(client.using(timeout=1).set(b"k", b"v"), errors.NotConnectedError)
        self.failureResultOf(client.node("n1").version(), errors.NotConnectedError)
        self.failureResultOf(client.read_your_writes().get(b"k"), errors.NotConnectedError)
        self.assertFalse(client.connected)

    def test_disconnect_fails_pending_calls_saying_whether_they_were_sent(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        run_until(cluster, client.set(b"a", b"1"))
        cluster["n0"].stall()
        read = client.get(b"a")
        write = client.set(b"b", b"2")
        cluster.flush()
        run_until(cluster, client.disconnect())
        self.failureResultOf(read, errors.NotConnectedError)
        error = self.failureResultOf(write, errors.OutcomeUnknown).value
        self.assertIsInstance(error.reason, errors.NotConnectedError)
        self.assertEqual(clock_of(cluster).getDelayedCalls(), [])

    def test_disconnect_while_connecting_cancels_the_attempt(self) -> None:
        cluster = memory_cluster(3)
        endpoints = MemoryEndpoints(cluster)
        endpoints.hang.update(cluster.names)
        client = memory_client(cluster, endpoints)
        deferred = client.set(b"k", b"v")
        run_for(cluster, 0.5)
        closed = client.disconnect()
        self.successResultOf(closed)
        self.failureResultOf(deferred, errors.NotConnectedError)
        self.assertTrue(all(attempt.called for attempt in endpoints.pending))
        self.assertEqual(clock_of(cluster).getDelayedCalls(), [])


class NodeOperationTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.cluster = memory_cluster(3)
        self.client = memory_client(self.cluster)

    def result(self, deferred: object) -> object:
        run_until(self.cluster, deferred)  # type: ignore[arg-type]
        return self.successResultOf(deferred)  # type: ignore[arg-type]

    def test_version_comes_from_the_named_node(self) -> None:
        major, minor, patch, info = self.result(self.client.node("n1").version())  # type: ignore[misc]
        self.assertEqual((major, minor, patch), (1, 9, 25))
        self.assertIn(b'machine: "n1"', info)

    def test_statistics_come_from_the_named_node(self) -> None:
        run_until(self.cluster, self.client.set(b"k", b"v"))
        master = self.result(self.client.node("n0").statistics())
        slave = self.result(self.client.node("n2").statistics())
        self.assertEqual(master["set_info"]["n"], 1)  # type: ignore[index]
        self.assertEqual(slave["set_info"]["n"], 0)  # type: ignore[index]

    def test_current_state_tells_master_from_slave(self) -> None:
        self.assertEqual(self.result(self.client.node("n0").get_current_state()), b"Stable_master")
        self.assertEqual(
            self.result(self.client.node("n1").get_current_state()), b"Slave_steady_state"
        )

    def test_get_txid_on_a_slave_lags_the_master_by_one(self) -> None:
        run_until(self.cluster, self.client.set(b"k", b"v"))
        run_until(self.cluster, self.client.set(b"k", b"w"))
        self.assertEqual(self.result(self.client.node("n0").get_txid()), AtLeast(2))
        self.assertEqual(self.result(self.client.node("n1").get_txid()), AtLeast(1))

    def test_who_master_on_a_node_is_what_that_node_believes(self) -> None:
        self.cluster.drop_master()
        self.assertIsNone(self.result(self.client.node("n2").who_master()))

    def test_expect_progress_possible_on_a_node(self) -> None:
        self.assertIs(self.result(self.client.node("n2").expect_progress_possible()), True)

    def test_a_node_operation_on_a_dead_node_is_not_retried(self) -> None:
        self.cluster.kill("n2")
        deferred = self.client.node("n2").version()
        run_until(self.cluster, deferred)
        error = self.failureResultOf(deferred, errors.RequestNotProcessed).value
        self.assertIn("cannot connect to n2", str(error))

    def test_a_silent_node_times_a_node_operation_out(self) -> None:
        client = memory_client(self.cluster, timeout=2.0)
        self.cluster["n1"].stall()
        deferred = client.node("n1").statistics()
        run_until(self.cluster, deferred)
        error = self.failureResultOf(deferred, errors.RequestTimeout).value
        self.assertIsNone(error.applied)


class AdminTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.cluster = memory_cluster(3, tlog_max_entries=10)
        self.client = memory_client(self.cluster)

    def test_optimize_db_is_refused_on_the_master(self) -> None:
        deferred = self.client.node("n0").optimize_db()
        run_until(self.cluster, deferred)
        error = self.failureResultOf(deferred, errors.NotSupported).value
        self.assertIn("master", str(error))

    def test_optimize_db_runs_on_a_slave(self) -> None:
        deferred = self.client.node("n1").optimize_db()
        run_until(self.cluster, deferred)
        self.assertIsNone(self.successResultOf(deferred))

    def test_defrag_and_copy_db_to_head_run_on_a_slave(self) -> None:
        node = self.client.node("n2")
        both = [node.defrag_db(), node.copy_db_to_head(1), node.flush_store()]
        run_until(self.cluster, *both)
        self.assertEqual([self.successResultOf(d) for d in both], [None, None, None])

    def test_the_cluster_client_still_serves_after_admin_refused_on_the_master(self) -> None:
        run_until(self.cluster, self.client.set(b"k", b"v"))
        refused = self.client.node("n0").defrag_db()  # 0x20 closes the shared connection
        read = self.client.get(b"k")
        run_until(self.cluster, refused, read)
        self.failureResultOf(refused, errors.NotSupported)
        self.assertEqual(self.successResultOf(read), b"v")

    def test_collapse_tlogs_reports_progress_on_a_dedicated_connection(self) -> None:
        for index in range(45):
            run_until(self.cluster, self.client.set(b"k%d" % index, b"v"))
        node = self.cluster["n1"]
        progress: list[int] = []
        run_until(self.cluster, self.client.node("n1").version())
        before = len(node.connections)
        deferred = self.client.node("n1").collapse_tlogs(1, progress.append)
        self.assertEqual(len(node.connections), before + 1)
        run_until(self.cluster, deferred)
        steps = self.successResultOf(deferred)
        self.assertEqual(steps, len(progress))
        self.assertGreater(steps, 0)
        self.assertEqual(progress, sorted(progress))
        self.cluster.flush()
        self.assertEqual(len(node.connections), before)  # closed after use
