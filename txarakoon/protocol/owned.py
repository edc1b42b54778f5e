"""Requests sent for an owner: the owner sees a failure before the caller
does, and the requests' deadlines are timed by one timer per connection.

The owner of a connection (the cluster client) sends a request with
:meth:`~txarakoon.protocol.ArakoonProtocol.submit`, giving a failure handler
and, if it wants one, a deadline. The caller gets the request's own Deferred,
with nothing added to it: on success the reply fires it directly. On failure
the handler runs first and answers either an exception, which fails the
Deferred, or a Deferred (a retry), which the request's Deferred then follows:
it stays unfired until the retry ends, and cancelling it cancels the retry.

Deadlines: the requests of a connection are one FIFO, oldest first, so when
deadlines come in the order the requests were made (one timeout, or a
growing one) the oldest request with a deadline has the earliest. One timer
is set for the earliest deadline. Requests answered in time do not move it:
when it fires, it fails the requests due and is armed again for the earliest
deadline still pending, so every deadline fires at its exact time. A
deadline earlier than one made before it (a shorter timeout) re-arms the
timer, and until the timer is stopped, a firing scans every pending request.
The timer is stopped when the connection has nothing pending, or finds no
deadline pending when it fires: no request counts in or out on its way, so
that a call with a deadline costs what one without costs, but for reading
the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.python.failure import Failure

from ..messages import Message
from .requests import Request

__all__ = [
    "DeadlinePassed",
    "FailureHandler",
    "OwnedRequest",
    "OwnedRequests",
    "RequestInterrupted",
    "due",
]


class RequestInterrupted(CancelledError):
    """A request of an owner stopped before its reply, by the owner
    (:meth:`~txarakoon.protocol.ArakoonProtocol.interrupt_owned`, ``why``
    being what it gave) or by its deadline (:class:`DeadlinePassed`). A
    written one keeps its place in the FIFO: its reply is read, then dropped.

    :ivar sent: whether it was written (and so may have been applied).
    """

    def __init__(self, why: object, *, sent: bool) -> None:
        super().__init__(f"interrupted ({why}) {'after' if sent else 'before'} it was written")
        self.why = why
        self.sent = sent
        self.applied: bool | None = None if sent else False


class DeadlinePassed(RequestInterrupted):
    """A request of an owner whose deadline passed before its reply."""

    def __init__(self, *, sent: bool) -> None:
        super().__init__("its deadline passed", sent=sent)


#: What the owner does with a failed request: the exception that fails its
#: Deferred, or a Deferred (a retry) that its Deferred then follows.
FailureHandler = Callable[["OwnedRequest", BaseException], "BaseException | Deferred[Any]"]


class OwnedRequest(Request):
    """A request sent for an owner: its failures go to ``handler`` first.

    :ivar context: what the owner keeps with the request (for its handler).
    :ivar deadline: when it fails with :class:`DeadlinePassed` (clock
        seconds), as the handler sees it; ``None`` if it never had one, or
        once it no longer waits (cancelled, handled). An answered one keeps
        it: it has left the FIFO, where the timer looks.
    """

    __slots__ = ("context", "deadline", "handler", "owned")

    # Each is made empty and filled in by the connection's submit().
    message: Message[Any]
    handler: FailureHandler
    context: Any
    owned: OwnedRequests

    # object's own: OwnedRequest() is then the cheapest way CPython has to
    # make one (no arguments, no frame), and submit() fills it in.
    __init__ = object.__init__

    def reject(self, error: BaseException) -> None:
        if self.cancelled or self.deferred.called:
            return  # (see Request.reject)
        # Ended: a written one that keeps its place (interrupted, past its
        # deadline) has its reply dropped, and nothing fails it twice.
        self.cancelled = True
        try:
            outcome = self.handler(self, error)
        finally:
            self.untime()
        if isinstance(outcome, Deferred):
            self.owned.follow(self.deferred, outcome)
        else:
            self.deferred.errback(outcome)

    def untime(self) -> None:
        """It no longer has a deadline (failed, cancelled): the timer passes
        it by."""
        self.deadline = None


class OwnedRequests:
    """The owned requests of one connection: their deadline timer, and the
    Deferreds that follow a retry.

    :param clock: times the deadlines (``None``: requests cannot have one).
    :param expire: called with the time when the timer fires, to fail the
        requests due and :meth:`arm` the timer again for the next deadline.
    :ivar ordered: whether their deadlines came in FIFO order, so that the
        oldest has the earliest.
    :ivar latest: the latest deadline of the pending requests (while ordered).
    :ivar timer: the timer: armed by the first request with a deadline,
        stopped once nothing is pending (:meth:`stop`, by the connection) or
        when it finds no deadline pending.
    """

    __slots__ = (
        "_clock",
        "_expire",
        "_following",
        "_target",
        "latest",
        "now",
        "ordered",
        "timer",
    )

    def __init__(self, clock: IReactorTime | None, expire: Callable[[float], None]) -> None:
        self._clock = clock
        #: The clock's time (``now()``); raises if there is no clock. The
        #: clock's own method: it is read for every request with a timeout.
        self.now: Callable[[], float] = _no_clock if clock is None else clock.seconds
        self._expire = expire
        self._following: dict[Deferred[Any], Deferred[Any]] = {}
        self.ordered = True
        self.latest = float("-inf")
        self.timer: IDelayedCall | None = None
        # The deadline the timer was armed for: when it fires, that deadline
        # is due even if the clock reads a hair earlier (float rounding).
        self._target = 0.0

    def check(self, deadline: object, name: str = "deadline") -> float:
        """``deadline`` (or a timeout: ``name``) as a float; raises if a
        request cannot have it (before anything is sent)."""
        if self._clock is None:
            raise TypeError(f"a request's {name} needs the protocol's clock (an IReactorTime)")
        if isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
            raise TypeError(f"{name} must be a number of seconds, not {deadline!r}")
        if deadline != deadline:
            raise ValueError(f"{name} must not be NaN")
        return float(deadline)

    def add(self, deadline: float) -> None:
        """A request with ``deadline`` joins the connection's FIFO."""
        if deadline < self.latest:
            self.ordered = False
        else:
            self.latest = deadline
        timer = self.timer
        if timer is None:
            self.arm(deadline)
        elif deadline < self._target:
            timer.cancel()
            self.arm(deadline)

    def arm(self, deadline: float) -> None:
        """Set the timer for ``deadline``, the earliest one pending."""
        assert self._clock is not None
        self._target = deadline
        delay = max(0.0, deadline - self._clock.seconds())
        self.timer = self._clock.callLater(delay, self._fire)

    def stop(self) -> None:
        """No request with a deadline is pending (or none at all): no timer,
        and the next deadline starts an ordered run."""
        self.ordered = True
        self.latest = float("-inf")
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _fire(self) -> None:
        self.timer = None
        assert self._clock is not None
        self._expire(max(self._clock.seconds(), self._target))

    def follow(self, deferred: Deferred[Any], source: Deferred[Any]) -> None:
        """Fire ``deferred`` (a request's) with the result of ``source`` (the
        owner's retry); cancelling ``deferred`` cancels ``source``."""
        self._following[deferred] = source
        source.addBoth(self._relay, deferred)

    def _relay(self, result: Any, deferred: Deferred[Any]) -> None:
        del self._following[deferred]
        if isinstance(result, Failure):
            deferred.errback(result)
        else:
            deferred.callback(result)

    def cancel_following(self, deferred: Deferred[Any]) -> bool:
        """Cancel the retry ``deferred`` follows; ``False`` if none."""
        source = self._following.get(deferred)
        if source is None:
            return False
        source.cancel()
        return True


def due(
    sent: Iterable[Request], unsent: Iterable[Request], now: float, ordered: bool
) -> tuple[list[OwnedRequest], list[OwnedRequest], float | None]:
    """The requests (written, unsent) whose deadline is ``now`` or earlier,
    oldest first, and the earliest deadline of the others (``None``: none).
    With ``ordered`` deadlines the first one not due ends the search."""
    due_sent: list[OwnedRequest] = []
    due_unsent: list[OwnedRequest] = []
    earliest: float | None = None
    for queue, found in ((sent, due_sent), (unsent, due_unsent)):
        for request in queue:
            deadline = request.deadline
            if deadline is None:
                continue
            assert isinstance(request, OwnedRequest)
            if deadline <= now:
                found.append(request)
            elif ordered:
                return due_sent, due_unsent, deadline
            elif earliest is None or deadline < earliest:
                earliest = deadline
    return due_sent, due_unsent, earliest


def _no_clock() -> float:
    raise TypeError("a request's timeout needs the protocol's clock (an IReactorTime)")
