"""Run an :class:`~txarakoon.cluster.ArakoonClient` against an in-memory
:class:`~txarakoon.testing.ArakoonCluster` without sockets.

The client's reactor is the cluster's :class:`~twisted.internet.task.Clock`, so
one clock drives leases, elections, reply delays and the client's deadlines,
backoffs and silence timeouts. Bytes move only when the cluster is flushed;
:func:`run_until` advances the clock in small steps and flushes until a
Deferred fires.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.interfaces import IProtocolFactory, IStreamClientEndpoint
from twisted.internet.task import Clock
from zope.interface import implementer

from txarakoon.cluster import ArakoonClient
from txarakoon.config import ClusterConfig, NodeConfig
from txarakoon.testing import ArakoonCluster


class MemoryEndpoints:
    """An ``endpoint_factory`` connecting to the nodes of ``cluster`` in memory
    (``cluster.connect_in_memory(name, client=protocol)``).

    :ivar hang: names of nodes whose connection attempts never complete (a
        black-holed address); the client's connect timeout cancels them.
    :ivar connects: connection attempts per node.
    """

    def __init__(self, cluster: ArakoonCluster) -> None:
        self.cluster = cluster
        self.hang: set[str] = set()
        self.connects: Counter[str] = Counter()
        self.pending: list[Deferred[Any]] = []

    def __call__(self, node: NodeConfig, host: str) -> IStreamClientEndpoint:
        return _MemoryEndpoint(self, node.name)


@implementer(IStreamClientEndpoint)
class _MemoryEndpoint:
    def __init__(self, endpoints: MemoryEndpoints, name: str) -> None:
        self.endpoints = endpoints
        self.name = name

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[Any]:
        endpoints = self.endpoints
        endpoints.connects[self.name] += 1
        if self.name in endpoints.hang:
            hanging: Deferred[Any] = Deferred()
            endpoints.pending.append(hanging)
            return hanging
        protocol: Any = protocolFactory.buildProtocol(None)  # type: ignore[arg-type]
        assert protocol is not None
        try:
            endpoints.cluster.connect_in_memory(self.name, protocol)
        except ConnectionRefusedError as error:
            return fail(error)
        return succeed(protocol)


def memory_cluster(node_names: Any = 3, **settings: Any) -> ArakoonCluster:
    """An :class:`ArakoonCluster` on a fresh :class:`Clock`."""
    return ArakoonCluster(node_names, clock=Clock(), **settings)


def config_for(cluster: ArakoonCluster) -> ClusterConfig:
    """A configuration naming the cluster's nodes (addresses are not used)."""
    return ClusterConfig(
        cluster.cluster_id,
        {name: (["memory"], 4000 + index) for index, name in enumerate(cluster.names)},
    )


def memory_client(
    cluster: ArakoonCluster, endpoints: MemoryEndpoints | None = None, **settings: Any
) -> ArakoonClient:
    """An :class:`ArakoonClient` on the cluster's clock, connected in memory."""
    settings.setdefault("random", random.Random(5))
    return ArakoonClient(
        config_for(cluster),
        cluster.clock,
        endpoint_factory=endpoints or MemoryEndpoints(cluster),
        **settings,
    )


def clock_of(cluster: ArakoonCluster) -> Clock:
    assert isinstance(cluster.clock, Clock)
    return cluster.clock


def run_until(
    cluster: ArakoonCluster, *deferreds: Deferred[Any], limit: float = 120.0, step: float = 0.05
) -> float:
    """Flush, then advance the cluster clock ``step`` by ``step`` (flushing each
    time) until every Deferred has fired or ``limit`` seconds have passed on
    the clock. Returns the clock time when they had all fired; raises
    ``AssertionError`` if some never did (a hang)."""
    clock = clock_of(cluster)
    end = clock.seconds() + limit
    # Not `deferred.called`: a call being retried has been called, and waits
    # for its retry (a chained Deferred).
    fired = [False] * len(deferreds)

    def note(result: Any, index: int) -> Any:
        fired[index] = True
        return result

    for index, deferred in enumerate(deferreds):
        deferred.addBoth(note, index)
    cluster.flush()
    clock.advance(0)
    cluster.flush()
    while not all(fired):
        if clock.seconds() >= end:
            waiting = fired.count(False)
            raise AssertionError(f"{waiting} Deferreds still pending after {limit} s")
        clock.advance(step)
        cluster.flush()
    return clock.seconds()


def run_for(cluster: ArakoonCluster, seconds: float, step: float = 0.05) -> None:
    """Advance the clock by ``seconds`` in steps, flushing each time."""
    clock = clock_of(cluster)
    end = clock.seconds() + seconds
    cluster.flush()
    while clock.seconds() + 1e-9 < end:
        clock.advance(min(step, end - clock.seconds()))
        cluster.flush()


def client_timers(cluster: ArakoonCluster) -> list[Any]:
    """The delayed calls on the clock that are not the cluster's own (leases,
    elections, reply delays)."""
    own = set(cluster.delayed_calls())
    return [call for call in clock_of(cluster).getDelayedCalls() if call not in own]
