"""Connect a client protocol to an in-memory node without any socket.

For :class:`~twisted.trial.unittest.SynchronousTestCase` tests (which run the
same under trial and pytest): bytes move between the client and the node only
when you :meth:`~MemoryConnection.flush` (or ``cluster.flush()``), and time
moves only when you advance the cluster's :class:`~twisted.internet.task.Clock`
(``cluster.advance(seconds)`` does both)::

    from twisted.internet.task import Clock
    from twisted.trial.unittest import SynchronousTestCase

    from txarakoon.testing import ArakoonCluster

    class SetGet(SynchronousTestCase):
        def test_set_then_get(self) -> None:
            cluster = ArakoonCluster(3, clock=Clock())
            client = cluster.connect_in_memory().client   # to the master
            done = client.set(b"key", b"value")
            cluster.flush()
            self.successResultOf(done)
            value = client.get(b"key")
            cluster.flush()
            self.assertEqual(self.successResultOf(value), b"value")

Built on :mod:`twisted.test.iosim`. :class:`RawClient` sends and records raw
bytes, for tests of the wire protocol itself.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, overload

from twisted.internet.error import ConnectionRefusedError
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.test.iosim import FakeTransport, IOPump

from ..messages import prologue
from ..protocol import ArakoonProtocol
from .node import ArakoonNode
from .server import NodeProtocol

__all__ = ["MemoryConnection", "RawClient", "connect_in_memory"]

P = TypeVar("P", bound=Protocol)


class MemoryConnection(Generic[P]):
    """A client protocol connected to a node in memory.

    :ivar client: the client protocol (e.g. an ``ArakoonProtocol``).
    :ivar server: the node's :class:`~txarakoon.testing.node.NodeProtocol`.
    """

    def __init__(self, node: ArakoonNode, client: P) -> None:
        server = node.buildProtocol(None)
        if server is None:
            raise ConnectionRefusedError(  # type: ignore[no-untyped-call]
                f"node {node.name} is not running"
            )
        self.node = node
        self.client = client
        self.server: NodeProtocol = server
        self.client_transport = FakeTransport(client, isServer=False)  # type: ignore[no-untyped-call]
        self.server_transport = FakeTransport(server, isServer=True)  # type: ignore[no-untyped-call]
        self._pump = IOPump(  # type: ignore[no-untyped-call]
            client, server, self.client_transport, self.server_transport, False
        )
        node.memory_links.add(self)
        server.makeConnection(self.server_transport)  # type: ignore[no-untyped-call]
        client.makeConnection(self.client_transport)  # type: ignore[no-untyped-call]
        self.flush()

    def __repr__(self) -> str:
        state = "closed" if self.disconnected else "open"
        return f"<MemoryConnection to {self.node.name} {state}>"

    @property
    def disconnected(self) -> bool:
        """Whether the connection is closed on both sides."""
        return bool(self.client_transport.disconnected and self.server_transport.disconnected)

    def pump(self) -> bool:
        """Move what each side wrote so far to the other once (or deliver a
        close); whether anything happened."""
        return bool(self._pump.pump(advanceClock=False))  # type: ignore[no-untyped-call]

    def flush(self) -> bool:
        """:meth:`pump` until nothing moves; whether anything did."""
        moved = False
        for _ in range(100_000):
            if not self.pump():
                return moved
            moved = True
        raise RuntimeError("this connection keeps talking: giving up")

    def disconnect(self) -> None:
        """Close the connection from the client side, and flush."""
        self.client_transport.loseConnection()  # type: ignore[no-untyped-call]
        self.flush()


@overload
def connect_in_memory(
    node: ArakoonNode, client: None = None
) -> MemoryConnection[ArakoonProtocol]: ...
@overload
def connect_in_memory(node: ArakoonNode, client: P) -> MemoryConnection[P]: ...
def connect_in_memory(node: ArakoonNode, client: Any = None) -> MemoryConnection[Any]:
    """Connect ``client`` to ``node`` in memory and flush once (so an
    ``ArakoonProtocol``'s prologue has arrived).

    ``client`` defaults to a new :class:`~txarakoon.protocol.ArakoonProtocol` for
    the node's cluster. Raises :class:`~twisted.internet.error.ConnectionRefusedError`
    if the node is dead.
    """
    if client is None:
        client = ArakoonProtocol(node.cluster.cluster_id)
    return MemoryConnection(node, client)


class RawClient(Protocol):
    """A client that sends raw bytes and records what comes back.

    :param greeting: bytes sent on connect, e.g. :meth:`with_prologue`'s.
    :ivar received: every byte received so far.
    :ivar lost: whether the connection is closed.
    """

    def __init__(self, greeting: bytes = b"") -> None:
        self.greeting = greeting
        self.received = bytearray()
        self.lost = False
        self.reason: Failure | None = None

    @classmethod
    def with_prologue(cls, cluster_id: bytes | str) -> RawClient:
        """A client that sends the prologue for ``cluster_id`` on connect."""
        return cls(prologue(cluster_id))

    def connectionMade(self) -> None:
        if self.greeting and self.transport is not None:
            self.transport.write(self.greeting)

    def send(self, data: bytes) -> None:
        """Write ``data`` to the node (flush to deliver it)."""
        assert self.transport is not None
        self.transport.write(data)

    def take(self) -> bytes:
        """The bytes received since the last ``take``."""
        data = bytes(self.received)
        self.received.clear()
        return data

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost = True
        self.reason = reason
