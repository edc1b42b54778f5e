"""Deterministic fakes for cluster-client unit tests: endpoints the test
controls, nodes that answer only when the test flushes, time on a task.Clock.

A :class:`FakeCluster` hands the client an ``endpoint_factory``. Each node can
accept, refuse or never answer connections, and answers requests with a tiny
key-value store whose master rules follow PROTOCOL.md §5.2 (a slave answers
writes and consistent reads with NotMaster and closes).
"""

from __future__ import annotations

from typing import Any

from twisted.internet import task
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import ConnectionDone, ConnectionLost, ConnectionRefusedError
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from txarakoon import errors, messages
from txarakoon.config import ClusterConfig, NodeConfig
from txarakoon.consistency import AtLeast, Consistent
from txarakoon.messages import COMMANDS_BY_OPCODE, encode_error, encode_success
from txarakoon.protocol import ArakoonProtocol


class _ClosingTransport(StringTransport):
    """Reports a close to the protocol at once, as a real reactor would soon."""

    def __init__(self, connection: FakeConnection) -> None:
        super().__init__()
        self.connection = connection

    def loseConnection(self) -> None:
        super().loseConnection()
        self.connection.lose(ConnectionDone())

    def abortConnection(self) -> None:
        super().abortConnection()
        self.connection.lose(ConnectionLost("aborted"))


class FakeConnection:
    def __init__(self, node: FakeNode, protocol: ArakoonProtocol) -> None:
        self.node = node
        self.protocol = protocol
        self.transport = _ClosingTransport(self)
        self.consumed = 0
        self.open = True
        protocol.makeConnection(self.transport)

    def requests(self) -> list[messages.Message[Any]]:
        """Decode the requests written since the last call."""
        data = self.transport.value()
        if self.consumed == 0:
            self.consumed = len(messages.prologue(b"arakoon"))
        found = []
        while self.consumed + 4 <= len(data):
            word = int.from_bytes(data[self.consumed : self.consumed + 4], "little")
            command = COMMANDS_BY_OPCODE[word & 0xFFFF]
            receiver = command.receive_arguments()
            offset = self.consumed + 4
            try:
                wanted = next(receiver)
                while True:
                    if offset + wanted > len(data):
                        return found
                    chunk = data[offset : offset + wanted]
                    offset += wanted
                    wanted = receiver.send(chunk)
            except StopIteration as done:
                found.append(command(*done.value))
                self.consumed = offset
        return found

    def lose(self, reason: Exception) -> None:
        if self.open:
            self.open = False
            self.protocol.connectionLost(Failure(reason))


class FakeNode:
    def __init__(self, cluster: FakeCluster, name: str) -> None:
        self.cluster = cluster
        self.name = name
        self.refuse = False
        self.hang = False
        self.silent = False
        self.connects = 0
        self.connections: list[FakeConnection] = []
        self.handled: list[str] = []
        #: Errors to answer the next writes with, in order.
        self.write_errors: list[errors.ArakoonError] = []
        #: If set, the node names this master instead of the cluster's.
        self.believes: str | None = None
        self.believes_set = False

    def who_master(self) -> bytes | None:
        name = self.believes if self.believes_set else self.cluster.master
        return None if name is None else name.encode()

    def handle(self, message: messages.Message[Any]) -> tuple[bytes, bool]:
        """The reply bytes, and whether the connection closes after them."""
        cluster = self.cluster
        name = message.command.name
        self.handled.append(name)
        is_master = cluster.master == self.name
        consistency = message.consistency
        needs_master = name not in messages.READ_ONLY_COMMANDS or consistency is Consistent
        if name in ("who_master", "version", "get_txid", "statistics", "current_state"):
            needs_master = False
        try:
            if needs_master and not is_master:
                raise errors.NotMaster(cluster.master.encode() if cluster.master else b"None")
            if name not in messages.READ_ONLY_COMMANDS and self.write_errors:
                error = self.write_errors.pop(0)
                if isinstance(error, errors.NoLongerMaster):
                    self._apply(message)
                raise error
            value = self._apply(message)
        except errors.ArakoonError as error:
            return encode_error(error), error.closes_connection
        return encode_success(message.command.result, value), False

    def _apply(self, message: messages.Message[Any]) -> Any:
        cluster = self.cluster
        name = message.command.name
        args = message.arguments
        if name == "who_master":
            return self.who_master()
        if name == "get":
            if (
                isinstance(args[0], AtLeast)
                and args[0].i > cluster.txid - 1
                and not (cluster.master == self.name)
            ):
                raise errors.InconsistentRead(b"store not fresh enough")
            try:
                return cluster.store[args[1]]
            except KeyError:
                raise errors.NotFound(b"Not_found") from None
        if name == "set":
            cluster.store[args[0]] = args[1]
            cluster.writes.append(args[0])
            cluster.txid += 1
            return None
        if name == "delete":
            if args[0] not in cluster.store:
                raise errors.NotFound(args[0])
            del cluster.store[args[0]]
            cluster.txid += 1
            return None
        if name == "nop":
            cluster.txid += 1
            return None
        if name == "get_txid":
            return AtLeast(cluster.txid)
        if name == "version":
            return (1, 9, 25, self.name.encode())
        raise AssertionError(f"the fake does not know {name}")


class FakeEndpoint:
    def __init__(self, node: FakeNode, client_settings: dict[str, Any]) -> None:
        self.node = node

    def connect(self, factory: Any) -> Deferred[Any]:
        node = self.node
        node.connects += 1
        if node.refuse:
            return fail(ConnectionRefusedError(node.name))
        if node.hang:
            return Deferred()  # cancelled by the client's connect timeout
        protocol = factory.buildProtocol(None)
        node.connections.append(FakeConnection(node, protocol))
        return succeed(protocol)


class FakeCluster:
    def __init__(self, names: tuple[str, ...] = ("n0", "n1", "n2"), master: str | None = "n0"):
        self.clock = task.Clock()
        self.nodes = {name: FakeNode(self, name) for name in names}
        self.master = master
        self.store: dict[bytes, bytes] = {}
        self.writes: list[bytes] = []
        self.txid = 1
        self.config = ClusterConfig(
            "arakoon", {name: (["127.0.0.1"], 4000 + i) for i, name in enumerate(names)}
        )

    def endpoint_factory(self, node: NodeConfig, host: str) -> FakeEndpoint:
        return FakeEndpoint(self.nodes[node.name], {})

    def flush(self) -> int:
        """Answer every request written so far (unless a node is silent);
        repeat until nothing more happens. Returns how many were answered."""
        answered = 0
        progress = True
        while progress:
            progress = False
            for node in self.nodes.values():
                if node.silent:
                    continue
                for connection in list(node.connections):
                    if not connection.open:
                        continue
                    for request in connection.requests():
                        reply, closes = node.handle(request)
                        answered += 1
                        progress = True
                        connection.protocol.dataReceived(reply)
                        if closes:
                            connection.lose(ConnectionDone())
                            break
        return answered

    def kill(self, name: str) -> None:
        node = self.nodes[name]
        node.refuse = True
        for connection in node.connections:
            connection.lose(ConnectionLost("killed"))

    def run(self, seconds: float = 60.0, step: float = 0.05) -> None:
        """Advance the clock in small steps, answering requests as they come."""
        self.flush()
        elapsed = 0.0
        while elapsed < seconds:
            self.clock.advance(step)
            elapsed += step
            self.flush()
