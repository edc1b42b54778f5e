"""What the owner of a connection (the cluster client) may do beyond the
commands: send a request whose failures it handles first, under a deadline,
and interrupt its requests (see :mod:`txarakoon.protocol.owned`)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from twisted.internet.defer import Deferred, fail
from twisted.internet.interfaces import IReactorTime

from ..errors import NotConnectedError
from ..messages import Message
from .owned import (
    DeadlinePassed,
    FailureHandler,
    OwnedRequest,
    OwnedRequests,
    RequestInterrupted,
    due,
)
from .requests import Request

__all__ = ["OwnerMixin"]

T = TypeVar("T")


class _Connection(Protocol):
    """What :class:`OwnerMixin` uses of the :class:`ArakoonProtocol` it is
    part of: its queues (written, unsent) and how it writes."""

    _unsent: deque[Request]
    _paused: bool
    requests_sent: int
    max_in_flight: int | None

    @property
    def connected(self) -> int: ...

    @property
    def clock(self) -> IReactorTime | None: ...

    @property
    def _sent(self) -> deque[Request]: ...

    @property
    def _owned(self) -> OwnedRequests: ...

    @property
    def _canceller(self) -> Callable[[Deferred[Any]], None]: ...

    def _write(self, request: Request) -> None: ...

    def _stop_deadlines_if_none(self, first: deque[Request] | None = None) -> None: ...

    def _untime_cancelled(self, request: Request, queue: deque[Request]) -> None: ...


class OwnerMixin:
    """The owner's methods of :class:`~txarakoon.protocol.ArakoonProtocol`.

    :ivar requests_sent: how many requests were sent with :meth:`submit` (and
        counted by the owner's other ways of sending) on this connection.
    """

    requests_sent = 0

    def submit(
        self: _Connection,
        message: Message[T],
        handler: FailureHandler,
        context: Any = None,
        deadline: float | None = None,
        timeout: float | None = None,
    ) -> Deferred[T]:
        """Send ``message`` for the owner of this connection: the Deferred
        fires with the reply, with nothing added to it on the way; a failure
        goes to ``handler`` first.

        :param handler: called as ``handler(request, error)`` with the
            :class:`~txarakoon.protocol.owned.OwnedRequest` (its ``message``,
            ``context`` and ``deadline``) before its Deferred fails; it returns
            the exception to fail it with, or a Deferred (a retry) for it to
            follow.
        :param context: kept with the request, for ``handler``.
        :param deadline: when (on the protocol's clock) the request fails
            with :class:`~txarakoon.protocol.owned.DeadlinePassed`, given to
            ``handler`` like any failure; ``None``: never.
        :param timeout: instead of ``deadline``, how many seconds from now.

        A request that cannot be sent (not connected) fails at once, without
        ``handler``: nothing was queued. Its caller cancelling it is not a
        failure for ``handler`` either: it fails with ``CancelledError``.
        Each request sent counts in :attr:`requests_sent`.
        """
        data = message.serialize()
        owned = self._owned
        if timeout is not None:
            if deadline is not None:
                raise TypeError("a request has a deadline or a timeout, not both")
            if timeout.__class__ is not float:
                timeout = owned.check(timeout, "timeout")  # raises without a clock
            # Read now, not once per chunk of replies: a reply's callbacks may
            # take long before they send, and the deadline counts from the call.
            deadline = owned.now() + timeout
        if not self.connected:
            if deadline is not None:
                owned.check(deadline)  # bad input raises all the same
            return fail(NotConnectedError(f"not connected: cannot send {message.command.name}"))
        if deadline is not None:
            if timeout is not None and owned.timer is not None and deadline >= owned.latest:
                # OwnedRequests.add when the timer needs no change, written
                # out: nearly every request takes it, and a call costs. (A
                # float timeout makes a float deadline; NaN is never >=.)
                owned.latest = deadline
            else:
                deadline = owned.check(deadline)  # raises before anything is sent
                owned.add(deadline)
        # The request made empty and filled in here, not by an __init__ or a
        # method: this runs for every call, and a call frame costs.
        request = OwnedRequest()
        request.message = message
        request.data = data
        deferred: Deferred[T] = Deferred(self._canceller)
        request.deferred = deferred
        request.cancelled = False
        request.handler = handler
        request.context = context
        request.deadline = deadline
        request.owned = owned
        self.requests_sent += 1
        # _can_write(), written out for the same reason.
        limit = self.max_in_flight
        if not self._paused and not self._unsent and (limit is None or len(self._sent) < limit):
            self._write(request)
        else:
            self._unsent.append(request)
        return deferred

    def interrupt_owned(self: _Connection, why: object) -> None:
        """Stop every pending request sent with :meth:`submit`: each fails
        through its handler with
        :class:`~txarakoon.protocol.owned.RequestInterrupted` (``why``).
        Written ones keep their place, their replies read and dropped; unsent
        ones are dropped."""
        sent = [request for request in self._sent if isinstance(request, OwnedRequest)]
        unsent = [request for request in self._unsent if isinstance(request, OwnedRequest)]
        if unsent:
            self._unsent = deque(r for r in self._unsent if not isinstance(r, OwnedRequest))
        for request in sent:
            _stop(request, RequestInterrupted(why, sent=True))
        for request in unsent:
            _stop(request, RequestInterrupted(why, sent=False))
        self._stop_deadlines_if_none()

    def _stop_deadlines_if_none(self: _Connection, first: deque[Request] | None = None) -> None:
        """Stop the deadline timer if no pending request has a deadline any
        more (after a cancellation or an interruption, not for a reply: a
        request answered leaves the FIFO, and an empty FIFO stops it there).
        The search runs only while the timer does, and ends at the first
        deadline: in ``first`` (the queue a request left), then the other."""
        owned = self._owned
        if owned.timer is None:
            return
        queues = (self._sent, self._unsent) if first is not self._unsent else (first, self._sent)
        for queue in queues:
            for request in queue:
                if request.deadline is not None:
                    return
        owned.stop()

    def _untime_cancelled(self: _Connection, request: Request, queue: deque[Request]) -> None:
        """``request``, of ``queue``, was cancelled: it has no deadline now,
        and without one pending the timer stops. (One without a deadline
        changes nothing, unless nothing is pending any more.)"""
        if request.deadline is not None:
            request.untime()
            self._stop_deadlines_if_none(queue)
        elif not self._sent and not self._unsent:
            self._stop_deadlines_if_none()

    def _deadlines_passed(self: _Connection, now: float) -> None:
        """The deadline timer fired: fail the requests due at ``now``."""
        owned = self._owned
        sent, unsent, earliest = due(self._sent, self._unsent, now, owned.ordered)
        if unsent:
            dropped = set(unsent)
            self._unsent = deque(r for r in self._unsent if r not in dropped)
        # Armed before the requests fail: their handlers and callbacks may
        # send more, which must find the timer in place.
        if earliest is not None:
            owned.arm(earliest)
        else:
            owned.stop()  # (it has fired): the next deadline starts afresh
        for request in sent:
            _stop(request, DeadlinePassed(sent=True))
        for request in unsent:
            _stop(request, DeadlinePassed(sent=False))


def _stop(request: OwnedRequest, error: RequestInterrupted) -> None:
    # (Unless the callbacks of one stopped before it ended it already.)
    if not request.cancelled and not request.deferred.called:
        request.reject(error)  # which marks it cancelled: its reply is dropped
