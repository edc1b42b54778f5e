"""Testing code that uses Arakoon with Twisted's trial and txarakoon's mixins.

Run it with ``python -m twisted.trial docs/examples/test_with_trial.py``.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.threads import deferToThread
from twisted.trial.unittest import SynchronousTestCase, TestCase

from txarakoon.blocking import SocketClient
from txarakoon.errors import InconsistentRead
from txarakoon.recipes import increment
from txarakoon.testing.trial import InMemoryArakoonMixin, LoopbackArakoonMixin

# -- the code under test --------------------------------------------------------


async def count_visit(client: Any) -> int:
    """Count one visit, exactly once, with a cluster client; the new count."""
    return await increment(client, b"visits")


# -- in memory: SynchronousTestCase, no sockets, no reactor --------------------------


class CounterInMemory(InMemoryArakoonMixin, SynchronousTestCase):
    """``self.arakoon`` is the cluster, ``self.arakoon_client`` a connection to
    its master, ``self.resolve(d)`` runs a Deferred or coroutine to its end."""

    def test_increment_counts_from_one(self) -> None:
        client = self.arakoon_cluster_client()  # an ArakoonClient, in memory
        self.assertEqual(self.resolve(count_visit(client)), 1)
        self.assertEqual(self.resolve(count_visit(client)), 2)

    def test_increment_survives_losing_the_master(self) -> None:
        client = self.arakoon_cluster_client()  # an ArakoonClient, in memory
        self.assertEqual(self.resolve(count_visit(client)), 1)
        self.resolve(self.arakoon.kill("n0"))
        self.assertEqual(self.resolve(count_visit(client)), 2)
        self.assertEqual(self.arakoon.master, "n1")
        # The failover took a lease and an election, on the cluster's clock.
        self.assertGreater(self.arakoon_clock.seconds(), 10)

    def test_a_slave_lags_one_update(self) -> None:
        slave = self.arakoon_connect("n1")
        self.resolve(self.arakoon_client.set(b"key", b"value"))
        txid = self.resolve(self.arakoon_client.get_txid())
        with self.assertRaises(InconsistentRead):
            self.resolve(slave.get(b"key", consistency=txid))
        self.resolve(self.arakoon_client.nop())
        self.assertEqual(self.resolve(slave.get(b"key", consistency=txid)), b"value")


class CounterOnFiveNodesWithoutLag(InMemoryArakoonMixin, SynchronousTestCase):
    arakoon_nodes = 5
    arakoon_options = {"lag": 0}  # noqa: RUF012

    def test_every_slave_is_fresh_at_once(self) -> None:
        self.resolve(count_visit(self.arakoon_cluster_client()))
        for name in self.arakoon.names[1:]:
            slave = self.arakoon_connect(name)
            self.assertEqual(self.resolve(slave.get(b"visits", allow_dirty=True)), b"1")


# -- on loopback: TestCase, the reactor trial runs ------------------------------------


class CounterOverTCP(LoopbackArakoonMixin, TestCase):
    """The cluster listens on free loopback ports; ``setUp`` connects
    ``self.arakoon_client`` to the master, and cleanups close everything."""

    async def test_increment_over_tcp(self) -> None:
        self.assertEqual(await count_visit(self.arakoon_cluster_client(timeout=10)), 1)
        self.assertEqual(await self.arakoon_client.get(b"visits"), b"1")

    async def test_increment_with_the_cluster_client(self) -> None:
        client = self.arakoon_cluster_client(timeout=10)
        self.assertEqual(await count_visit(client), 1)
        self.assertEqual(client.master, "n0")

    async def test_blocking_code_runs_in_a_thread(self) -> None:
        address = self.arakoon["n0"].address
        assert address is not None

        def blocking_work() -> bytes:
            with SocketClient(address, self.arakoon.cluster_id, timeout=10) as client:
                client.set(b"key", b"from a thread")
                return client.get(b"key")

        self.assertEqual(await deferToThread(blocking_work), b"from a thread")
