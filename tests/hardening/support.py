"""Shared by the hardening tests: the two decoding paths run over bytes,
reported comparably, the response vectors with the requests they answer, and a
recorder of Deferred outcomes."""

from __future__ import annotations

import os
from typing import Any

import pytest

from txarakoon.codec import Incomplete, Receiver
from txarakoon.errors import ArakoonError, CallbackError
from txarakoon.reader import NEED_DATA, Decoder, Reader

from ..helpers import vectors

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

#: ``("value", value, bytes consumed)``, ``("incomplete",)``,
#: ``("error", class, message)`` for a violation, or ``("error", class, code,
#: message, bytes consumed)`` for an error reply (a reply decodes to its error).
Outcome = tuple[Any, ...]

INCOMPLETE: Outcome = ("incomplete",)


def error_outcome(error: BaseException) -> Outcome:
    if isinstance(error, ArakoonError):
        return ("error", type(error), error.code, error.message)
    return ("error", type(error), str(error))


def value_outcome(value: Any, consumed: int) -> Outcome:
    if isinstance(value, (ArakoonError, CallbackError)):
        return (*error_outcome(value), consumed)
    return ("value", value, consumed)


def drive(receiver: Receiver[Any], data: bytes) -> Outcome:
    """The incremental path alone: the coroutine ``receiver`` run over
    ``data`` by a :class:`~txarakoon.reader.Reader`."""
    reader = Reader()
    reader.feed(data)
    try:
        value = reader.start(receiver)
    except Exception as error:
        return error_outcome(error)
    if value is NEED_DATA:
        return INCOMPLETE
    return value_outcome(value, len(data) - len(reader))


def fast(decoder: Decoder[Any], data: bytes, offset: int, limit: int) -> Outcome:
    """The fast path alone: ``decoder.decode_from`` at ``offset``."""
    try:
        value, end = decoder.decode_from(data, offset, limit)
    except Incomplete as incomplete:
        assert incomplete.needed > 0
        return INCOMPLETE
    except Exception as error:
        return error_outcome(error)
    return value_outcome(value, end - offset)


def chunked(decoder: Decoder[Any], pieces: list[bytes], limit: int) -> Outcome:
    """What production does: a Reader fed ``pieces`` one by one, asked for
    the value after each (fast path first, then the coroutine, resumed)."""
    reader = Reader(limit)
    fed = 0
    for piece in pieces or [b""]:
        reader.feed(piece)
        fed += len(piece)
        try:
            value = reader.read(decoder)
        except Exception as error:
            return error_outcome(error)
        if value is not NEED_DATA:
            return value_outcome(value, fed - len(reader))
    return INCOMPLETE


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
