"""What the views of both cluster client flavours share, sans-IO: a view that
is connected as long as its client is, and the read-your-writes rule.

The rule is written once, as a generator of the calls it makes. Each call's
result comes back at the ``yield`` that made it: the Twisted flavour yields
``Deferred``\\ s and runs the generator with ``Deferred.fromCoroutine``; the
blocking flavour's calls return their result (or raise) inside the
generator, which :func:`run_blocking` runs to its end.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Generic, Protocol, TypeVar

from . import messages
from .consistency import AtLeast, Consistent
from .errors import InconsistentRead
from .messages import Message
from .retry import CallOptions

__all__ = ["SESSION_CALLS", "TXID_LOST", "OptionsView", "ReadsOwnWrites", "View", "run_blocking"]

T = TypeVar("T")

#: The calls of a session: the client's defaults.
SESSION_CALLS = CallOptions()


class Connected(Protocol):
    @property
    def connected(self) -> bool: ...


C = TypeVar("C", bound=Connected)

#: Logged (a format with ``command`` and ``error``) when a session's write
#: succeeded but its ``get_txid`` failed.
TXID_LOST = (
    "read_your_writes: after {command} succeeded, get_txid failed ({error}); "
    "reading from the master until the next write"
)

#: What the rule makes of a message: the flavour's call (a Deferred of the
#: result, or the result itself).
Submit = Callable[[Message[Any]], Any]


class View(Generic[C]):
    """A view of a cluster client: connected as long as its client is."""

    def __init__(self, client: C) -> None:
        self.client = client

    @property
    def connected(self) -> bool:
        return self.client.connected


class OptionsView(View[C]):
    """A view that makes its calls with the settings ``options``."""

    def __init__(self, client: C, options: CallOptions) -> None:
        super().__init__(client)
        self.options = options


class ReadsOwnWrites(View[C]):
    """The read-your-writes rule of a session (see either flavour's
    ``ReadYourWrites`` for what it promises).

    :ivar txid: the master's txid after the session's last write, ``None``
        before its first write and after a write whose ``get_txid`` failed.
    """

    def __init__(self, client: C) -> None:
        super().__init__(client)
        self.txid: AtLeast | None = None

    def _txid_lost(self, message: Message[Any], error: Exception) -> None:
        """Tell that ``message`` succeeded but its ``get_txid`` failed with
        ``error`` (each flavour logs it its own way)."""
        raise NotImplementedError

    def _route(self, message: Message[T], submit: Submit) -> Generator[Any, Any, T]:
        """The calls that answer ``message`` in the session."""
        if not message.command.read_only:
            result: T = yield submit(message)
            try:
                txid = yield submit(messages.GET_TXID())
            except Exception as error:
                # The write's own outcome is what the caller asked for: it
                # succeeded. Without its txid, only the master is sure to
                # have it, so the session reads there until the next write.
                self.txid = None
                self._txid_lost(message, error)
                return result
            if isinstance(txid, AtLeast) and (self.txid is None or txid.i > self.txid.i):
                self.txid = txid
            return result
        if message.consistency is not Consistent or self.txid is None:
            value: T = yield submit(message)
            return value
        fresh = Message(message.command, (self.txid, *message.arguments[1:]))
        try:
            value = yield submit(fresh)
        except InconsistentRead:
            value = yield submit(message)
        return value


def run_blocking(steps: Generator[Any, Any, T]) -> T:
    """Run ``steps`` whose every ``yield`` is given its own result: blocking
    calls have returned (or raised, inside the generator) by then."""
    try:
        result = next(steps)
        while True:
            result = steps.send(result)
    except StopIteration as done:
        value: T = done.value
        return value
