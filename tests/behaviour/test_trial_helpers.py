"""The trial helpers (``txarakoon.testing.trial``): the in-memory mixin runs
here (a SynchronousTestCase needs no reactor); the loopback mixin, whose
TestCase spins the reactor, runs under ``python -m twisted.trial`` in a
subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.task import Clock, deferLater
from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SynchronousTestCase

import txarakoon
from txarakoon.cluster import ArakoonClient
from txarakoon.errors import ConnectionFailure, NotFound
from txarakoon.protocol import ArakoonProtocol, ArakoonProtocolFactory
from txarakoon.testing import ArakoonCluster, Transaction
from txarakoon.testing.trial import InMemoryArakoonMixin, MemoryEndpoint, resolve

ROOT = Path(txarakoon.__file__).resolve().parent.parent


def _shout(transaction: Transaction, argument: bytes | None) -> bytes:
    return (argument or b"").upper()


class InMemoryMixinTests(InMemoryArakoonMixin, SynchronousTestCase):
    def test_the_client_is_connected_to_the_master(self) -> None:
        self.assertIsInstance(self.arakoon_client, ArakoonProtocol)
        self.assertEqual(self.resolve(self.arakoon_client.who_master()), b"n0")
        self.assertIs(self.arakoon.clock, self.arakoon_clock)

    def test_resolve_returns_values_and_raises_failures(self) -> None:
        self.resolve(self.arakoon_client.set(b"k", b"v"))
        self.assertEqual(self.resolve(self.arakoon_client.get(b"k")), b"v")
        with self.assertRaises(NotFound):
            self.resolve(self.arakoon_client.get(b"missing"))

    def test_resolve_advances_the_clock_only_as_far_as_needed(self) -> None:
        # drop_master answers half a lease after the next master's election (D27).
        self.resolve(self.arakoon_client.drop_master())
        lease, delay = self.arakoon.lease_period, self.arakoon.election_delay
        assert delay is not None
        self.assertEqual(self.arakoon_clock.seconds(), lease + delay + lease / 2)

    def test_resolve_without_advancing_leaves_time_alone(self) -> None:
        with self.assertRaises(AssertionError):
            self.resolve(self.arakoon_client.drop_master(), advance=False)
        self.assertEqual(self.arakoon_clock.seconds(), 0)

    def test_resolve_gives_up_after_max_seconds(self) -> None:
        self.arakoon["n0"].delay_replies(60)
        with self.assertRaises(AssertionError):
            self.resolve(self.arakoon_client.nop(), max_seconds=30)

    def test_resolve_gives_up_when_nothing_is_scheduled(self) -> None:
        self.arakoon["n0"].stall()
        with self.assertRaises(AssertionError):
            self.resolve(self.arakoon_client.nop())

    def test_resolve_runs_a_coroutine(self) -> None:
        async def write_and_read() -> bytes:
            await self.arakoon_client.set(b"k", b"v")
            return await self.arakoon_client.get(b"k")

        self.assertEqual(self.resolve(write_and_read()), b"v")

    def test_arakoon_connect_reaches_any_node(self) -> None:
        slave = self.arakoon_connect("n2")
        self.assertEqual(self.resolve(slave.get_current_state()), b"Slave_steady_state")

    def test_the_cluster_client_fails_over_on_the_cluster_clock(self) -> None:
        client = self.arakoon_cluster_client(timeout=60)
        self.assertIsInstance(client, ArakoonClient)
        self.resolve(client.set(b"k", b"1"))
        self.resolve(self.arakoon.kill("n0"))
        self.resolve(client.set(b"k", b"2"))
        self.assertEqual(client.master, "n1")
        # About a lease and an election later, on the clock only.
        self.assertGreater(self.arakoon_clock.seconds(), self.arakoon.lease_period)

    def test_the_cluster_client_gives_up_at_its_deadline_without_a_master(self) -> None:
        client = self.arakoon_cluster_client(timeout=10)
        self.arakoon.election_delay = None
        self.arakoon.drop_master()
        with self.assertRaises(ConnectionFailure):
            self.resolve(client.get(b"k"))
        self.assertLessEqual(self.arakoon_clock.seconds(), 10)
        self.assertGreater(self.arakoon_clock.seconds(), 5)


class ShapedMixinTests(InMemoryArakoonMixin, SynchronousTestCase):
    arakoon_nodes = ("alpha", "beta")
    arakoon_options: ClassVar[Mapping[str, Any]] = {"lag": 0, "user_functions": {"shout": _shout}}

    def test_class_attributes_shape_the_cluster(self) -> None:
        self.assertEqual(self.arakoon.names, ("alpha", "beta"))
        self.assertEqual(self.arakoon.lag, 0)
        self.assertEqual(self.resolve(self.arakoon_client.user_function("shout", "hi")), b"HI")


def test_the_mixin_closes_every_connection_at_cleanup() -> None:
    class Sample(InMemoryArakoonMixin, SynchronousTestCase):
        def test_connect(self) -> None:
            self.arakoon_connect("n1")
            self.resolve(self.arakoon_cluster_client().nop())

    case = Sample("test_connect")
    result = TestResult()
    case.run(result)
    assert result.wasSuccessful(), result.errors + result.failures
    assert all(not node.connections for node in case.arakoon)
    assert not case.arakoon_client.connected


def test_resolve_flushes_several_clusters_on_one_clock() -> None:
    clock = Clock()
    first = ArakoonCluster(1, clock=clock)
    second = ArakoonCluster(1, clock=clock)
    one = first.connect_in_memory().client
    two = second.connect_in_memory().client

    async def both() -> list[bytes]:
        await one.set(b"k", b"1")
        await two.set(b"k", b"2")
        return [await one.get(b"k"), await two.get(b"k")]

    assert resolve([first, second], both()) == [b"1", b"2"]


def test_resolve_refuses_what_is_not_a_deferred() -> None:
    with pytest.raises(TypeError):
        resolve(ArakoonCluster(1, clock=Clock()), b"value")  # type: ignore[arg-type]


def test_memory_endpoint_refuses_a_dead_node() -> None:
    cluster = ArakoonCluster(3, clock=Clock())
    cluster.kill("n1")
    connecting: Deferred[Any] = MemoryEndpoint(cluster, "n1").connect(
        ArakoonProtocolFactory(cluster.cluster_id)
    )
    with pytest.raises(ConnectionRefusedError):
        resolve(cluster, connecting)


def test_memory_endpoint_names_an_existing_node() -> None:
    with pytest.raises(KeyError):
        MemoryEndpoint(ArakoonCluster(1, clock=Clock()), "nobody")


LOOPBACK_TESTS = """
    import socket

    from twisted.internet import threads
    from twisted.trial.unittest import TestCase

    from txarakoon.blocking import SocketClient
    from txarakoon.protocol import ArakoonProtocol
    from txarakoon.testing.trial import LoopbackArakoonMixin


    class Loopback(LoopbackArakoonMixin, TestCase):
        arakoon_options = {"cluster_id": "loop"}

        async def test_the_client_talks_to_the_master_over_tcp(self):
            self.assertIsInstance(self.arakoon_client, ArakoonProtocol)
            await self.arakoon_client.set(b"k", b"v")
            self.assertEqual(await self.arakoon_client.get(b"k"), b"v")
            host, port = self.arakoon["n0"].address
            self.assertEqual(host, "127.0.0.1")

        async def test_connect_reaches_a_slave(self):
            slave = await self.arakoon_connect("n1")
            self.assertEqual(await slave.who_master(), b"n0")

        async def test_the_cluster_client_uses_the_loopback_addresses(self):
            client = self.arakoon_cluster_client(timeout=5)
            await client.set(b"k", b"v")
            self.assertEqual(client.master, "n0")

        async def test_a_socket_client_in_a_thread(self):
            def blocking():
                with SocketClient(self.arakoon["n0"].address, "loop", timeout=5) as client:
                    client.set(b"k", b"from a thread")
                    return client.get(b"k")

            self.assertEqual(await threads.deferToThread(blocking), b"from a thread")


    class OwnSetUp(LoopbackArakoonMixin, TestCase):
        arakoon_nodes = 1

        def setUp(self):
            return super().setUp().addCallback(lambda _: self.arakoon_client.set(b"seed", b"1"))

        async def test_own_set_up_ran_after_the_mixin(self):
            self.assertEqual(await self.arakoon_client.get(b"seed"), b"1")
"""


def test_the_loopback_mixin_under_trial(tmp_path: Path) -> None:
    module = tmp_path / "loopback_sample.py"
    module.write_text(textwrap.dedent(LOOPBACK_TESTS))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "twisted.trial",
            "--temp-directory",
            str(tmp_path / "trial"),
            str(module),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASSED (successes=5)" in done.stdout, done.stdout


def test_resolve_reports_calls_that_never_let_time_move() -> None:
    cluster = ArakoonCluster(1, clock=Clock())
    client = cluster.connect_in_memory().client

    async def poll_without_pause() -> None:
        # Each round waits for a reply, then schedules the next one for "now".
        while True:
            await client.who_master()
            await deferLater(cluster.clock, 0)

    with pytest.raises(AssertionError, match="keep being scheduled"):
        resolve(cluster, poll_without_pause())
