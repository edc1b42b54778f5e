"""Helpers for tests written with :mod:`twisted.trial`, and plain functions for any test runner.

Two mixins give a test case an Arakoon cluster and a connected client:

* :class:`InMemoryArakoonMixin`, for
  :class:`~twisted.trial.unittest.SynchronousTestCase`: an in-memory cluster on
  a :class:`~twisted.internet.task.Clock`, no sockets, no reactor; every test is
  deterministic and runs in microseconds. :meth:`~InMemoryArakoonMixin.resolve`
  runs a Deferred to completion::

      from twisted.trial.unittest import SynchronousTestCase
      from txarakoon.testing.trial import InMemoryArakoonMixin

      class Greeting(InMemoryArakoonMixin, SynchronousTestCase):
          def test_set_then_get(self) -> None:
              self.resolve(self.arakoon_client.set(b"greeting", b"hello"))
              self.assertEqual(self.resolve(self.arakoon_client.get(b"greeting")), b"hello")

* :class:`LoopbackArakoonMixin`, for :class:`~twisted.trial.unittest.TestCase`
  (run by ``python -m twisted.trial``, which spins the reactor): the cluster
  listens on free loopback ports, so code that opens its own TCP connections
  (an :class:`~txarakoon.cluster.ArakoonClient`, a ``SocketClient`` in a thread)
  can reach it. Cleanups close every connection and port.

The functions :func:`resolve`, :func:`flush`, :func:`memory_cluster_client`,
:func:`memory_config` and :class:`MemoryEndpoint` need neither trial nor
pytest: they live in :mod:`txarakoon.testing.drive` (the pytest plugin,
:mod:`txarakoon.testing.pytest_plugin`, is built on them too) and are
importable from here as well.

A mixin goes *before* the test case class, so that its ``setUp`` runs; a test
case that defines its own ``setUp`` must call ``super().setUp()`` first (and,
with :class:`LoopbackArakoonMixin`, wait for the Deferred it returns).
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.task import Clock

from ..config import ClusterConfig
from . import drive
from .cluster import ArakoonCluster

# drive's helpers are documented as importable from here too.
from .drive import *  # noqa: F403
from .drive import (
    DEFAULT_MAX_SECONDS,
    memory_cluster_client,
    resolve,
)

if TYPE_CHECKING:
    from twisted.trial.unittest import SynchronousTestCase, TestCase

    from ..cluster import ArakoonClient
    from ..protocol import ArakoonProtocol

    _SynchronousBase = SynchronousTestCase
    _AsynchronousBase = TestCase
else:
    _SynchronousBase = _AsynchronousBase = object

__all__ = ["InMemoryArakoonMixin", "LoopbackArakoonMixin"]
__all__ += drive.__all__

T = TypeVar("T")


class InMemoryArakoonMixin(_SynchronousBase):
    """An in-memory Arakoon cluster for each test of a
    :class:`~twisted.trial.unittest.SynchronousTestCase` (it works in a
    :class:`~twisted.trial.unittest.TestCase` too).

    Class attributes to change the cluster: :attr:`arakoon_nodes` and
    :attr:`arakoon_options`. After ``setUp``:

    :ivar arakoon: the :class:`~txarakoon.testing.cluster.ArakoonCluster`, with
        its controls (``kill``, ``elect``, ``lag``, ``seed``, ...).
    :ivar arakoon_clock: its :class:`~twisted.internet.task.Clock`; give it to
        your own code so that :meth:`resolve` moves its time too.
    :ivar arakoon_client: an :class:`~txarakoon.protocol.ArakoonProtocol`
        connected in memory to the master.

    Bytes move only when the cluster is flushed: :meth:`resolve` does that
    (``self.arakoon.flush()`` does it by hand, ``self.arakoon.advance(s)`` also
    moves time). Every connection is closed at cleanup.
    """

    #: How many nodes (named ``n0``, ``n1``, ...), or their names.
    arakoon_nodes: ClassVar[int | tuple[str, ...]] = 3
    #: More :class:`~txarakoon.testing.cluster.ArakoonCluster` arguments, e.g.
    #: ``{"lag": 0, "user_functions": {...}}`` (not ``clock``).
    arakoon_options: ClassVar[Mapping[str, Any]] = MappingProxyType({})

    arakoon: ArakoonCluster
    arakoon_clock: Clock
    arakoon_client: ArakoonProtocol

    def setUp(self) -> None:
        super().setUp()
        self.arakoon_clock = Clock()
        self.arakoon = ArakoonCluster(
            self.arakoon_nodes, clock=self.arakoon_clock, **self.arakoon_options
        )
        self.addCleanup(self._stop_arakoon)
        self.arakoon_client = self.arakoon_connect()

    def _stop_arakoon(self) -> None:
        self.resolve(self.arakoon.stop(), advance=False)

    def arakoon_connect(self, name: str | None = None) -> ArakoonProtocol:
        """A new :class:`~txarakoon.protocol.ArakoonProtocol` connected in memory
        to node ``name`` (default: the master)."""
        return self.arakoon.connect_in_memory(name).client

    def arakoon_cluster_client(self, **settings: Any) -> ArakoonClient:
        """A new in-memory :class:`~txarakoon.cluster.ArakoonClient` for the
        cluster (see :func:`memory_cluster_client`), disconnected at cleanup."""
        client = memory_cluster_client(self.arakoon, **settings)
        self.addCleanup(lambda: self.resolve(client.disconnect(), advance=False))
        return client

    def resolve(
        self,
        result: Deferred[T] | Coroutine[Any, Any, T],
        *,
        advance: bool = True,
        max_seconds: float = DEFAULT_MAX_SECONDS,
    ) -> T:
        """Run ``result`` (a Deferred or a coroutine) to completion: its value,
        or its exception raised. See :func:`resolve`."""
        return resolve(
            self.arakoon,
            result,
            clock=self.arakoon_clock,
            advance=advance,
            max_seconds=max_seconds,
        )


class LoopbackArakoonMixin(_AsynchronousBase):
    """An in-memory Arakoon cluster listening on free loopback ports for each
    test of a :class:`~twisted.trial.unittest.TestCase`.

    Run such tests with ``python -m twisted.trial``: they need the reactor
    running between the test's steps. They cannot share a pytest run with
    pytest-twisted, which runs the reactor too; the pytest plugin refuses them
    at collection while pytest-twisted is active, saying how to run them (with
    trial, or with ``pytest -p no:twisted``). Under pytest, prefer the
    fixtures of :mod:`txarakoon.testing.pytest_plugin`.

    Class attributes: :attr:`arakoon_nodes`, :attr:`arakoon_options` and
    :attr:`arakoon_reactor`. ``setUp`` returns a Deferred; after it:

    :ivar arakoon: the listening
        :class:`~txarakoon.testing.cluster.ArakoonCluster`; it keeps time with
        the reactor, and ``arakoon.endpoint(name)``, ``arakoon.ini()`` and
        ``arakoon.nodes_spec()`` say where it listens.
    :ivar arakoon_client: an :class:`~txarakoon.protocol.ArakoonProtocol`
        connected to the master over TCP.

    Cleanups (Deferreds trial waits for) close every connection made through
    these helpers, then stop the cluster, so the reactor is left clean.
    """

    #: How many nodes (named ``n0``, ``n1``, ...), or their names.
    arakoon_nodes: ClassVar[int | tuple[str, ...]] = 3
    #: More :class:`~txarakoon.testing.cluster.ArakoonCluster` arguments.
    arakoon_options: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    #: The reactor to listen with; ``None``: the global reactor, the one trial runs.
    arakoon_reactor: ClassVar[Any] = None

    arakoon: ArakoonCluster
    arakoon_client: ArakoonProtocol

    # trial waits for a Deferred returned by setUp; unittest's signature says None.
    def setUp(self) -> Deferred[None]:  # type: ignore[override]
        started: Deferred[Any] = maybeDeferred(super().setUp)
        return started.addCallback(lambda _: Deferred.fromCoroutine(self._start_arakoon()))

    async def _start_arakoon(self) -> None:
        self.arakoon = ArakoonCluster(self.arakoon_nodes, **self.arakoon_options)
        self.arakoon.listen(self._reactor())
        self.addCleanup(self.arakoon.stop)
        self.arakoon_client = await self.arakoon_connect()

    def _reactor(self) -> Any:
        if self.arakoon_reactor is not None:
            return self.arakoon_reactor
        from twisted.internet import reactor

        return reactor

    def arakoon_connect(self, name: str | None = None) -> Deferred[ArakoonProtocol]:
        """Connect a new :class:`~txarakoon.protocol.ArakoonProtocol` to node
        ``name`` (default: the master) over TCP; it is closed at cleanup."""
        from ..protocol import connect

        connecting = connect(self._reactor(), self.arakoon.endpoint(name), self.arakoon.cluster_id)

        def connected(protocol: ArakoonProtocol) -> ArakoonProtocol:
            self.addCleanup(protocol.close)
            return protocol

        return connecting.addCallback(connected)

    def arakoon_cluster_client(self, **settings: Any) -> ArakoonClient:
        """A new :class:`~txarakoon.cluster.ArakoonClient` for the cluster's
        loopback addresses (``settings`` go to it), disconnected at cleanup."""
        from ..cluster import ArakoonClient

        config = ClusterConfig.from_spec(self.arakoon.nodes_spec())
        client = ArakoonClient(config, self._reactor(), **settings)
        self.addCleanup(client.disconnect)
        return client
