"""The silence timer of a connection: abort it when the server sends nothing
for ``silence_timeout`` seconds while replies are owed (Twisted's
TimeoutMixin, timed on the connection's injected clock)."""

from __future__ import annotations

from collections.abc import Callable, Sized
from typing import TYPE_CHECKING

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.protocols.policies import TimeoutMixin

from .requests import SilenceTimeout

__all__ = ["SilenceTimer"]


class SilenceTimer(TimeoutMixin):
    """Mixed into :class:`~txarakoon.protocol.ArakoonProtocol`."""

    if TYPE_CHECKING:
        log: Logger
        clock: IReactorTime | None
        silence_timeout: float | None
        _sent: Sized

        def _abort(self, error: BaseException) -> None: ...

    def timeoutConnection(self) -> None:
        """The server sent nothing for ``silence_timeout`` seconds while
        replies were owed (TimeoutMixin)."""
        error = SilenceTimeout(
            f"no reply for {self.silence_timeout} s with {len(self._sent)} requests pending"
        )
        self.log.warn("Aborting a silent connection: {error}", error=error)
        self._abort(error)

    def callLater(self, period: float, function: Callable[[], object]) -> IDelayedCall:
        """Schedule TimeoutMixin's timer on the injected clock (its default
        is the global reactor)."""
        assert self.clock is not None
        return self.clock.callLater(period, function)

    def _time_silence(self, seconds: float | None) -> None:
        """Start (``seconds``) or stop (``None``) the silence timer."""
        self.setTimeout(seconds)  # type: ignore[no-untyped-call]  # TimeoutMixin is untyped

    def _stop_silence_timer(self) -> None:
        self._time_silence(None)
