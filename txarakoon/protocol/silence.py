"""The silence timer of a connection: abort it when the server sends nothing
for ``silence_timeout`` seconds while replies are owed, timed on the
connection's injected clock.

It keeps the interface of Twisted's ``TimeoutMixin`` (``timeOut``,
``setTimeout``, ``timeoutConnection``), which the cluster client's
connections override, but not its cost: ``TimeoutMixin`` resets its timer
for every chunk of bytes received, tens of thousands of times a second on a
busy connection. Here a chunk only records when it arrived (one reading of
the clock), and the timer, armed for one period after it was set, looks
when it fires: if bytes arrived
meanwhile, it is armed again for one period after the last of them. So the
timer fires exactly one period after the last byte, or after it was set, as
``TimeoutMixin``'s does.
"""

from __future__ import annotations

from collections.abc import Sized
from typing import TYPE_CHECKING

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

from .requests import SilenceTimeout

__all__ = ["SilenceTimer"]


class _State:
    """The silence timer of one connection."""

    __slots__ = ("call", "heard", "target")

    def __init__(self) -> None:
        self.call: IDelayedCall | None = None
        # When the last byte arrived, or the timer was set: the connection
        # sets it for every chunk while the timer runs.
        self.heard = 0.0
        # When the timer is armed to fire: one period after heard as it was then.
        self.target = 0.0


class SilenceTimer:
    """Mixed into :class:`~txarakoon.protocol.ArakoonProtocol`.

    :ivar timeOut: the silence timed (seconds) while the timer runs, else
        ``None`` (``TimeoutMixin``'s name).
    """

    if TYPE_CHECKING:
        log: Logger
        clock: IReactorTime | None
        silence_timeout: float | None
        _sent: Sized

        def _abort(self, error: BaseException) -> None: ...

    timeOut: float | None = None
    # One attribute for the timer's state: CPython 3.11 keeps an instance's
    # attributes in its fast, shared layout only up to about 30 of them. A
    # cluster client's connection has 29; with 30, every get cost 1,800
    # instructions more (bench/README.rst).
    _silence: _State | None = None

    def setTimeout(self, period: float | None) -> float | None:
        """Time a silence of ``period`` seconds from now (``None``: stop
        timing); returns the period timed before (``TimeoutMixin``'s)."""
        previous = self.timeOut
        self.timeOut = period
        state = self._silence
        if state is not None and state.call is not None:
            state.call.cancel()
            state.call = None
        if period is not None:
            if state is None:
                state = self._silence = _State()
            assert self.clock is not None
            state.heard = now = self.clock.seconds()
            state.target = now + period
            state.call = self.clock.callLater(period, self._silence_fired)
        return previous

    def timeoutConnection(self) -> None:
        """The server sent nothing for ``silence_timeout`` seconds while
        replies were owed."""
        error = SilenceTimeout(
            f"no reply for {self.silence_timeout} s with {len(self._sent)} requests pending"
        )
        self.log.warn("Aborting a silent connection: {error}", error=error)
        self._abort(error)

    def _silence_fired(self) -> None:
        state = self._silence
        period = self.timeOut
        assert state is not None and period is not None and self.clock is not None
        state.call = None
        due = state.heard + period
        if due > state.target:
            # Bytes arrived since the timer was armed: one period after the
            # last of them.
            state.target = due
            delay = max(0.0, due - self.clock.seconds())
            state.call = self.clock.callLater(delay, self._silence_fired)
            return
        self.timeoutConnection()

    def _time_silence(self, seconds: float | None) -> None:
        """Start (``seconds``) or stop (``None``) the silence timer."""
        self.setTimeout(seconds)

    def _stop_silence_timer(self) -> None:
        self._time_silence(None)
