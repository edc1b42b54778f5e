"""ArakoonProtocol: one pipelined connection to one node (see the package
documentation for its failure semantics)."""

from __future__ import annotations

from collections import deque
from contextlib import suppress
from typing import Any, TypeVar

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from ..admin import AdminMixin
from ..client import AbstractClient, Async, ClientMixin
from ..codec import DEFAULT_MAX_REPLY_LENGTH, STRING
from ..errors import (
    ArakoonError,
    CallbackError,
    NotConnectedError,
    ProtocolViolation,
    RequestNotProcessed,
)
from ..messages import Message, prologue
from ..reader import NEED_DATA, Reader
from .owned import OwnedRequests
from .owner import OwnerMixin
from .requests import CancelledBeforeSending, Request, fail_all
from .silence import SilenceTimer
from .writes import WriteQueue

__all__ = ["DEFAULT_MAX_IN_FLIGHT", "ArakoonProtocol"]

T = TypeVar("T")

#: Default limit of requests written and not yet answered.
DEFAULT_MAX_IN_FLIGHT = 1024


class ArakoonProtocol(
    Protocol,
    WriteQueue,
    SilenceTimer,
    OwnerMixin,
    ClientMixin[Async],
    AdminMixin[Async],
    AbstractClient,
):
    """A pipelined client connection to one Arakoon node.

    :param cluster_id: the cluster id sent in the prologue; a node of another
        cluster closes the connection without a word.
    :param max_in_flight: how many requests may be written and unanswered at
        once; more wait, unsent, in order (``None``: no limit).
    :param max_reply_length: the largest string length or element count accepted
        in a reply; anything larger is a protocol violation, not an allocation.
    :param silence_timeout: with ``clock``, abort the connection when the server
        sends nothing for this many seconds while replies are owed. An idle
        connection (nothing written and unanswered) is never aborted.
    :param clock: the :class:`~twisted.internet.interfaces.IReactorTime` that
        times ``silence_timeout``.
    """

    log = Logger()

    def __init__(
        self,
        cluster_id: bytes | str,
        *,
        max_in_flight: int | None = DEFAULT_MAX_IN_FLIGHT,
        max_reply_length: int = DEFAULT_MAX_REPLY_LENGTH,
        silence_timeout: float | None = None,
        clock: IReactorTime | None = None,
    ) -> None:
        if max_in_flight is not None:
            if isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int):
                raise TypeError(f"max_in_flight must be an int or None, not {max_in_flight!r}")
            if max_in_flight < 1:
                raise ValueError(f"max_in_flight must be at least 1, not {max_in_flight}")
        if isinstance(max_reply_length, bool) or not isinstance(max_reply_length, int):
            raise TypeError(f"max_reply_length must be an int, not {max_reply_length!r}")
        if max_reply_length < 0:
            raise ValueError(f"max_reply_length must not be negative, not {max_reply_length}")
        if silence_timeout is not None:
            if clock is None:
                raise TypeError("silence_timeout needs a clock (an IReactorTime)")
            if not silence_timeout > 0:
                raise ValueError(f"silence_timeout must be positive, not {silence_timeout!r}")
        try:
            self.cluster_id = STRING.check(cluster_id)
        except TypeError as error:
            raise TypeError(f"cluster_id: {error}") from None
        self.max_in_flight = max_in_flight
        self.silence_timeout = silence_timeout
        self.clock = clock
        self.connected = False
        self._reader = Reader(max_reply_length)
        self._feed = self._reader.feed  # bound once: called for every chunk
        # Whether replies are being read: bytes that arrive meanwhile (from a
        # callback, on a transport that delivers synchronously) wait for the
        # loop that reads them.
        self._draining = False
        # Requests written while replies are being read (by their callbacks)
        # go out together when the reading is done: one transport write for
        # many requests, not one each. Twisted would not send them any sooner.
        self._output: list[bytes] = []
        # Written and awaiting a reply, oldest first: the reply being read is
        # the head's.
        self._sent: deque[Request] = deque()
        self._unsent: deque[Request] = deque()
        self._paused = False
        # Why the connection is finished although not lost yet (a closing reply,
        # a violation, silence); once set, nothing more is written or parsed.
        self._closing_error: BaseException | None = None
        self._lost_waiters: list[Deferred[None]] = []
        self._lost = False
        # Bound once, not once per request.
        self._canceller = self._cancel
        self._bytes_received = 0  # see bytes_received
        self._owned = OwnedRequests(clock, self._deadlines_passed)

    # -- ClientMixin ----------------------------------------------------------

    def _process(self, message: Message[T]) -> Deferred[T]:
        # Serialised now, so that a value the codec cannot write raises here,
        # before anything is queued: a request must never sit in the FIFO
        # without having been written whole.
        data = message.serialize()
        if not self.connected:
            return fail(NotConnectedError(f"not connected: cannot send {message.command.name}"))
        request = Request(message, data, Deferred(self._canceller))
        if self._can_write():
            self._write(request)
        else:
            self._unsent.append(request)
        return request.deferred

    @property
    def pending(self) -> int:
        """How many requests await a reply, written or not."""
        return len(self._sent) + len(self._unsent)

    @property
    def in_flight(self) -> int:
        """How many of them are written (the others wait, unsent, for room:
        ``max_in_flight`` or the transport's backpressure)."""
        return len(self._sent)

    @property
    def max_reply_length(self) -> int:
        """The largest string length or element count accepted in a reply."""
        return self._reader.limit

    @property
    def reader(self) -> Reader:
        """The :class:`~txarakoon.reader.Reader` of this connection's replies:
        ``len(protocol.reader)`` bytes have arrived that no reply has consumed
        yet, and ``protocol.reader.reading`` says whether one is part read."""
        return self._reader

    # -- bytes_received: the cluster client's stall check (cluster/stalls.py) --

    @property
    def bytes_received(self) -> int:
        """How many bytes have arrived on this connection. Unchanged over an
        interval while replies are owed: the node sent nothing meanwhile, not
        even part of a reply."""
        return self._bytes_received

    # ---------------------------------------------------------------------------

    def close(self) -> Deferred[None]:
        """Close the connection; the Deferred fires once it is closed.

        Replies to requests already written are still delivered until the
        connection is gone; those that do not arrive fail with
        :class:`~txarakoon.errors.ConnectionLost`. Requests not yet written fail
        at once with :class:`~txarakoon.errors.RequestNotProcessed`.
        """
        if self.transport is None:
            # Never connected: there is nothing to close.
            return succeed(None)
        waiter = self.when_lost()
        if not self._lost:
            self.connected = False
            unsent, self._unsent = self._unsent, deque()
            self._stop_deadlines_if_none()
            for request in unsent:
                request.reject(
                    RequestNotProcessed("the connection was closed", repr(request.message))
                )
            self._flush()
            self._lose_connection()
        return waiter

    def when_lost(self) -> Deferred[None]:
        """A Deferred that fires (with ``None``) when the connection is gone."""
        if self._lost:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._lost_waiters.append(waiter)
        return waiter

    # -- Protocol -------------------------------------------------------------

    def connectionMade(self) -> None:
        transport = self.transport
        assert transport is not None
        set_no_delay = getattr(transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            # Not every transport is a TCP socket (UNIX sockets, in-memory pipes).
            with suppress(OSError):
                set_no_delay(True)
        transport.registerProducer(self, True)  # type: ignore[attr-defined]
        transport.write(prologue(self.cluster_id))
        self.connected = True

    def dataReceived(self, data: bytes) -> None:
        self._bytes_received += len(data)  # see bytes_received
        if self._lost or self._closing_error is not None:
            # After a closing reply, a violation or silence, nothing more is
            # owed to anyone: what still arrives is dropped.
            return
        if self.timeOut is not None:  # the silence timer runs: replies are owed
            silence = self._silence
            assert silence is not None and self.clock is not None
            silence.heard = self.clock.seconds()  # (see silence.py)
        if not self._feed(data) or self._draining:
            # A reply still short of the bytes it waits for; or re-entered
            # from a callback run while reading, whose loop picks them up.
            return
        self._draining = True
        try:
            self._read_replies()
        finally:
            self._draining = False
            self._flush()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._lost:
            return
        self.connected = False
        self._lost = True
        self._stop_silence_timer()
        cause: BaseException
        if self._closing_error is not None:
            cause = self._closing_error
        elif reason.value is not None:
            cause = reason.value
        else:
            cause = ConnectionDone("connection lost")
        self._fail_pending(cause)
        waiters, self._lost_waiters = self._lost_waiters, []
        for waiter in waiters:
            waiter.callback(None)

    # -- internals ------------------------------------------------------------

    def _cancel(self, deferred: Deferred[Any]) -> None:
        if self._owned.cancel_following(deferred):
            return  # its request failed, and its owner is retrying it
        for request in self._unsent:
            if request.deferred is deferred:
                self._unsent.remove(request)
                self._untime_cancelled(request, self._unsent)
                deferred.errback(CancelledBeforeSending())
                return
        for request in self._sent:
            if request.deferred is deferred:
                # Its reply will still come: keep the FIFO place, drop the value.
                request.cancelled = True
                self._untime_cancelled(request, self._sent)
                return

    def _finished(self) -> bool:
        return self._lost or self._closing_error is not None

    def _read_replies(self) -> None:
        # State is read afresh each time round: the callbacks run by `_finish`
        # may write, cancel, close or lose the connection, or deliver bytes.
        reader = self._reader
        while not self._finished():
            if not self._sent:
                if len(reader):
                    self._abort(ProtocolViolation(f"{len(reader)} unexpected bytes"))
                return
            try:
                outcome = reader.read(self._sent[0].message.reply)
            except Exception as error:  # the reply breaks the protocol
                self._malformed(error)
                return
            if outcome is NEED_DATA or self._finished():
                # (A progress callback may have lost the connection, and
                # with it failed every request.)
                return
            self._finish(outcome)

    def _finish(self, outcome: Any) -> None:
        """The head request's reply was read: ``outcome`` is its value, or the
        error the server answered (see :class:`~txarakoon.messages.Reply`)."""
        request = self._sent.popleft()
        if not self._sent:
            self._stop_silence_timer()
            if not self._unsent and self._owned.timer is not None:
                self._owned.stop()  # nothing pending: no deadline timer
        if not isinstance(outcome, (ArakoonError, CallbackError)):
            request.resolve(outcome)
            if self._unsent:
                self._write_unsent()
        elif isinstance(outcome, ArakoonError) and outcome.closes_connection:
            self._server_closes(request, outcome)
        else:
            request.reject(outcome)
            self._write_unsent()

    def _malformed(self, error: Exception) -> None:
        """The head request's reply broke the protocol with ``error``."""
        request = self._sent.popleft()
        if isinstance(error, ProtocolViolation):
            violation = error
        else:
            violation = ProtocolViolation(f"{type(error).__name__}: {error}")
            violation.__cause__ = error
        self._abort(violation, head=request)

    def _take_pending(self, error: BaseException) -> tuple[deque[Request], deque[Request]]:
        """Mark the connection finished (nothing more is written or parsed) and
        hand over every pending request, to be failed by the caller."""
        # The transport is about to be closed or aborted: what was written
        # goes to it first, as it would have without the batching.
        self._flush()
        self.connected = False
        if self._closing_error is None:
            self._closing_error = error
        self._stop_silence_timer()
        self._drop_input()
        sent, unsent = self._sent, self._unsent
        self._sent, self._unsent = deque(), deque()
        self._owned.stop()
        return sent, unsent

    def _drop_input(self) -> None:
        self._reader.clear()

    def _server_closes(self, head: Request, error: ArakoonError) -> None:
        """The server sent a reply after which it closes the connection: it never
        read the requests behind it."""
        sent, unsent = self._take_pending(error)
        head.reject(error)
        for request in (*sent, *unsent):
            request.reject(RequestNotProcessed(error, repr(request.message)))
        self._lose_connection()

    def _lose_connection(self) -> None:
        transport: Any = self.transport
        if transport is None:
            return
        # Twisted's TLS layer starts its shutdown only once no producer is
        # registered: without this, closing a TLS connection never ends.
        unregister = getattr(transport, "unregisterProducer", None)
        if unregister is not None:
            unregister()
        transport.loseConnection()

    def _abort(self, error: BaseException, head: Request | None = None) -> None:
        """Give up on the connection: ``head`` (the request whose reply broke the
        protocol) fails with ``error``, the others as on connection loss."""
        if isinstance(error, ProtocolViolation):
            self.log.error("Closing the connection: {error}", error=error)
        sent, unsent = self._take_pending(error)
        if head is not None:
            head.reject(error)
        fail_all(sent, unsent, error)
        if self.transport is not None:
            self.transport.abortConnection()  # type: ignore[attr-defined]

    def _fail_pending(self, cause: BaseException) -> None:
        self._output.clear()
        self._drop_input()
        sent, unsent = self._sent, self._unsent
        self._sent, self._unsent = deque(), deque()
        self._owned.stop()
        fail_all(sent, unsent, cause)
