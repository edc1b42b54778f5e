"""The updates a node proposes, as the server's ``Update`` module sees them.

Before an update goes through "Paxos" the server checks its serialized size
against ``max_buffer_size`` and, when it is too big, answers 0x26 with the
update's description (D21). A sequence step is an update of its own; the
other kinds (``test_and_set``, ``user_function``, ``synced_sequence``, ``nop``)
are declared here, with :func:`serialized_size` and :func:`describe`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ..sequence import (
    Assert,
    AssertExists,
    AssertRange,
    Delete,
    DeletePrefix,
    Replace,
    Sequence,
    Set,
    Step,
)
from .quoting import ocaml_quoted

__all__ = [
    "MAX_BUFFER_SIZE",
    "NOP",
    "SyncedSequenceUpdate",
    "TestAndSetUpdate",
    "Update",
    "UserFunctionUpdate",
    "describe",
    "describe_range_assertion",
    "serialized_size",
]

#: Arakoon's default ``max_buffer_size``: the largest serialized update (D21).
MAX_BUFFER_SIZE: Final = 32 * 1024 * 1024


@dataclass(frozen=True)
class TestAndSetUpdate:
    """A ``test_and_set`` request."""

    key: bytes
    expected: bytes | None
    wanted: bytes | None


@dataclass(frozen=True)
class UserFunctionUpdate:
    """A ``user_function`` call."""

    name: bytes
    argument: bytes | None


@dataclass(frozen=True)
class SyncedSequenceUpdate:
    """A ``synced_sequence`` request (a ``sequence`` is a :class:`Step` itself)."""

    steps: Sequence


class _Nop:
    pass


#: The ``nop`` update.
NOP: Final = _Nop()

Update = Step | TestAndSetUpdate | UserFunctionUpdate | SyncedSequenceUpdate | _Nop


def _string_size(data: bytes) -> int:
    return 4 + len(data)


def _option_size(data: bytes | None) -> int:
    return 1 if data is None else 1 + _string_size(data)


def serialized_size(update: Update) -> int:
    """``Update.serialized_size`` of the server: the update's tlog bytes."""
    if isinstance(update, Step):
        return len(update.encode())
    if isinstance(update, SyncedSequenceUpdate):
        return len(update.steps.encode())
    if isinstance(update, TestAndSetUpdate):
        key, expected, wanted = update.key, update.expected, update.wanted
        return 4 + _string_size(key) + _option_size(expected) + _option_size(wanted)
    if isinstance(update, UserFunctionUpdate):
        return 4 + _string_size(update.name) + _option_size(update.argument)
    return 4


def _describe_sequence(kind: bytes, steps: tuple[Step, ...]) -> bytes:
    # The server's loop (update2s) ends even a short sequence with
    # "... (0 more) ])" and only an empty one with "])"; keep its text.
    shown = min(100, len(steps))
    parts = [kind, b"(["]
    for index, step in enumerate(steps):
        parts.append(describe(step))
        if index + 1 < len(steps):
            parts.append(b"; ")
        if index + 1 == shown:
            parts.append(b"... (%d more) ])" % (len(steps) - shown))
            break
    else:
        parts.append(b"])")
    return b"".join(parts)


def describe_range_assertion(keys: tuple[bytes, ...]) -> bytes:
    """How the server shows the keys an ``AssertRange`` expects (D23)."""
    return b"ContainsExactly [ " + ocaml_quoted(b"; ".join(keys)) + b" ]"


def describe(update: Update) -> bytes:
    """``Update.update2s`` of the server (values elided as ``...``)."""
    q = ocaml_quoted
    if isinstance(update, Set):
        return b"Set            ;%s;%d;%s" % (q(update.key), len(update.value), q(b"..."))
    if isinstance(update, Delete):
        return b"Delete         ;%s" % q(update.key)
    if isinstance(update, TestAndSetUpdate):
        wanted = update.wanted
        size = 0 if wanted is None else len(wanted)
        shown = b"None" if wanted is None else b"..."
        return b"TestAndSet     ;%s;%d;%s" % (q(update.key), size, q(shown))
    if isinstance(update, Sequence):
        return _describe_sequence(b"Sequence", update.steps)
    if isinstance(update, SyncedSequenceUpdate):
        return _describe_sequence(b"SyncedSequence", update.steps.steps)
    if isinstance(update, Assert):
        size = 0 if update.value is None else len(update.value)
        return b"Assert          ;%s;%d" % (q(update.key), size)
    if isinstance(update, AssertExists):
        return b"Assert_exists   ;%s" % q(update.key)
    if isinstance(update, AssertRange):
        return b"Assert_range(%s, %s)" % (q(update.prefix), describe_range_assertion(update.keys))
    if isinstance(update, UserFunctionUpdate):
        size = 0 if update.argument is None else len(update.argument)
        return b"UserFunction;%s;%d" % (update.name, size)
    if isinstance(update, DeletePrefix):
        return b"DeletePrefix    ;%s" % q(update.prefix)
    if isinstance(update, Replace):
        size = 0 if update.value is None else len(update.value)
        return b"Replace            ;%s;%d" % (q(update.key), size)
    return b"NOP"
