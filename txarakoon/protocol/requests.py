"""The requests of one connection: each with its Deferred, and how they fail."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from twisted.internet.defer import CancelledError, Deferred

from ..errors import ConnectionLost, RequestNotProcessed
from ..messages import Message

__all__ = ["CancelledBeforeSending", "Request", "SilenceTimeout", "fail_all"]


class SilenceTimeout(Exception):
    """The server sent nothing for too long while requests were pending."""


class CancelledBeforeSending(CancelledError):
    """A request cancelled (or timed out) while it waited unsent: it was never
    written, so it certainly was not applied. Still a ``CancelledError``."""

    applied = False


class Request:
    """A request sent (or to be sent) on a connection, and its Deferred. A
    cancelled one keeps its place: its reply is still read, then dropped."""

    __slots__ = ("cancelled", "data", "deferred", "message")

    #: Only the requests of an owner have one (:mod:`txarakoon.protocol.owned`).
    deadline: float | None = None

    def __init__(self, message: Message[Any], data: bytes, deferred: Deferred[Any]) -> None:
        self.message = message
        self.data = data
        self.deferred = deferred
        self.cancelled = False

    def resolve(self, value: Any) -> None:
        if not self.cancelled:
            self.deferred.callback(value)

    def reject(self, error: BaseException) -> None:
        # (Its Deferred may have fired already: cancelled by a callback of a
        # request failed before it, out of the queues being failed.)
        if not self.cancelled and not self.deferred.called:
            self.deferred.errback(error)

    def untime(self) -> None:
        """Drop its deadline (it has none)."""


def fail_all(sent: Iterable[Request], unsent: Iterable[Request], cause: BaseException) -> None:
    """Fail requests on a lost connection: those written with
    :class:`~txarakoon.errors.ConnectionLost` (they may have been applied),
    those never written with :class:`~txarakoon.errors.RequestNotProcessed`."""
    for request in sent:
        request.reject(ConnectionLost(cause, repr(request.message)))
    for request in unsent:
        request.reject(RequestNotProcessed(cause, repr(request.message)))
