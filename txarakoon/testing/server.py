"""The server side of one client connection: :class:`NodeProtocol`.

It reads the prologue and then one request at a time with the sans-IO
:class:`~txarakoon.reader.Reader` and the declarations of
:mod:`txarakoon.messages` (the very ones the client uses), has its node
execute each request, and writes the reply with
:func:`~txarakoon.messages.encode_success` /
:func:`~txarakoon.messages.encode_error`. What it does with a wrong prologue,
an unknown opcode, arguments it cannot decode and error replies is listed in
:mod:`txarakoon.testing.node`. It needs from its node only a
:class:`ServedNode`.
"""

from __future__ import annotations

from typing import Any, Final, Protocol

from twisted.internet.defer import Deferred
from twisted.internet.protocol import Protocol as TwistedProtocol
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from .. import messages
from ..codec import DEFAULT_MAX_REPLY_LENGTH, STRING, UINT32, Product
from ..errors import ArakoonError, NoMagic, ProtocolViolation, UnknownFailure, UnsupportedCommand
from ..messages import Command
from ..reader import NEED_DATA, Decoder, Reader
from .quoting import UNKNOWN_FAILURE
from .view import ClusterView

__all__ = ["NodeProtocol", "ServedNode"]

_MASK: Final = 0x0000FFFF
_NOT_A_SEQUENCE: Final = "should have been a sequence"

#: The prologue's magic and version; its cluster id (a string) follows.
_PROLOGUE_HEAD: Final = Product(UINT32, UINT32)


class ServedNode(Protocol):
    """What a connection needs from the node it serves
    (:class:`~txarakoon.testing.node.ArakoonNode` is one)."""

    @property
    def name(self) -> str:
        """The node name, for logs."""

    @property
    def cluster(self) -> ClusterView:
        """Its cluster: the cluster id to check and the clock of reply delays."""

    @property
    def stalled(self) -> bool:
        """Whether nothing may be read, executed or written now."""

    @property
    def cut_after(self) -> int | None:
        """How many reply bytes a new connection writes before it is cut."""

    @property
    def reply_delay(self) -> float:
        """Seconds each reply waits before it is written."""

    def connection_opened(self, connection: NodeProtocol) -> None:
        """``connection`` is open (whether or not it is admitted)."""

    def admit(self, connection: NodeProtocol) -> ArakoonError | None:
        """The error to send ``connection`` at once, or ``None`` to serve it."""

    def connection_closed(self, connection: NodeProtocol) -> None:
        """``connection`` is closed."""

    def execute(self, command: Command[Any], arguments: tuple[Any, ...]) -> Any:
        """Run ``command``: its result, a Deferred of it, or an exception."""


def _command_for(word: int) -> Command[Any]:
    """The command a request's first word names, or _Close with the reply the
    real server gives."""
    if word & messages.MAGIC != messages.MAGIC:
        raise _Close(messages.encode_error(NoMagic()))
    opcode = word & _MASK
    command = messages.COMMANDS_BY_OPCODE.get(opcode)
    if command is None:
        message = b"%x: command not found" % opcode
        raise _Close(messages.encode_error(UnsupportedCommand(message)))
    return command


def _bad_arguments(command: Command[Any], error: ProtocolViolation) -> _Close:
    """How the real server answers arguments it cannot decode."""
    if not command.answers_bad_arguments:
        return _Close(b"")
    text = str(error)
    message = text.encode() if text == _NOT_A_SEQUENCE else UNKNOWN_FAILURE
    return _Close(messages.encode_error(UnknownFailure(message)))


class _Close(Exception):
    """Write ``reply`` (possibly nothing) and close the connection."""

    def __init__(self, reply: bytes) -> None:
        super().__init__(reply)
        self.reply = reply


class NodeProtocol(TwistedProtocol):
    """One client connection to an :class:`~txarakoon.testing.node.ArakoonNode`.

    Reads incrementally (bytes may arrive in any chunks) with a linear buffer,
    handles one request at a time, in order.

    :ivar node: the node.
    :ivar requests: how many requests were answered on this connection.
    :ivar bytes_written: how many reply bytes were written.
    """

    log = Logger()

    def __init__(self, node: ServedNode, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> None:
        self.node = node
        self.limit = limit
        self.requests = 0
        self.bytes_written = 0
        self._reader = Reader(limit)
        # What comes next on the wire: the prologue's head, its cluster id, a
        # request's command word, or the arguments of `_command`.
        self._expecting: Decoder[Any] = _PROLOGUE_HEAD
        self._command: Command[Any] | None = None
        self._started = False
        self._greeted = False
        self._busy = False
        self._draining = False
        self._closing = False
        self._cut_remaining: int | None = node.cut_after
        self._held: list[tuple[bytes, bool]] = []

    def __repr__(self) -> str:
        return f"<NodeProtocol {self.node.name} requests={self.requests}>"

    @property
    def closing(self) -> bool:
        """Whether this connection is closed or closing."""
        return self._closing

    def cut_after(self, reply_bytes: int | None) -> None:
        """Close this connection once it has written ``reply_bytes`` more bytes."""
        self._cut_remaining = reply_bytes

    def abort(self) -> None:
        """Cut the connection now, without a reply."""
        self._closing = True
        if self.transport is not None:
            self.transport.abortConnection()  # type: ignore[attr-defined]

    def resume(self) -> None:
        """Its node is no longer stalled: write the replies held meanwhile and
        go on reading."""
        if self._closing:
            return
        if not self._started:
            self._start()
            return
        held, self._held = self._held, []
        for reply, close in held:
            self._deliver(reply, close)
        self._drain()

    # -- Protocol ---------------------------------------------------------------

    def connectionMade(self) -> None:
        self.node.connection_opened(self)
        if not self.node.stalled:
            self._start()

    def dataReceived(self, data: bytes) -> None:
        if self._closing:
            return
        self._reader.feed(data)
        self._drain()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._closing = True
        self._reader.clear()
        self.node.connection_closed(self)

    # -- internals ----------------------------------------------------------------

    def _start(self) -> None:
        self._started = True
        refusal = self.node.admit(self)
        if refusal is not None:
            self._write(messages.encode_error(refusal))
            self._close()
            return
        self._drain()

    def _drain(self) -> None:
        if self._draining:
            return
        self._draining = True
        try:
            self._drain_loop()
        finally:
            self._draining = False

    def _drain_loop(self) -> None:
        while self._started and not (self._busy or self._closing or self.node.stalled):
            try:
                if not self._read_next():
                    return
            except _Close as close:
                if close.reply:
                    self._write(close.reply)
                self._close()
            except Exception:
                self.log.failure("Closing a connection to {node}", node=self.node.name)
                self._close()

    def _read_next(self) -> bool:
        """Read what comes next and act on it; False if its bytes are not all
        there yet."""
        expecting = self._expecting
        try:
            value = self._reader.read(expecting)
        except ProtocolViolation as error:
            if self._command is None:
                raise
            raise _bad_arguments(self._command, error) from error
        if value is NEED_DATA:
            return False
        if expecting is _PROLOGUE_HEAD:
            magic, version = value
            if magic != messages.MAGIC or version != messages.PROTOCOL_VERSION:
                raise _Close(b"")
            self._expecting = STRING
        elif not self._greeted:
            if value != self.node.cluster.cluster_id:
                raise _Close(b"")
            self._greeted = True
            self._expecting = UINT32
        elif self._command is None:
            self._command = _command_for(value)
            self._expecting = self._command.arguments_type
        else:
            command, self._command = self._command, None
            self._expecting = UINT32
            self._received(command, value)
        return True

    def _received(self, command: Command[Any], arguments: tuple[Any, ...]) -> None:
        self._busy = True
        try:
            result = self.node.execute(command, arguments)
        except Exception as error:
            self._reply_error(error)
            return
        if isinstance(result, Deferred):
            result.addCallbacks(
                lambda value: self._reply_value(command, value),
                lambda failure: self._reply_error(failure.value),
            )
            result.addErrback(lambda failure: self.log.failure("Reply failed", failure))
        else:
            self._reply_value(command, result)

    def _reply_value(self, command: Command[Any], value: Any) -> None:
        try:
            reply = messages.encode_success(command.result, value)
        except Exception as error:
            self._reply_error(error)
            return
        self._send(reply, False)

    def _reply_error(self, error: BaseException) -> None:
        if isinstance(error, ArakoonError):
            self._send(messages.encode_error(error), error.closes_connection)
            return
        self.log.failure(
            "Unexpected error on {node}",
            Failure(error),  # type: ignore[no-untyped-call]
            node=self.node.name,
        )
        self._send(messages.encode_error(UnknownFailure(UNKNOWN_FAILURE)), True)

    def _send(self, reply: bytes, close: bool) -> None:
        delay = self.node.reply_delay
        if delay > 0:
            self.node.cluster.call_later(delay, self._deliver, reply, close)
        else:
            self._deliver(reply, close)

    def _deliver(self, reply: bytes, close: bool) -> None:
        if self._closing:
            return
        if self.node.stalled:
            self._held.append((reply, close))
            return
        if not self._write(reply):
            return
        self.requests += 1
        if close:
            self._close()
            return
        self._busy = False
        self._drain()

    def _write(self, data: bytes) -> bool:
        """Write reply bytes; False when the connection was cut instead."""
        assert self.transport is not None
        remaining = self._cut_remaining
        if remaining is not None and len(data) >= remaining:
            self.transport.write(data[:remaining])
            self.bytes_written += remaining
            self._close()
            return False
        if remaining is not None:
            self._cut_remaining = remaining - len(data)
        self.transport.write(data)
        self.bytes_written += len(data)
        return True

    def _close(self) -> None:
        self._closing = True
        if self.transport is not None:
            self.transport.loseConnection()
