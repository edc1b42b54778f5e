"""ArakoonClient as a Twisted service: stopped and started with its parent."""

from __future__ import annotations

from twisted.application.service import IService, MultiService
from twisted.trial.unittest import SynchronousTestCase

from txarakoon import errors

from ..helpers.inmemory import clock_of, memory_client, memory_cluster, run_until


class ClientServiceTests(SynchronousTestCase):
    def test_the_client_provides_iservice(self) -> None:
        client = memory_client(memory_cluster(3))
        self.assertTrue(IService.providedBy(client))

    def test_a_client_never_started_is_usable_from_construction(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        run_until(cluster, client.set(b"k", b"v"))
        self.assertFalse(client.running)
        self.assertTrue(client.connected)

    def test_stopping_fails_pending_calls_and_fires_once_closed(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        run_until(cluster, client.set(b"a", b"1"))
        cluster["n0"].stall()
        read = client.get(b"a")
        write = client.set(b"b", b"2")
        cluster.flush()
        stopped = client.stopService()
        run_until(cluster, stopped)
        self.successResultOf(stopped)
        self.failureResultOf(read, errors.NotConnectedError)
        self.failureResultOf(write, errors.OutcomeUnknown)
        self.assertEqual(clock_of(cluster).getDelayedCalls(), [])

    def test_calls_while_stopped_fail_as_not_connected(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        run_until(cluster, client.stopService())
        failure = self.failureResultOf(client.get(b"k"), errors.NotConnectedError)
        self.assertIn("startService()", str(failure.value))
        self.assertFalse(client.connected)

    def test_starting_after_a_stop_makes_the_client_usable_again(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        run_until(cluster, client.set(b"k", b"v"))
        run_until(cluster, client.stopService())
        client.startService()
        read = client.get(b"k")
        run_until(cluster, read)
        self.assertEqual(self.successResultOf(read), b"v")

    def test_the_client_starts_and_stops_with_its_parent(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        parent = MultiService()
        client.setServiceParent(parent)
        parent.startService()
        self.assertTrue(client.running)
        stopping = parent.stopService()
        run_until(cluster, stopping)
        self.assertFalse(client.running)
        self.failureResultOf(client.get(b"k"), errors.NotConnectedError)
        parent.startService()
        read = client.exists(b"k")
        run_until(cluster, read)
        self.assertIs(self.successResultOf(read), False)

    def test_disconnect_is_final_even_for_a_service(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        run_until(cluster, client.disconnect())
        with self.assertRaises(RuntimeError):
            client.startService()
