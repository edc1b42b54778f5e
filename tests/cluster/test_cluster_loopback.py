"""ArakoonClient over real loopback TCP against the in-memory cluster
(pytest-twisted runs these inside the reactor)."""

from __future__ import annotations

import os
import random
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest_twisted
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.task import Clock, deferLater

from txarakoon.cluster import ArakoonClient
from txarakoon.cluster.links import socket_of
from txarakoon.config import ClusterConfig, NodeConfig
from txarakoon.paging import iter_prefix
from txarakoon.testing import ArakoonCluster

GUARD = 10.0  # seconds: a hang fails the test instead of blocking the run


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


async def guarded(deferred: Deferred[Any]) -> Any:
    return await deferred.addTimeout(GUARD, _reactor())


@pytest_twisted.ensureDeferred
async def test_the_cluster_ini_loads_unchanged_and_the_client_works_over_loopback() -> None:
    reactor = _reactor()
    cluster = ArakoonCluster(3)
    addresses = cluster.listen(reactor)
    try:
        config = ClusterConfig.from_ini(cluster.ini())
        assert config.cluster_id == cluster.cluster_id
        assert {name: (node.hosts, node.port) for name, node in config.nodes.items()} == {
            name: ((host,), port) for name, (host, port) in addresses.items()
        }
        client = ArakoonClient(config, reactor)
        await guarded(client.set(b"k", b"v"))
        assert await guarded(client.get(b"k")) == b"v"
        assert await guarded(client.who_master()) == b"n0"
        protocol = client.connection("n0")
        assert protocol is not None
        handle = socket_of(protocol.transport)
        assert handle is not None
        assert handle.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert handle.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0
        await guarded(client.disconnect())
        # The servers see the close once the reactor delivers it.
        for _ in range(500):
            if not any(node.connections for node in cluster):
                break
            await deferLater(reactor, 0.01)
        assert [node.connections for node in cluster] == [[], [], []]
    finally:
        await cluster.stop()


async def drive(clock: Clock, deferred: Deferred[Any], limit: float, step: float = 0.05) -> None:
    """Let loopback I/O happen, then advance the clock by ``step``, until
    ``deferred`` fired (or ``limit`` seconds passed on the clock)."""
    reactor = _reactor()
    end = clock.seconds() + limit
    while not deferred.called and clock.seconds() < end:
        for _ in range(3):
            await deferLater(reactor, 0.001)
        clock.advance(step)


@pytest_twisted.ensureDeferred
async def test_failover_over_loopback_on_the_cluster_clock(record_property: Any) -> None:
    """The master dies; a write made right after succeeds once the cluster has
    a new master. Time runs on one Clock shared by the cluster and the client
    (real TCP moves the bytes), so the failover time is measured, not waited."""
    reactor = _reactor()
    clock = Clock()
    cluster = ArakoonCluster(3, clock=clock)  # default lease 10 s, election 1 s
    cluster.listen(reactor)
    config = ClusterConfig.from_ini(cluster.ini())

    def tcp(node: NodeConfig, host: str) -> IStreamClientEndpoint:
        return TCP4ClientEndpoint(reactor, host, node.port)

    client = ArakoonClient(config, clock, endpoint_factory=tcp, random=random.Random(5))
    try:
        warm = client.set(b"a", b"1")
        await drive(clock, warm, 10.0)
        await warm
        killed = clock.seconds()
        await cluster.kill("n0")
        await deferLater(reactor, 0.01)  # the client sees the connection close
        write = client.set(b"b", b"2")
        await drive(clock, write, 60.0)
        await write
        failover = clock.seconds() - killed
        record_property("failover_seconds_on_the_clock", round(failover, 2))
        assert failover >= cluster.lease_period + 1.0  # causality, not a bound
        assert client.master == cluster.master != "n0"
        assert cluster.store.get(b"b") == b"2"
    finally:
        closing = client.disconnect()
        await drive(clock, closing, 5.0)
        await cluster.stop()


@pytest_twisted.async_yield_fixture  # type: ignore[untyped-decorator]
async def target() -> AsyncIterator[ClusterConfig]:
    """``TXARAKOON_TEST_NODES`` if set (a real cluster), else the in-memory
    cluster on loopback ports."""
    spec = os.environ.get("TXARAKOON_TEST_NODES")
    if spec:
        yield ClusterConfig.from_spec(spec)
        return
    cluster = ArakoonCluster(3)
    cluster.listen(_reactor())
    yield ClusterConfig.from_spec(cluster.nodes_spec())
    await cluster.stop()


@pytest_twisted.ensureDeferred
async def test_pipelined_reads_and_writes_on_the_target_cluster(target: ClusterConfig) -> None:
    """Runs against a real cluster too: unique keys, cleaned up after."""
    client = ArakoonClient(target, _reactor())
    prefix = b"txarakoon-test/%s/" % uuid.uuid4().hex.encode()
    try:
        writes = [client.set(prefix + b"%03d" % i, b"v%03d" % i) for i in range(200)]
        await guarded(gatherResults(writes))
        reads = [client.get(prefix + b"%03d" % i) for i in range(200)]
        assert await guarded(gatherResults(reads)) == [b"v%03d" % i for i in range(200)]
        keys = [key async for key in iter_prefix(client, prefix, page_size=64)]
        assert keys == [prefix + b"%03d" % i for i in range(200)]
        master = await guarded(client.who_master())
        assert master is not None and master.decode() in target.nodes
    finally:
        await guarded(client.delete_prefix(prefix))
        await guarded(client.disconnect())


@pytest_twisted.ensureDeferred
async def test_read_your_writes_on_the_target_cluster(target: ClusterConfig) -> None:
    client = ArakoonClient(target, _reactor())
    session = client.read_your_writes()
    key = b"txarakoon-test/%s" % uuid.uuid4().hex.encode()
    try:
        await guarded(session.set(key, b"mine"))
        assert await guarded(session.get(key)) == b"mine"
    finally:
        await guarded(client.delete(key))
        await guarded(client.disconnect())
