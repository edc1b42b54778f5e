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
pytest; the pytest plugin (:mod:`txarakoon.testing.pytest_plugin`) is built on
them.

A mixin goes *before* the test case class, so that its ``setUp`` runs; a test
case that defines its own ``setUp`` must call ``super().setUp()`` first (and,
with :class:`LoopbackArakoonMixin`, wait for the Deferred it returns).
"""

from __future__ import annotations

import random
from collections.abc import Coroutine, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from twisted.internet.defer import Deferred, fail, maybeDeferred, succeed
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.interfaces import IProtocol, IProtocolFactory, IStreamClientEndpoint
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from zope.interface import implementer

from ..config import ClusterConfig, NodeConfig
from .cluster import ArakoonCluster

if TYPE_CHECKING:
    from twisted.trial.unittest import SynchronousTestCase, TestCase

    from ..cluster import ArakoonClient
    from ..protocol import ArakoonProtocol

    _SynchronousBase = SynchronousTestCase
    _AsynchronousBase = TestCase
else:
    _SynchronousBase = _AsynchronousBase = object

__all__ = [
    "DEFAULT_MAX_SECONDS",
    "InMemoryArakoonMixin",
    "LoopbackArakoonMixin",
    "MemoryEndpoint",
    "flush",
    "memory_cluster_client",
    "memory_config",
    "resolve",
]

T = TypeVar("T")

#: How far :func:`resolve` may move a clock, by default, before it gives up.
DEFAULT_MAX_SECONDS = 600.0
# How many rounds of calls :func:`resolve` runs at one instant before it calls
# it a livelock.
_MAX_STILL_STEPS = 1_000


def _clusters(clusters: ArakoonCluster | Iterable[ArakoonCluster]) -> list[ArakoonCluster]:
    return [clusters] if isinstance(clusters, ArakoonCluster) else list(clusters)


def flush(clusters: ArakoonCluster | Iterable[ArakoonCluster]) -> bool:
    """Move bytes over the in-memory connections of every cluster until none
    move (a reply from one cluster may make the code under test write to
    another); whether any did."""
    targets = _clusters(clusters)
    moved = False
    for _ in range(10_000):
        step = False
        for cluster in targets:
            if cluster.flush():
                step = True
        if not step:
            return moved
        moved = True
    raise RuntimeError("in-memory connections keep talking: giving up")


def resolve(
    clusters: ArakoonCluster | Iterable[ArakoonCluster],
    result: Deferred[T] | Coroutine[Any, Any, T],
    *,
    clock: Clock | None = None,
    advance: bool = True,
    max_seconds: float = DEFAULT_MAX_SECONDS,
) -> T:
    """Run ``result`` to completion against in-memory ``clusters`` and return
    its value, or raise its exception (like
    :meth:`~twisted.trial.unittest.SynchronousTestCase.successResultOf`, but
    for failures too, so ``pytest.raises``/``assertRaises`` work).

    ``result`` is a Deferred, or a coroutine (e.g. your ``async def``
    function's), which is started as a Deferred.

    It moves bytes over every in-memory connection of ``clusters`` until none
    move. While the result is not there and ``advance`` is true, it advances
    ``clock`` (default: the first cluster's, which must be a
    :class:`~twisted.internet.task.Clock`) to its next scheduled call and
    flushes again, so delayed replies, elections, retries and timeouts happen
    as they would under a reactor, only at once. It never moves time further
    than needed.

    Raises :class:`AssertionError` if the result cannot come: nothing is
    scheduled any more (e.g. a stalled node and no timeout), ``advance`` is
    false, the next call is more than ``max_seconds`` away from the start, or
    calls keep being scheduled without time ever moving.
    """
    targets = _clusters(clusters)
    if not targets:
        raise ValueError("resolve() needs at least one cluster")
    if isinstance(result, Deferred):
        deferred: Deferred[T] = result
    elif isinstance(result, Coroutine):
        deferred = Deferred.fromCoroutine(result)
    else:
        raise TypeError(f"resolve() takes a Deferred or a coroutine, not {type(result).__name__}")
    if clock is None and advance:
        first = targets[0].clock
        if not isinstance(first, Clock):
            raise TypeError("resolve() advances time only on a task.Clock: pass clock=")
        clock = first
    outcome: list[Any] = []
    # Taking the result here also keeps a failure from being logged as unhandled.
    deferred.addBoth(outcome.append)
    deadline = None if clock is None else clock.seconds() + max_seconds
    still = 0
    while True:
        flush(targets)
        if outcome:
            break
        if not advance or clock is None or deadline is None:
            raise AssertionError(f"{deferred!r} has no result and time does not move")
        calls = clock.getDelayedCalls()
        if not calls:
            raise AssertionError(f"{deferred!r} has no result and nothing is scheduled")
        upcoming = min(call.getTime() for call in calls)
        if upcoming > deadline:
            raise AssertionError(f"{deferred!r} has no result after {max_seconds} s (simulated)")
        now = clock.seconds()
        # Code that keeps scheduling calls for "now" would never let time move.
        still = still + 1 if upcoming <= now else 0
        if still > _MAX_STILL_STEPS:
            raise AssertionError(
                f"{deferred!r} has no result: calls keep being scheduled at t={now} "
                f"(e.g. {min(calls, key=lambda call: call.getTime())!r})"
            )
        clock.advance(max(0.0, upcoming - now))
    value = outcome[0]
    if isinstance(value, Failure):
        value.raiseException()
    return value  # type: ignore[no-any-return]


@implementer(IStreamClientEndpoint)
class MemoryEndpoint:
    """A client endpoint that connects to one node of an in-memory cluster,
    without sockets (see :mod:`txarakoon.testing.memory`). The connection is
    pumped by ``cluster.flush()``; a dead node refuses it with
    :class:`~twisted.internet.error.ConnectionRefusedError`."""

    def __init__(self, cluster: ArakoonCluster, name: str) -> None:
        cluster.node(name)  # KeyError now rather than at connect time
        self.cluster = cluster
        self.name = name

    def __repr__(self) -> str:
        return f"<MemoryEndpoint {self.name}>"

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        """Build a protocol with ``protocolFactory`` and connect it in memory."""
        protocol = protocolFactory.buildProtocol(None)  # type: ignore[arg-type]
        if not isinstance(protocol, Protocol):
            return fail(TypeError(f"{protocolFactory!r} built {protocol!r}, not a Protocol"))
        try:
            self.cluster.connect_in_memory(self.name, protocol)
        except ConnectionRefusedError:
            return fail()
        connected: IProtocol = protocol
        return succeed(connected)


def memory_config(cluster: ArakoonCluster) -> ClusterConfig:
    """A :class:`~txarakoon.config.ClusterConfig` naming the cluster's nodes,
    with placeholder addresses: use it with :class:`MemoryEndpoint`."""
    return ClusterConfig(cluster.cluster_id, {name: (["in-memory"], 1) for name in cluster.names})


def memory_cluster_client(cluster: ArakoonCluster, **settings: Any) -> ArakoonClient:
    """An :class:`~txarakoon.cluster.ArakoonClient` for an in-memory cluster: it
    connects to the nodes in memory and keeps time on the cluster's clock, so
    master discovery, retries and timeouts run under :func:`resolve`.

    ``settings`` go to :class:`~txarakoon.cluster.ArakoonClient` (``timeout``,
    ``backoff``, ``read_node``, ...); its random choices (which node to ask first,
    the read node, retry jitter) come from ``random.Random(0)`` unless
    ``random`` is given, so that a test runs the same way every time. Call
    ``disconnect()`` when done.
    """
    from ..cluster import ArakoonClient

    def endpoint(node: NodeConfig, host: str) -> IStreamClientEndpoint:
        return MemoryEndpoint(cluster, node.name)

    settings.setdefault("random", random.Random(0))
    return ArakoonClient(
        memory_config(cluster), cluster.clock, endpoint_factory=endpoint, **settings
    )


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
