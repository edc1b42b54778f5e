"""Cluster time for the behaviour suite: one face over an in-memory cluster on
a :class:`~twisted.internet.task.Clock` and a real cluster on wall-clock time.

A test lets time pass with :meth:`Timeline.wait`, waits for a condition with
:meth:`Timeline.until` (which says how long it took, on the cluster's time),
and gets each reply with :meth:`Timeline.done`. In memory, time moves only
when the test says so and bytes only when it asks for a reply, so every
in-memory run is the same; on a real cluster (``TXARAKOON_TEST_NODES``) time
is the wall clock, and the lease comes from ``TXARAKOON_TEST_LEASE``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectError
from twisted.internet.task import Clock, deferLater

from txarakoon.errors import ArakoonError, ConnectionFailure
from txarakoon.protocol import ArakoonProtocol, connect
from txarakoon.testing import ArakoonCluster

from .support import TIMEOUT, Target, reactor

T = TypeVar("T")

#: Where a real cluster's ``lease_period`` (seconds) is given.
LEASE_VARIABLE = "TXARAKOON_TEST_LEASE"
#: The in-memory cluster's lease and election delay: those measured live (D27).
MEMORY_LEASE = 4.0
MEMORY_ELECTION_DELAY = 0.5


class Timeline:
    """A 3-node cluster (or more, on a real one) and its time."""

    #: The master lease, in seconds.
    lease: float
    #: The node names.
    names: tuple[str, ...]
    #: Whether this is a real Arakoon cluster.
    real: bool

    def connect(self, name: str) -> Deferred[ArakoonProtocol]:
        """A new client connected to node ``name``."""
        raise NotImplementedError

    async def done(self, call: Deferred[T]) -> T:
        """The outcome of ``call``, once the reply has arrived (no cluster time passes)."""
        raise NotImplementedError

    async def wait(self, seconds: float) -> None:
        """Let ``seconds`` of cluster time pass."""
        raise NotImplementedError

    def now(self) -> float:
        """The cluster's time, in seconds."""
        raise NotImplementedError

    def master(self) -> str:
        """The node that is master now."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    async def until(
        self, check: Callable[[], Awaitable[bool]], within: float, step: float = 0.05
    ) -> float:
        """Ask ``check`` every ``step`` seconds until it says true; how long
        that took. Fails after ``within`` seconds."""
        start = self.now()
        while not await check():
            if self.now() - start > within:
                pytest.fail(f"not true within {within} s", pytrace=False)
            await self.wait(step)
        return self.now() - start

    async def answer(self, call: Deferred[T], within: float) -> tuple[float, T]:
        """How long the reply to ``call`` takes from now (at most ``within``
        seconds), and its outcome."""

        async def arrived() -> bool:
            return call.called

        took = await self.until(arrived, within)
        return took, await self.done(call)

    async def who_master(self, name: str) -> bytes | None:
        """What node ``name`` answers to ``who_master``, on a connection of its own."""
        client = await self.connect(name)
        try:
            return await self.done(client.who_master())
        finally:
            client.transport.loseConnection()  # type: ignore[union-attr]


class MemoryTimeline(Timeline):
    """An in-memory cluster on a Clock, reached over in-memory connections."""

    real = False

    def __init__(self, **options: Any) -> None:
        settings: dict[str, Any] = {
            "lease_period": MEMORY_LEASE,
            "election_delay": MEMORY_ELECTION_DELAY,
        }
        settings.update(options)
        self.cluster = ArakoonCluster(3, clock=Clock(), **settings)
        self.lease = self.cluster.lease_period
        self.names = self.cluster.names

    def connect(self, name: str) -> Deferred[ArakoonProtocol]:
        connecting: Deferred[ArakoonProtocol] = Deferred()
        connecting.callback(self.cluster.connect_in_memory(name).client)
        return connecting

    async def done(self, call: Deferred[T]) -> T:
        self.cluster.flush()
        assert call.called, "no reply unless cluster time passes"
        return await call

    async def wait(self, seconds: float) -> None:
        self.cluster.advance(seconds)

    def now(self) -> float:
        return self.cluster.clock.seconds()

    def master(self) -> str:
        master = self.cluster.master
        assert master is not None
        return master

    def close(self) -> None:
        self.cluster.stop()


class RealTimeline(Timeline):
    """A real Arakoon cluster on wall-clock time, over TCP."""

    real = True

    def __init__(self, target: Target, lease: float) -> None:
        self.target = target
        self.lease = lease
        self.names = target.names
        self.clients: list[ArakoonProtocol] = []

    def connect(self, name: str) -> Deferred[ArakoonProtocol]:
        from twisted.internet.endpoints import HostnameEndpoint

        host, port = self.target.address(name)
        endpoint = HostnameEndpoint(reactor(), host, port, timeout=TIMEOUT)

        def connected(client: ArakoonProtocol) -> ArakoonProtocol:
            self.clients.append(client)
            return client

        return connect(reactor(), endpoint, self.target.cluster_id).addCallback(connected)

    async def done(self, call: Deferred[T]) -> T:
        # Generous: a drop_master reply takes about 1.5 leases (D27).
        return await call.addTimeout(3 * self.lease + TIMEOUT, reactor())

    async def wait(self, seconds: float) -> None:
        await deferLater(reactor(), seconds, lambda: None)

    def now(self) -> float:
        return time.monotonic()

    def master(self) -> str:
        return self.target.master()

    def close(self) -> None:
        for client in self.clients:
            if client.transport is not None:
                client.transport.loseConnection()


def real_lease() -> float:
    """The real cluster's lease from the environment, or skip the test."""
    lease = os.environ.get(LEASE_VARIABLE)
    if not lease:
        pytest.skip(f"timing on a real cluster needs {LEASE_VARIABLE} (its lease_period, s)")
    return float(lease)


async def names_another_master(timeline: Timeline, asked: str, old: str) -> bool:
    """Whether node ``asked`` names a master other than ``old``."""
    try:
        named = await timeline.who_master(asked)
    except (ArakoonError, ConnectionFailure, ConnectError):
        # A real node may be busy electing, or restarting.
        return False
    return named is not None and named != old.encode()
