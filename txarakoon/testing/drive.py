"""Run code against in-memory clusters from any test runner.

Neither trial nor pytest is needed here: :func:`resolve` runs a Deferred or a
coroutine to completion, moving bytes (:func:`flush`) and time as far as
needed; :class:`MemoryEndpoint`, :func:`memory_config` and
:func:`memory_cluster_client` let an :class:`~txarakoon.cluster.ArakoonClient`
reach a cluster in memory. The trial mixins (:mod:`txarakoon.testing.trial`)
and the pytest plugin (:mod:`txarakoon.testing.pytest_plugin`) are built on
them; :mod:`txarakoon.testing.trial` re-exports them.
"""

from __future__ import annotations

import random
from collections.abc import Coroutine, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.interfaces import IProtocol, IProtocolFactory, IStreamClientEndpoint
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from zope.interface import implementer

from ..config import ClusterConfig, NodeConfig
from .cluster import ArakoonCluster

if TYPE_CHECKING:
    from ..cluster import ArakoonClient

__all__ = [
    "DEFAULT_MAX_SECONDS",
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
