"""Recipes: read-modify-write updates that stay exact through a failover.

:func:`update` reads a key, computes ``fn(old)`` and writes the result only if
the key still holds what was read, retrying on a conflict; :func:`increment`
is a counter on top of it. Both take an
:class:`~txarakoon.cluster.ArakoonClient` (they return a Deferred) or a
:class:`~txarakoon.blocking_cluster.BlockingArakoonClient` (they return the
value)::

    count = await increment(client, b"visits")              # Twisted
    count = increment(blocking_client, b"visits")           # blocking
    await update(client, b"name", lambda old: (old or b"").upper())

A hand-written loop of ``get`` and ``test_and_set`` is wrong exactly when it
matters: when a write's outcome is unknown
(:class:`~txarakoon.errors.OutcomeUnknown`, the master lost mid-write),
repeating it may apply the change twice and giving up may lose it. These
recipes write, with each attempt, a *marker* key of that attempt alone, in
the same atomic sequence, and settle an unknown outcome by reading the
marker on the master, never by guessing (see
:mod:`txarakoon.recipes.attempts` for why that is sound).

What to know:

* ``fn`` may run several times (once per attempt) and must be pure: compute
  the new value from the old one, and nothing else.
* Markers are ordinary keys under :data:`MARKER_PREFIX` (each holds the key
  it updates): ``range`` and ``prefix`` over that prefix see them while an
  update runs. They are removed when it ends (with ``replace(marker,
  None)``), except those of an update that raised
  :class:`UpdateOutcomeUnknown`, which are left as the evidence.
* ``timeout`` (default: the client's) bounds the whole update, retries and
  resolution included; each request is sent with what is left of it. After
  a conflict the next attempt waits as the client's retries do (its
  ``backoff`` and ``jitter``).
* ``fn`` returning the value it was given writes nothing (unless an earlier
  attempt is unresolved: only a write decides it).
* Cancelling the Deferred tells what the update came to: a
  ``CancelledError`` when nothing may have been applied,
  :class:`UpdateOutcomeUnknown` with a write in flight or an attempt
  unresolved, and the value when the update was applied already.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from random import Random
from typing import TYPE_CHECKING, Any, Final, overload

from ..codec import STRING
from ..keys import Key
from ..retry import Backoff
from .attempts import MARKER_PREFIX, UpdateOutcomeUnknown, Updater, plan

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

    from ..blocking_cluster import BlockingArakoonClient
    from ..cluster import ArakoonClient

__all__ = [
    "MARKER_PREFIX",
    "UpdateOutcomeUnknown",
    "Updater",
    "counter_value",
    "increment",
    "update",
]

#: A counter's text: decimal ASCII, optionally negative.
_DECIMAL: Final = re.compile(rb"-?[0-9]+")


def _new_marker() -> bytes:
    return MARKER_PREFIX + secrets.token_hex(16).encode("ascii")


@overload
def update(
    client: ArakoonClient, key: Key, fn: Updater, *, timeout: float | None = None
) -> Deferred[bytes | None]: ...


@overload
def update(
    client: BlockingArakoonClient, key: Key, fn: Updater, *, timeout: float | None = None
) -> bytes | None: ...


def update(client: Any, key: Key, fn: Updater, *, timeout: float | None = None) -> Any:
    """Set ``key`` to ``fn(old)`` exactly once (``old`` is ``None`` when the
    key is absent; ``fn`` returning ``None`` deletes it), and return the new
    value: a Deferred of it with an :class:`~txarakoon.cluster.ArakoonClient`,
    the value itself with a
    :class:`~txarakoon.blocking_cluster.BlockingArakoonClient`.

    Each attempt writes, in one sequence, the absence of the markers of the
    attempts still unresolved, ``Assert(key, old)``, the change and a marker
    of its own; a conflict (:class:`~txarakoon.errors.AssertionFailed`)
    makes it read and try again, after a backoff. When ``fn`` returns the
    value it was given (an absent key staying absent, say), nothing is
    written.

    :param fn: the new value from the old one; it may run several times,
        so it must be pure.
    :param timeout: the deadline of the whole update, in seconds (default:
        the client's ``timeout``).
    :raises UpdateOutcomeUnknown: at the deadline (or cancelled, or on an
        error), an attempt's outcome is still unknown (it names the
        attempts' markers).
    :raises ~txarakoon.errors.AssertionFailed: at the deadline, every attempt
        met a conflict (nothing was written).

    Other errors (no master before the deadline, say) are raised as the
    client raised them when nothing may have been applied, else inside an
    :class:`UpdateOutcomeUnknown`.
    """
    return _update("update", client, key, fn, timeout)


def _update(called: str, client: Any, key: Key, fn: Updater, timeout: float | None) -> Any:
    """:func:`update`, called as ``called`` (what a mistake's message names)."""
    key = STRING.check(key)
    if not callable(fn):
        raise TypeError(f"fn must be callable, not {fn!r}")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be positive, not {timeout}")
    now: Callable[[], float]
    run: Callable[[Any, Any], Any]
    # The blocking client's module loads no Twisted: ask about it first.
    from ..blocking_cluster import BlockingArakoonClient

    if isinstance(client, BlockingArakoonClient):
        from . import blocking

        now, run = time.monotonic, blocking.run
    else:
        from ..cluster import ArakoonClient

        if not isinstance(client, ArakoonClient):
            raise _not_a_cluster_client(called, client)
        from . import deferred

        now, run = client.clock.seconds, deferred.run
    seconds = client.timeout if timeout is None else timeout
    first, most = client.backoff
    steps = plan(
        key,
        fn,
        deadline=now() + seconds,
        now=now,
        backoff=Backoff(first, most, client.jitter),
        rng=Random(),
        new_marker=_new_marker,
    )
    return run(client, steps)


def _not_a_cluster_client(called: str, client: object) -> TypeError:
    got = "None" if client is None else type(client).__name__
    return TypeError(
        f"{called}() takes an ArakoonClient or a BlockingArakoonClient, not {got}: "
        "an update needs a cluster client, which finds the master and goes on when "
        "it changes (an ArakoonProtocol is one connection to one node). In tests, "
        "use the arakoon_memory_cluster_client fixture, or "
        "txarakoon.testing.trial.memory_cluster_client(cluster)"
    )


def counter_value(value: bytes | None) -> int:
    """A counter's value: ``None`` (absent) is 0, else decimal ASCII text
    (``b"42"``, ``b"-3"``); anything else is a :class:`ValueError`."""
    if value is None:
        return 0
    if not _DECIMAL.fullmatch(value):
        raise ValueError(f"not a counter (decimal ASCII text): {value!r}")
    return int(value)


@overload
def increment(
    client: ArakoonClient, key: Key, delta: int = 1, *, timeout: float | None = None
) -> Deferred[int]: ...


@overload
def increment(
    client: BlockingArakoonClient, key: Key, delta: int = 1, *, timeout: float | None = None
) -> int: ...


def increment(client: Any, key: Key, delta: int = 1, *, timeout: float | None = None) -> Any:
    """Add ``delta`` to the counter at ``key`` exactly once, with
    :func:`update`; the new count (a Deferred of it, with an
    :class:`~txarakoon.cluster.ArakoonClient`).

    A counter is stored as decimal ASCII text (``b"42"``); an absent key
    counts as 0. A value that is not such text is a :class:`ValueError`,
    raised before anything is written, unless an earlier attempt is
    unresolved (it may have been applied): then it comes inside an
    :class:`UpdateOutcomeUnknown`.
    """
    if isinstance(delta, bool) or not isinstance(delta, int):
        raise TypeError(f"delta must be an int, not {type(delta).__name__}")

    def add(old: bytes | None) -> bytes:
        return b"%d" % (counter_value(old) + delta)

    result = _update("increment", client, key, add, timeout)
    if isinstance(result, bytes):
        return int(result)
    return result.addCallback(lambda value: int(value))
