"""The attempts of one safe update, sans-IO: which request comes next, and
what each outcome proves.

:func:`plan` is the whole algorithm of :func:`txarakoon.recipes.update` as a
generator, driven by a client's I/O (as :func:`txarakoon.master_claims.discover`
is)::

    steps = plan(key, fn, deadline=..., now=..., ...)
    request = next(steps)               # a Read, Write, Clean or Pause
    request = steps.send(outcome)       # its result, or the exception it raised
    request = steps.throw(cancelled)    # or: the caller stopped waiting for it
    ...                                 # until StopIteration(Done) or an exception

No Twisted, no sockets, no clock of its own: ``now`` is given.

Why it never guesses
--------------------
Each attempt writes one sequence: ``Assert(marker, None)`` for the marker of
each earlier attempt still *unresolved* (its outcome unknown), then
``Assert(key, old)``, the change (``Set(key, new)``, or ``Delete(key)`` when
``fn`` returns ``None``) and ``Set(marker, key)``, where ``marker`` is a key
of that attempt alone. The sequence is atomic, so the marker is present
exactly when the attempt was applied.

It rests on an assumption about the cluster, that *an attempt never commits
after a later write of its update was applied*: a master applies the writes
it received in the order it received them; a new master commits the writes
its predecessor accepted before any new write; and a write whose connection
was lost reached the master, if at all, before the update's next write did
(that one is sent later, on a new connection).

At most one attempt is applied. An attempt is followed by another only
after a conflict (it was not applied) or an unknown outcome (its marker
joins the unresolved ones). Of two applied attempts the earlier would have
committed first (the assumption), so the later one's ``Assert(marker,
None)`` on the earlier marker would have failed. Asserting the key alone is
not enough: the earlier attempt may commit late (queued on a live master
behind an aborted connection) after the read that found its marker absent,
and another writer may then set the key back to the value the later
attempt read.

Every read of the key reads every unresolved marker with it, in one
consistent read on the master: a marker seen there means its attempt was
applied, and the update is done (the value that attempt wrote is returned,
``fn`` is not run again). A marker absent at that read proves nothing yet
(the write may still commit); the next attempt's assertion of its absence
then decides: if it committed meanwhile, the attempt fails with a conflict,
and the read after it finds the marker. When an attempt is applied, every
earlier one is decided for good (never applied), so the markers of all
attempts are removed (``Replace(marker, None)``, idempotent: never
``Delete``, which fails a sequence when the key is absent, nor
``DeletePrefix``, which a failing sequence does not undo, PROTOCOL.md D19).
At the deadline with a marker still unresolved, the update raises
:class:`UpdateOutcomeUnknown`, which names the markers.

A cancellation (thrown into the plan) is told truthfully: nothing that may
apply sent and nothing unresolved, it is raised as it is; with a write in
flight or a marker unresolved, it becomes an :class:`UpdateOutcomeUnknown`;
once the update was applied (while its markers are being removed), the
update is done and its value stands.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Final, NoReturn

from ..codec import STRING
from ..errors import (
    AssertionFailed,
    ConnectionFailure,
    OutcomeUnknown,
    RequestTimeout,
    explain,
)
from ..retry import Backoff, Schedule
from ..sequence import Assert, Delete, Replace, Set, Step

__all__ = [
    "MARKER_PREFIX",
    "STRAY_MARKERS",
    "Clean",
    "Done",
    "Pause",
    "Read",
    "Request",
    "UpdateOutcomeUnknown",
    "Updater",
    "Write",
    "carry",
    "plan",
]

#: The prefix of every marker key; a marker's value is the key it updates.
#: Markers are ordinary keys: ``range`` and ``prefix`` over it see them.
MARKER_PREFIX: Final = b"txarakoon/recipes/markers/"

#: What an update computes: the new value from the old one (``None``: absent).
Updater = Callable[[bytes | None], bytes | None]


@dataclass(frozen=True)
class Read:
    """Read ``keys`` (the key, then each unresolved marker) in one consistent
    read on the master: ``multi_get_option``; the outcome is its list."""

    keys: tuple[bytes, ...]
    timeout: float

    def call(self, client: Any) -> Any:
        return client.using(timeout=self.timeout).multi_get_option(list(self.keys))


@dataclass(frozen=True)
class Write:
    """Write one attempt's sequence; the outcome is ``None`` when applied."""

    steps: tuple[Step, ...]
    marker: bytes
    timeout: float

    def call(self, client: Any) -> Any:
        return client.using(timeout=self.timeout).sequence(list(self.steps))


@dataclass(frozen=True)
class Clean:
    """Remove ``markers`` (``Replace(marker, None)`` each: idempotent)."""

    markers: tuple[bytes, ...]
    timeout: float

    def call(self, client: Any) -> Any:
        steps = [Replace(marker, None) for marker in self.markers]
        return client.using(timeout=self.timeout).sequence(steps)


@dataclass(frozen=True)
class Pause:
    """Wait ``seconds`` before the next attempt (a backoff after a conflict)."""

    seconds: float


#: What the plan asks its driver to do next.
Request = Read | Write | Clean | Pause


@dataclass(frozen=True)
class Done:
    """The update was applied once: ``value`` is what it wrote (``None``: the
    key is absent). ``stray_markers`` could not be removed before the
    deadline (left under :data:`MARKER_PREFIX`, each holding ``key``)."""

    value: bytes | None
    stray_markers: tuple[bytes, ...] = ()


class UpdateOutcomeUnknown(OutcomeUnknown):
    """An update ended (at its deadline, on an error, or cancelled) with an
    attempt whose outcome is still unknown: the update was applied once, or
    not at all, never twice.

    :attr:`reason` is the last error it met: the one that left an attempt
    unknown, a later conflict, or the cancellation. ``str()`` names it as
    the last attempt's error, not as the update's verdict: what that error
    says of its own request (not sent, safe to retry) is not true of the
    update.

    :ivar markers: the markers of those attempts, left in place: one found
        present means its attempt was applied; all absent mean it was not
        only once nothing of it can still be pending (a new master has
        written since, or the master that received it has drained its
        queue). Only then remove them with ``replace(marker, None)``: a late
        commit would set one again.
    """

    def __init__(self, reason: object, request: str, markers: tuple[bytes, ...]) -> None:
        self.markers = markers
        super().__init__(reason, request)

    def __str__(self) -> str:
        names = ", ".join(repr(marker) for marker in self.markers)
        why = "none given" if self.reason is None else explain(self.reason)
        return (
            f"{self._verdict(self.request or 'the update')}; the last attempt's error: "
            f"{why}. Read its markers {names}: one present means its attempt was "
            "applied; absent means not applied only once nothing of the update can "
            "still be pending (a new master has written since, or the master that "
            "received it has long drained its queue). Only then remove them with "
            "replace(marker, None): removed earlier, a late commit would set one again"
        )

    def _verdict(self, request: str) -> str:
        return (
            f"{request} was applied once or not at all, and which is unknown (an "
            "update retries, but is never applied twice)"
        )


def _unknown(error: BaseException) -> bool:
    """Whether a failed write may have been applied."""
    return isinstance(error, ConnectionFailure) and error.applied is None


def plan(
    key: bytes,
    fn: Updater,
    *,
    deadline: float,
    now: Callable[[], float],
    backoff: Backoff,
    rng: random.Random,
    new_marker: Callable[[], bytes],
) -> Generator[Request, Any, Done]:
    """Yield the requests of one update of ``key`` to ``fn(old)`` in turn,
    receive each outcome (a result, or the exception the request raised),
    and return :class:`Done`; raise what the update fails with. An
    exception thrown in (a cancellation) ends the update: raised as it is,
    or as an :class:`UpdateOutcomeUnknown` when something may have been
    applied, or, once the update was applied, :class:`Done` all the same.

    :param deadline: when to give up, on the clock ``now`` reads.
    :param backoff: the delays between attempts after a conflict.
    :param rng: the jitter of those delays.
    :param new_marker: a new marker key (under :data:`MARKER_PREFIX`), unique.
    """
    request = f"update({key!r})"
    # The new value of each attempt whose outcome is unknown, by its marker.
    unresolved: dict[bytes, bytes | None] = {}
    schedule = Schedule(backoff, rng)
    last: BaseException | None = None

    def end(error: BaseException) -> NoReturn:
        """End the update with ``error``: as it is when nothing may have
        been applied, else inside an :class:`UpdateOutcomeUnknown`."""
        if unresolved:
            raise UpdateOutcomeUnknown(error, request, tuple(unresolved)) from error
        raise error

    def expire() -> NoReturn:
        if last is None:
            raise RequestTimeout("no answer within the deadline", request, applied=False)
        end(last)

    while True:
        remaining = deadline - now()
        if remaining <= 0:
            expire()
        try:
            outcome = yield Read((key, *unresolved), remaining)
        except Exception as stop:
            end(stop)
        if isinstance(outcome, BaseException):
            end(outcome)
        old, *markers = outcome
        for marker, found in zip(unresolved, markers, strict=True):
            if found is not None:
                return (yield from _clean(unresolved[marker], tuple(unresolved), deadline, now))
        try:
            new = _new_value(fn, old)
        except Exception as error:
            end(error)
        if new == old and not unresolved:
            return Done(old)
        marker = new_marker()
        steps = _attempt(key, old, new, marker, tuple(unresolved))
        remaining = deadline - now()
        if remaining <= 0:
            expire()
        try:
            outcome = yield Write(steps, marker, remaining)
        except Exception as stop:
            # A write that may have been sent is unknown, cancelled or not
            # (CancelledBeforeSending says it was not).
            if getattr(stop, "applied", None) is not False:
                unresolved[marker] = new
            end(stop)
        if not isinstance(outcome, BaseException):
            return (yield from _clean(new, (*unresolved, marker), deadline, now))
        last = outcome
        if _unknown(outcome):
            unresolved[marker] = new
            continue
        if not isinstance(outcome, AssertionFailed):
            end(outcome)
        wait = schedule.next_wait(deadline - now())
        if wait is None:
            expire()
        try:
            yield Pause(wait)
        except Exception as stop:
            end(stop)


def _new_value(fn: Updater, old: bytes | None) -> bytes | None:
    """``fn(old)``, as the value to write; a :class:`TypeError` naming what
    ``fn`` returned when that is no value (a number, a list, a coroutine)."""
    new: object = fn(old)
    if new is None:
        return None
    try:
        return STRING.check(new)
    except TypeError:
        if inspect.iscoroutine(new):
            # Never to be awaited: closed, so that Python does not warn of it.
            new.close()
        raise TypeError(
            f"fn returned {type(new).__name__}; it must return bytes, str or None "
            "(and be a plain, synchronous function)"
        ) from None


def _attempt(
    key: bytes, old: bytes | None, new: bytes | None, marker: bytes, unresolved: tuple[bytes, ...]
) -> tuple[Step, ...]:
    """One attempt's sequence. Asserting the unresolved markers absent, not
    only the key, is what keeps the update from applying twice when an
    earlier attempt commits late and the key comes back to ``old``."""
    change: tuple[Step, ...] = ()
    if new is not None:
        change = (Set(key, new),)
    elif old is not None:
        change = (Delete(key),)
    absent = tuple(Assert(earlier, None) for earlier in unresolved)
    return (*absent, Assert(key, old), *change, Set(marker, key))


def carry(
    client: Any,
    steps: Generator[Request, Any, Done],
    sleep: Callable[[float], Any],
    stops: tuple[type[BaseException], ...] = (),
) -> Generator[Any, Any, Done]:
    """Carry the requests of ``steps`` (a :func:`plan`) to ``client``: yield
    what each call returns, and give ``steps`` what comes back, or the
    exception raised there. The Twisted flavour yields Deferreds (run it with
    ``Deferred.fromCoroutine``); the blocking one's calls have returned or
    raised by then (:func:`txarakoon.sessions.run_blocking`). An exception of
    ``stops`` (a cancellation) is thrown into ``steps`` instead, which tells
    what the update came to."""
    outcome: Any = None
    stop: BaseException | None = None
    try:
        while True:
            try:
                request = steps.send(outcome) if stop is None else steps.throw(stop)
            except StopIteration as finished:
                done: Done = finished.value
                return done
            outcome = stop = None
            try:
                if isinstance(request, Pause):
                    outcome = yield sleep(request.seconds)
                else:
                    outcome = yield request.call(client)
            except stops as error:
                stop = error
            except Exception as error:
                outcome = error
    finally:
        steps.close()


def _clean(
    value: bytes | None, markers: tuple[bytes, ...], deadline: float, now: Callable[[], float]
) -> Generator[Request, Any, Done]:
    """Remove ``markers`` after the update was applied (writing ``value``):
    again after an unknown outcome until the deadline, at least once."""
    while True:
        try:
            outcome = yield Clean(markers, max(deadline - now(), _CLEAN_AT_LEAST))
        except Exception:
            # Cancelled too late: the update stands, its markers may stay.
            return Done(value, markers)
        if not isinstance(outcome, BaseException):
            return Done(value)
        if not _unknown(outcome) or deadline - now() <= 0:
            return Done(value, markers)


#: Logged (a format with ``markers``) when an update was applied but its
#: markers could not be removed.
STRAY_MARKERS: Final = "An update was applied, but its markers {markers} could not be removed"

#: The least time the removal of the markers is given, even past the
#: deadline: the update itself was applied, and strays are a nuisance.
_CLEAN_AT_LEAST: Final = 1.0
