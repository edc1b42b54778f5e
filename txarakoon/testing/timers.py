"""The cluster's delayed calls, which follow it from one clock to another.

A cluster starts on a :class:`~twisted.internet.task.Clock` and may switch to
the reactor when it listens (:meth:`ArakoonCluster.listen
<txarakoon.testing.cluster.ClusterAccess.listen>`); :meth:`Timers.move_to`
reschedules every pending call on the new clock with the time it had left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from twisted.internet.interfaces import IDelayedCall, IReactorTime

__all__ = ["Timer", "Timers"]


class Timer:
    """A call on the cluster clock that can move to another clock."""

    def __init__(self, timers: Timers, delay: float, function: Callable[[], None]) -> None:
        self._timers = timers
        self._function = function
        self._call: IDelayedCall = timers.clock.callLater(delay, self._fire)

    def _fire(self) -> None:
        self._timers._pending.discard(self)
        self._function()

    @property
    def delayed_call(self) -> IDelayedCall:
        """The call as its clock holds it."""
        return self._call

    def active(self) -> bool:
        """Whether the call is still to come."""
        return bool(self._call.active())

    def cancel(self) -> None:
        """Do not make the call (nothing happens if it was made)."""
        self._timers._pending.discard(self)
        if self._call.active():
            self._call.cancel()

    def move(self, old: IReactorTime, new: IReactorTime) -> None:
        """Reschedule on ``new`` with the time left on ``old``."""
        if self._call.active():
            remaining = max(0.0, self._call.getTime() - old.seconds())
            self._call.cancel()
            self._call = new.callLater(remaining, self._fire)


class Timers:
    """The pending calls of one cluster, on its current clock.

    :ivar clock: the clock new calls are scheduled on.
    """

    def __init__(self, clock: IReactorTime) -> None:
        self.clock = clock
        self._pending: set[Timer] = set()

    def __iter__(self) -> Iterator[Timer]:
        return iter(list(self._pending))

    def call_later(self, delay: float, function: Callable[..., None], *args: Any) -> Timer:
        """Call ``function(*args)`` in ``delay`` seconds."""
        timer = Timer(self, delay, lambda: function(*args))
        self._pending.add(timer)
        return timer

    def move_to(self, clock: IReactorTime) -> None:
        """Keep time with ``clock`` from now on, pending calls included."""
        old, self.clock = self.clock, clock
        for timer in list(self._pending):
            timer.move(old, clock)

    def cancel_all(self) -> None:
        """Cancel every pending call."""
        for timer in list(self._pending):
            timer.cancel()
