"""How a connection writes its requests: at once while it may, else in
order once it may again (the in-flight limit, the transport's backpressure
as an ``IPushProducer``), and in one transport write for the requests sent
while replies are being read."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from twisted.internet.interfaces import IPushProducer, ITransport
from zope.interface import implementer

from .requests import Request

__all__ = ["WriteQueue"]


@implementer(IPushProducer)
class WriteQueue:
    """Mixed into :class:`~txarakoon.protocol.ArakoonProtocol`, the producer
    its transport pauses and resumes."""

    if TYPE_CHECKING:
        transport: ITransport | None
        connected: int
        max_in_flight: int | None
        silence_timeout: float | None
        timeOut: float | None
        _sent: deque[Request]
        _unsent: deque[Request]
        _output: list[bytes]
        _paused: bool
        _draining: bool
        _lost: bool

        def _time_silence(self, seconds: float | None) -> None: ...

    # -- IPushProducer: the transport's write buffer is full / has room --------

    def pauseProducing(self) -> None:
        self._paused = True

    def resumeProducing(self) -> None:
        self._paused = False
        self._write_unsent()

    def stopProducing(self) -> None:
        self._paused = True

    # ---------------------------------------------------------------------------

    def _can_write(self) -> bool:
        return (
            not self._paused
            and not self._unsent
            and (self.max_in_flight is None or len(self._sent) < self.max_in_flight)
        )

    def _write(self, request: Request) -> None:
        assert self.transport is not None
        self._sent.append(request)
        if self.silence_timeout is not None and self.timeOut is None:
            # Timed only while replies are owed: an idle connection is fine.
            self._time_silence(self.silence_timeout)
        data, request.data = request.data, b""
        # Not kept until the reply: a pipeline of large writes would hold
        # every value twice (here and in the message).
        if self._draining:
            self._output.append(data)
        else:
            self.transport.write(data)

    def _flush(self) -> None:
        """Write what was written while replies were being read."""
        if self._output:
            data = b"".join(self._output)
            self._output.clear()
            if self.transport is not None and not self._lost:
                self.transport.write(data)

    def _write_unsent(self) -> None:
        unsent = self._unsent
        limit = self.max_in_flight
        # `_paused` is checked each time round: a write may fill the
        # transport's buffer, and it then calls pauseProducing at once.
        while unsent and self.connected and not self._paused:
            if limit is not None and len(self._sent) >= limit:
                return
            self._write(unsent.popleft())
