"""Shared by the hardening tests: drivers that run a decoder over bytes and
report its outcome comparably, a per-field reference decoder, the response
vectors with the requests they answer, and a recorder of Deferred outcomes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from txarakoon.codec import (
    BOOL,
    DEFAULT_MAX_REPLY_LENGTH,
    UINT32,
    Array,
    Incomplete,
    Option,
    Product,
    Receiver,
    RequestList,
    ResponseList,
    Type,
)
from txarakoon.errors import ArakoonError, ProtocolViolation
from txarakoon.messages import Message, _raise_error

from .. import vectors

#: Stress sizes run only when this is set (the ``slow`` marker documents them).
SLOW = os.environ.get("TXARAKOON_SLOW") == "1"
slow = pytest.mark.slow
only_when_slow = pytest.mark.skipif(not SLOW, reason="stress size: set TXARAKOON_SLOW=1")

RESPONSES = vectors.in_scope_responses()


def wire(vector: dict[str, Any]) -> bytes:
    return bytes.fromhex(vector["response_hex"])


def closes(vector: dict[str, Any]) -> bool:
    """Whether the server closes the connection after this reply."""
    return vectors.is_error(vector) and vectors.expected_error(vector).closes_connection


# -- outcomes of decoding, comparable with == ---------------------------------------------

#: ``("value", value, bytes consumed)``, ``("incomplete",)`` or
#: ``("error", class, message[, code])``.
Outcome = tuple[Any, ...]

INCOMPLETE: Outcome = ("incomplete",)


def error_outcome(error: BaseException) -> Outcome:
    if isinstance(error, ArakoonError):
        return ("error", type(error), error.code, error.message)
    return ("error", type(error), str(error))


def drive(receiver: Receiver[Any], data: bytes) -> Outcome:
    """Run a receive coroutine over ``data``: what it returns (and how many
    bytes it took), raises, or that it waits for bytes ``data`` lacks. Also
    holds it to the contract: it never asks for 0 bytes."""
    offset = 0
    try:
        wanted = next(receiver)
        while True:
            assert wanted > 0, "a receive coroutine asked for 0 bytes"
            if offset + wanted > len(data):
                return INCOMPLETE
            chunk = data[offset : offset + wanted]
            offset += wanted
            wanted = receiver.send(chunk)
    except StopIteration as done:
        return ("value", done.value, offset)
    except Exception as error:
        return error_outcome(error)


def fast(kind: Type[Any], data: bytes, offset: int, limit: int) -> Outcome:
    """:meth:`Type.decode_from` at ``offset``, as an outcome relative to it."""
    try:
        value, end = kind.decode_from(data, offset, limit)
    except Incomplete as incomplete:
        assert incomplete.needed > 0
        return INCOMPLETE
    except Exception as error:
        return error_outcome(error)
    return ("value", value, end - offset)


def fast_reply(message: Message[Any], data: bytes, offset: int, limit: int) -> Outcome:
    """:meth:`Message.decode_reply_from` as an outcome: an error reply is
    reported as the coroutine raises it."""
    try:
        ok, value, end = message.decode_reply_from(data, offset, limit)
    except Incomplete:
        return INCOMPLETE
    except Exception as error:
        return error_outcome(error)
    if ok:
        return ("value", value, end - offset)
    return (*error_outcome(value), end - offset)


def drive_reply(receiver: Receiver[Any], data: bytes) -> Outcome:
    """:func:`drive` for a reply: an ArakoonError also says how many bytes
    the error reply took, as :func:`fast_reply` does."""
    offset = 0
    try:
        wanted = next(receiver)
        while True:
            if offset + wanted > len(data):
                return INCOMPLETE
            chunk = data[offset : offset + wanted]
            offset += wanted
            wanted = receiver.send(chunk)
    except StopIteration as done:
        return ("value", done.value, offset)
    except ArakoonError as error:
        return (*error_outcome(error), offset)
    except Exception as error:
        return error_outcome(error)


# -- the reference decoder ----------------------------------------------------------------


def reference_receive(kind: Type[Any], limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[Any]:
    """The plainest decoder: a coroutine resumed for every field, collections
    element by element (as the codec decoded them before it read in bulk).
    The fast path and the bulk coroutines are held to it."""
    if isinstance(kind, (ResponseList, Array, RequestList)):
        count = yield from UINT32.receive(limit)
        if count > limit:
            raise ProtocolViolation(f"element count {count} exceeds the limit of {limit}")
        items = []
        for _ in range(count):
            items.append((yield from reference_receive(kind.element, limit)))
        if kind.reversed_on_wire:
            items.reverse()
        return items
    if isinstance(kind, Option):
        if not (yield from BOOL.receive(limit)):
            return None
        return (yield from reference_receive(kind.inner, limit))
    if isinstance(kind, Product):
        fields = []
        for field in kind.fields:
            fields.append((yield from reference_receive(field, limit)))
        return tuple(fields)
    return (yield from kind.receive(limit))


def reference_reply(result: Type[Any], limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[Any]:
    """:func:`~txarakoon.messages.receive_response` over :func:`reference_receive`."""
    code = yield from UINT32.receive(limit)
    if code != 0:
        yield from _raise_error(code, limit)
    return (yield from reference_receive(result, limit))


# -- Deferred outcomes -----------------------------------------------------------------------


class Recorder:
    """Records how each of a list of Deferreds ended, and in which order."""

    def __init__(self) -> None:
        self.results: dict[int, Any] = {}
        self.order: list[int] = []

    def watch(self, index: int, deferred: Any) -> None:
        def record(result: Any) -> None:
            self.results[index] = result
            self.order.append(index)

        deferred.addBoth(record)

    def error(self, index: int) -> BaseException | None:
        from twisted.python.failure import Failure

        result = self.results.get(index)
        return result.value if isinstance(result, Failure) else None


@contextmanager
def coroutines_only() -> Iterator[None]:
    """Decode every reply with the receive coroutines: the protocol's fast
    path off, for comparison."""
    saved = Message.streamed
    Message.streamed = True
    try:
        yield
    finally:
        Message.streamed = saved
