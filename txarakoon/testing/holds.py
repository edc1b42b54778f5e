"""Requests a node holds back: the control that makes "a write in flight when
the master dies" deterministic (``cluster.hold_replies``).

A hold catches the next ``count`` requests that match it. With ``applied``
the node executes each at once (its update is in the store, and replicated
as any other) and holds only the reply; without, it holds the request
itself, unexecuted. A held request keeps its connection busy (a node reads
one request a connection at a time), so the requests behind it on the same
connection wait too. Then the test either releases the hold (replies are
written; held requests are executed now, as the node is now, and
answered), or kills the node: what was held is never sent, so the client
cannot tell the write applied from the write dropped
(:class:`~txarakoon.errors.OutcomeUnknown` on the cluster client).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, maybeDeferred, succeed

from ..messages import COMMANDS, Command
from ..sequence import Sequence, Step

__all__ = ["HeldReplies", "Holds", "Match", "command_named", "touching"]

#: What a hold catches: a command's declaration (``messages.SEQUENCE``) or
#: name (``"sequence"``), or a predicate of the command and its decoded
#: arguments.
Match = Command[Any] | str | Callable[[Command[Any], tuple[Any, ...]], bool]


def command_named(word: str) -> Command[Any]:
    """The command ``word`` names (``sequence``, ``set``, ...); a
    :class:`LookupError` saying so for a word that names none. The one
    lookup of a hold's command, from Python and from the control channel."""
    command = COMMANDS.get(word)
    if command is None:
        raise LookupError(f"no command {word!r} (e.g. sequence, set)")
    return command


def _matching(match: object) -> Command[Any] | Callable[[Command[Any], tuple[Any, ...]], bool]:
    """``match`` as a hold tests it (a name resolved to its declaration);
    a :class:`TypeError` for anything that is no :data:`Match`, so that a
    mistake fails the call that made the hold, not each request it meets."""
    if isinstance(match, Command):
        return match
    if isinstance(match, str):
        try:
            return command_named(match)
        except LookupError as error:
            raise TypeError(f"hold_replies: {error}") from None
    if callable(match):
        return match
    raise TypeError(
        "hold_replies takes a command's name ('sequence'), its declaration "
        "(messages.SEQUENCE) or a predicate (command, arguments) -> bool, "
        f"not {type(match).__name__}"
    )


def touching(command: Command[Any] | str, key: bytes) -> Match:
    """A :data:`Match` of the requests of ``command`` (its declaration or
    name) about ``key``: its ``key`` argument, or for a sequence, a step's
    key (nested ones too). A hold on the sequences touching a counter
    catches an update's attempts, not the removal of its markers."""
    if isinstance(command, str):
        try:
            command = command_named(command)
        except LookupError as error:
            raise TypeError(f"touching: {error}") from None
    elif not isinstance(command, Command):
        raise TypeError(
            f"touching takes a command's name or declaration, not {type(command).__name__}"
        )

    def about(step: Step) -> bool:
        if isinstance(step, Sequence):
            return any(about(inner) for inner in step.steps)
        return getattr(step, "key", None) == key

    names = [argument.name for argument in command.arguments]

    def matches(caught: Command[Any], arguments: tuple[Any, ...]) -> bool:
        if caught is not command:
            return False
        for name, value in zip(names, arguments, strict=True):
            if name == "key" and value == key:
                return True
            if isinstance(value, Step) and about(value):
                return True
        return False

    return matches


class HeldReplies:
    """A hold on one node's requests; made by
    :meth:`ArakoonCluster.hold_replies <txarakoon.testing.cluster.ArakoonCluster.hold_replies>`.

    :ivar node: the node's name.
    :ivar applied: whether caught requests were executed before being held.
    :ivar count: how many requests it catches at most.
    """

    def __init__(
        self,
        node: str,
        match: Match,
        applied: bool,
        count: int,
        kill: Callable[[str], Deferred[None]],
    ) -> None:
        self.node = node
        self.applied = applied
        self.count = count
        self._match = _matching(match)
        self._kill = kill
        self._held: list[tuple[Deferred[Any], Callable[[], Any]]] = []
        self._caught = 0
        self._waiters: list[Deferred[int]] = []
        self._over = False

    def __repr__(self) -> str:
        state = "over" if self._over else f"{self._caught}/{self.count} caught"
        return f"<HeldReplies {self.node} {state}>"

    @property
    def held(self) -> int:
        """How many requests (or replies) it holds now."""
        return len(self._held)

    @property
    def armed(self) -> bool:
        """Whether it still catches requests."""
        return not self._over and self._caught < self.count

    def when_held(self) -> Deferred[int]:
        """Fires (with :attr:`held`) once it has caught :attr:`count`
        requests, or at once if it is over (released, or its node killed)."""
        if self._over or self._caught >= self.count:
            return succeed(self.held)
        waiter: Deferred[int] = Deferred()
        self._waiters.append(waiter)
        return waiter

    def release(self) -> None:
        """Stop holding: write the held replies, execute and answer the held
        requests, in the order they were caught."""
        self._finish()
        held, self._held = self._held, []
        for reply, execute in held:
            maybeDeferred(execute).chainDeferred(reply)

    def kill(self) -> Deferred[None]:
        """Kill its node (``cluster.kill``) with what it holds unsent; fires
        once the node's connections are closed."""
        self._finish()
        return self._kill(self.node)

    def dropped(self) -> None:
        """Its node died: what it holds is never sent."""
        self._finish()
        held, self._held = self._held, []
        for _, execute in held:
            if self.applied:
                # An executed request's error reply is never sent: not an
                # unhandled error.
                execute().addErrback(lambda _: None)

    def catches(self, command: Command[Any], arguments: tuple[Any, ...]) -> bool:
        """Whether it catches this request."""
        if not self.armed:
            return False
        if isinstance(self._match, Command):
            return command is self._match
        return self._match(command, arguments)

    def hold(self, execute: Callable[[], Any]) -> Deferred[Any]:
        """Catch a request whose handler is ``execute``: the Deferred of its
        result, which fires on :meth:`release`."""
        self._caught += 1
        reply: Deferred[Any] = Deferred()
        if self.applied:
            result = maybeDeferred(execute)
            self._held.append((reply, lambda: result))
        else:
            self._held.append((reply, execute))
        if self._caught >= self.count:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                waiter.callback(self.held)
        return reply

    def _finish(self) -> None:
        self._over = True
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.callback(self.held)


class Holds:
    """The holds of one node, oldest first (the first that catches a
    request holds it)."""

    def __init__(self) -> None:
        self._holds: list[HeldReplies] = []

    def add(self, hold: HeldReplies) -> None:
        self._holds = [old for old in self._holds if old.armed or old.held]
        self._holds.append(hold)

    @property
    def latest(self) -> HeldReplies | None:
        """The hold made last, if any."""
        return self._holds[-1] if self._holds else None

    def catching(self, command: Command[Any], arguments: tuple[Any, ...]) -> HeldReplies | None:
        """The hold that catches this request, if one does."""
        for hold in self._holds:
            if hold.catches(command, arguments):
                return hold
        return None

    def release(self) -> None:
        """Release every hold."""
        holds, self._holds = self._holds, []
        for hold in holds:
            hold.release()

    def dropped(self) -> None:
        """The node died: every hold is over, with nothing sent."""
        holds, self._holds = self._holds, []
        for hold in holds:
            hold.dropped()
