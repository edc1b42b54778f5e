"""The deadlines of one cluster client's calls in the retry loop (and of its
views), timed by one timer. (A call of the hot path is timed by its
connection: :mod:`txarakoon.protocol.owned`.)

A reactor timer per call (a ``callLater`` armed, then cancelled) would cost
more than the request itself at tens of thousands of calls per second. So a
client keeps its pending calls in FIFO queues, one per timeout: calls with the
same timeout expire in the order they were made, so the head of each queue is
its earliest deadline. One timer is armed for the earliest head.

A call is an :class:`~txarakoon.cluster.calls.Attempt` and its Deferred: it
is over once that Deferred has fired, and it leaves its queue once it reaches
the head, when the next call joins the queue or the timer fires. Calls that
finish do not move the timer: when it fires and finds its call gone, it is
armed again for the earliest deadline still pending, so that every deadline
fires at its exact time. A count of the pending calls cancels the timer as
soon as none is left. :meth:`Attempt.interrupt` stops a call that is due.
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

    @property
    def pending(self) -> int:
        """How many calls are pending."""
        return self._pending

    def _add(self, call: Deferred[Any], timeout: float, deadline: float) -> None:
        """Time ``call`` (an attempt's Deferred), due at ``deadline``,
        ``timeout`` seconds after it was made."""
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
        self._add(attempt.result, timeout, attempt.deadline)

    def attempt_finished(self, result: T, attempt: Attempt) -> T:
        """A callback: ``attempt`` is over; ``result`` passes through."""
        self._unbounded.discard(attempt)
        if attempt.result is not None:
            self._attempts.pop(attempt.result, None)
        self._pending -= 1
        if not self._pending:
            self._clear()
        return result

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
