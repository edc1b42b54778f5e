"""The state of one call of the cluster client across its attempts, and what
the views of the client need of it."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Generic, Protocol, TypeVar

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from .. import retry
from ..messages import Message
from ..retry import CallOptions

__all__ = ["AFTER_DISCONNECT", "Attempt", "CallOptions", "Calls", "Shared"]

T = TypeVar("T")

#: Why a call on a closed client fails: disconnect() is final, a stopped
#: service starts again.
AFTER_DISCONNECT = (
    "the client is closed: after disconnect(), make a new ArakoonClient; "
    "after stopService(), call startService()"
)


class Attempt:
    """State of one call across its retries."""

    __slots__ = ("deadline", "interrupted", "result")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.interrupted: retry.Interruption | None = None
        self.result: Deferred[Any] | None = None

    def error(
        self,
        message: Message[Any],
        *,
        sent: bool,
        retry_unknown: bool = True,
        last_error: BaseException | None = None,
    ) -> BaseException:
        """The error of this call, interrupted while sending ``message``."""
        assert self.interrupted is not None
        return retry.when_interrupted(
            self.interrupted,
            sent=sent,
            retry_unknown=retry_unknown,
            last_error=last_error,
            request=repr(message),
        )

    def interrupt(self, why: retry.Interruption) -> None:
        if self.interrupted is None and self.result is not None:
            self.interrupted = why
            self.result.cancel()


class Shared(Generic[T]):
    """Several callers waiting for one operation (a connection, a discovery).

    Each caller gets its own Deferred, so that awaiting one (which consumes its
    result) or cancelling one does not affect the others. When every caller has
    cancelled, the operation itself is cancelled: nothing keeps running (or
    keeps a timer) for nobody.
    """

    def __init__(self, source: Deferred[T]) -> None:
        self._source = source
        self._waiters: list[Deferred[T]] = []
        self._outcome: list[Any] = []
        source.addBoth(self._settle)

    @property
    def done(self) -> bool:
        return bool(self._outcome)

    def _settle(self, result: Any) -> None:
        self._outcome.append(result)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            _fire(waiter, result)
        # Every waiter got the failure, if any: the chain ends here.

    def wait(self) -> Deferred[T]:
        if self._outcome:
            done: Deferred[T] = Deferred()
            _fire(done, self._outcome[0])
            return done
        waiter: Deferred[T] = Deferred(self._abandon)
        self._waiters.append(waiter)
        return waiter

    def _abandon(self, waiter: Deferred[T]) -> None:
        if waiter in self._waiters:
            self._waiters.remove(waiter)
        if not self._waiters and not self._outcome:
            self._source.cancel()

    def cancel(self) -> None:
        """Cancel the operation (its waiters get ``CancelledError``)."""
        if not self._outcome:
            self._source.cancel()


def _fire(waiter: Deferred[Any], result: Any) -> None:
    if waiter.called:
        return  # cancelled by its caller
    if isinstance(result, Failure):
        waiter.errback(result)
    else:
        waiter.callback(result)


class Calls(Protocol):
    """What the views of a cluster client (:class:`~txarakoon.cluster.ClientView`,
    :class:`~txarakoon.cluster.NodeClient`, :class:`~txarakoon.cluster.ReadYourWrites`)
    use of it."""

    @property
    def connected(self) -> bool: ...

    @property
    def timeout(self) -> float: ...

    def submit(self, message: Message[T], options: CallOptions) -> Deferred[T]: ...

    def run(
        self, call: Callable[[Attempt], Coroutine[Any, Any, T]], timeout: float | None
    ) -> Deferred[T]: ...
