"""The deadlines of one cluster client's pending calls, timed by one timer.

A reactor timer per call (a ``callLater`` armed, then cancelled) would cost
more than the request itself at tens of thousands of calls per second. So a
client keeps its pending calls in FIFO queues, one per timeout: calls with the
same timeout expire in the order they were made, so the head of each queue is
its earliest deadline. One timer is armed for the earliest head.

A call is its caller's Deferred: it is over once that Deferred has fired, and
it leaves its queue once it reaches the head, when the next call joins the
queue or the timer fires. Calls that finish do not move the timer: when it
fires and finds its call gone, it is armed again for the earliest deadline
still pending, so that every deadline fires at its exact time. A count of the
pending calls cancels the timer as soon as none is left.

Two kinds of calls are timed. A call on the hot path is the protocol's own
Deferred, with no record of its own: interrupting it cancels that Deferred,
and its errback, the first on it, learns why from :meth:`interruption`. A call
of the retry loop (or of a view) has an :class:`~txarakoon.cluster.calls.Attempt`,
which :meth:`Attempt.interrupt` stops.
"""

from __future__ import annotations

from collections import deque
from typing import Any, TypeVar

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime

from ..retry import Interruption
from .calls import Attempt

__all__ = ["Deadlines"]

T = TypeVar("T")


class _Queue:
    """The pending calls of one timeout, oldest first, and their deadlines."""

    __slots__ = ("calls", "times")

    def __init__(self) -> None:
        self.calls: deque[Deferred[Any]] = deque()
        self.times: deque[float] = deque()


class Deadlines:
    """The pending calls of one client, each interrupted at its deadline.

    :param clock: the client's ``IReactorTime``.
    """

    def __init__(self, clock: IReactorTime) -> None:
        self._clock = clock
        self._queues: dict[float, _Queue] = {}
        self._attempts: dict[Deferred[Any], Attempt] = {}
        # Calls of the retry loop without a deadline: only disconnect()
        # interrupts them.
        self._unbounded: set[Attempt] = set()
        self._pending = 0
        self._timer: IDelayedCall | None = None
        # The deadline the timer was armed for: when it fires, that deadline
        # is due even if the clock reads a hair earlier (float rounding).
        self._target = 0.0
        self._interrupting: Interruption | None = None

    @property
    def pending(self) -> int:
        """How many calls are pending."""
        return self._pending

    def add(self, call: Deferred[Any], timeout: float, deadline: float) -> None:
        """Time ``call`` (a hot-path call: the protocol's Deferred), due at
        ``deadline``, ``timeout`` seconds after it was made. Its callbacks
        must end it: :meth:`finished` on success, :meth:`end` on failure."""
        queue = self._queues.get(timeout)
        if queue is None:
            queue = self._queues[timeout] = _Queue()
        calls, times = queue.calls, queue.times
        while calls and calls[0].called:  # the calls over at the head
            calls.popleft()
            times.popleft()
        if times and times[-1] > deadline:
            # A call that computed its deadline before starting another one
            # (on a clock that moved meanwhile): keep the queue in order.
            index = len(times)
            while index and times[index - 1] > deadline:
                index -= 1
            calls.insert(index, call)
            times.insert(index, deadline)
        else:
            calls.append(call)
            times.append(deadline)
        self._pending += 1
        if self._timer is None:
            self._arm(deadline)
        elif deadline < self._target:  # a shorter timeout than the others'
            self._timer.cancel()
            self._arm(deadline)

    def finished(self, result: T) -> T:
        """A callback: the call it is on is over; ``result`` passes through."""
        self._pending -= 1
        if not self._pending:
            self._clear()
        return result

    def end(self) -> None:
        """A call is over (for an errback, which returns its own result)."""
        self._pending -= 1
        if not self._pending:
            self._clear()

    def add_attempt(self, attempt: Attempt, timeout: float | None) -> None:
        """Time ``attempt`` (of the retry loop or a view), whose Deferred
        (``attempt.result``) gets :meth:`attempt_finished` as a callback;
        ``timeout`` ``None``: it has no deadline."""
        assert attempt.result is not None
        if timeout is None:
            self._unbounded.add(attempt)
            self._pending += 1
            return
        self._attempts[attempt.result] = attempt
        self.add(attempt.result, timeout, attempt.deadline)

    def attempt_finished(self, result: T, attempt: Attempt) -> T:
        """A callback: ``attempt`` is over; ``result`` passes through."""
        self._unbounded.discard(attempt)
        if attempt.result is not None:
            self._attempts.pop(attempt.result, None)
        return self.finished(result)

    def interruption(self) -> Interruption | None:
        """Why the hot-path call being cancelled is interrupted (``None``: its
        caller cancelled it). Asked by the call's errback, the first on its
        Deferred, which :meth:`_interrupt` cancels: nothing else can run in
        between, and the answer is taken, so that a call the caller's
        callbacks cancel next is not taken for interrupted too."""
        why, self._interrupting = self._interrupting, None
        return why

    def interrupt_all(self, why: Interruption) -> None:
        """Interrupt every pending call (the client is being disconnected)."""
        calls = [call for queue in self._queues.values() for call in queue.calls]
        unbounded = list(self._unbounded)
        for call in calls:
            if not call.called:
                self._interrupt(call, why)
        for attempt in unbounded:
            attempt.interrupt(why)

    def _interrupt(self, call: Deferred[Any], why: Interruption) -> None:
        attempt = self._attempts.get(call)
        if attempt is not None:
            attempt.interrupt(why)
            return
        self._interrupting = why
        try:
            call.cancel()
        finally:
            self._interrupting = None

    def _arm(self, deadline: float) -> None:
        self._target = deadline
        delay = max(0.0, deadline - self._clock.seconds())
        self._timer = self._clock.callLater(delay, self._expire)

    def _clear(self) -> None:
        """Nothing is pending: no queue entry, no timer."""
        self._queues.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        now = max(self._clock.seconds(), self._target)
        due: list[Deferred[Any]] = []
        earliest: float | None = None
        for timeout, queue in list(self._queues.items()):
            calls, times = queue.calls, queue.times
            while calls and (calls[0].called or times[0] <= now):
                call = calls.popleft()
                times.popleft()
                if not call.called:
                    due.append(call)
            if not calls:
                del self._queues[timeout]
            elif earliest is None or times[0] < earliest:
                earliest = times[0]
        # Armed before the calls are interrupted: their errbacks may make
        # new calls, which must find the timer in place.
        if earliest is not None:
            self._arm(earliest)
        for call in due:
            if not call.called:  # (not ended by another's errback)
                self._interrupt(call, Interruption.DEADLINE)
