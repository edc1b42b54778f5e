"""What the cluster client's failures say, as a person reads them: each names its
request once, says whether it may have been applied, and why."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from txarakoon import errors

from ..helpers.inmemory import memory_client, memory_cluster, run_until

WRITE = "set(key=b'k', value=b'v')"
UNKNOWN = f"{WRITE} may or may not have been applied and was not retried"


class OutcomeUnknownTests(SynchronousTestCase):
    def test_a_write_whose_connection_is_lost_names_it_once_and_the_lost_connection(
        self,
    ) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        run_until(cluster, client.set(b"a", b"1"))
        cluster["n0"].stall()
        write = client.set(b"k", b"v")
        cluster.flush()
        cluster["n0"].drop_connections()
        run_until(cluster, write)
        text = str(self.failureResultOf(write, errors.OutcomeUnknown).value)
        self.assertTrue(text.startswith(UNKNOWN), text)
        self.assertEqual(text.count(WRITE), 1, text)
        self.assertIn("the connection was lost after it was sent", text)

    def test_a_write_past_its_deadline_names_it_once(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        run_until(cluster, client.set(b"a", b"1"))
        cluster["n0"].stall()
        write = client.using(timeout=5).set(b"k", b"v")
        run_until(cluster, write)
        text = str(self.failureResultOf(write, errors.OutcomeUnknown).value)
        self.assertEqual(
            text,
            f"{UNKNOWN} (check the keys it writes before repeating it): "
            "no answer within the deadline",
        )

    def test_a_write_never_sent_before_its_deadline_says_so_without_no_answer(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        cluster.freeze("n0")  # named master by all, it answers no one
        write = client.using(timeout=2).set(b"k", b"v")
        run_until(cluster, write)
        error = self.failureResultOf(write, errors.RequestTimeout).value
        self.assertIs(error.applied, False)
        self.assertEqual(
            str(error),
            f"{WRITE} was not sent before its deadline, so it is safe to retry: "
            "the deadline came first",
        )

    def test_a_write_pending_at_disconnect_names_it_once(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        run_until(cluster, client.set(b"a", b"1"))
        cluster["n0"].stall()
        write = client.set(b"k", b"v")
        cluster.flush()
        run_until(cluster, client.disconnect())
        text = str(self.failureResultOf(write, errors.OutcomeUnknown).value)
        self.assertTrue(text.startswith(UNKNOWN), text)
        self.assertEqual(text.count(WRITE), 1, text)
        self.assertIn("the client was disconnected", text)

    def test_no_longer_master_is_named_as_the_servers_answer(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        run_until(cluster, client.set(b"a", b"1"))
        cluster.no_longer_master("n0", 1, applied=True)
        write = client.set(b"k", b"v")
        run_until(cluster, write)
        text = str(self.failureResultOf(write, errors.OutcomeUnknown).value)
        self.assertTrue(text.startswith(UNKNOWN), text)
        self.assertIn(": the server answered NoLongerMaster", text)


class NoMasterTests(SynchronousTestCase):
    def test_no_master_says_it_once_then_what_each_node_said(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        run_until(cluster, client.set(b"a", b"1"))
        for name in cluster.names:
            cluster.kill(name)
        read = client.using(timeout=3).get(b"a")
        run_until(cluster, read)
        text = str(self.failureResultOf(read, errors.NoMasterError).value)
        self.assertTrue(text.startswith("no node could be confirmed as master"), text)
        self.assertEqual(text.count("safe to retry"), 1, text)
        for name in cluster.names:
            self.assertIn(f"{name}: cannot connect to {name} (", text)


class NotConnectedTests(SynchronousTestCase):
    def test_a_call_after_disconnect_says_to_make_a_new_client(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        run_until(cluster, client.disconnect())
        error = self.failureResultOf(client.get(b"k"), errors.NotConnectedError).value
        self.assertEqual(
            str(error),
            "the client is closed: after disconnect(), make a new ArakoonClient; "
            "after stopService(), call startService()",
        )
