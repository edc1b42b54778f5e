"""What a reply vector should give a caller, and how to ask for it."""

from __future__ import annotations

from typing import Any

from txarakoon.errors import RequestNotProcessed
from txarakoon.protocol import ArakoonProtocol

from . import vectors
from .protocol import request_vector_for, send

#: The collapse_tlogs reply that fails after one progress frame.
_COLLAPSE_FAILING = "resp_collapse_tlogs_fail_midway"


def is_collapse(vector: dict[str, Any]) -> bool:
    return vectors.response_command(vector).name == "collapse_tlogs"


def send_for(protocol: ArakoonProtocol, vector: dict[str, Any], progress: list[int]) -> Any:
    """Send a request whose reply ``vector`` can be (``get`` for error frames)."""
    request = request_vector_for(vectors.response_command(vector).name)
    extra = {"progress": progress.append} if is_collapse(vector) else {}
    return send(protocol, request, **extra)


def expected_outcome(vector: dict[str, Any]) -> tuple[Any, ...]:
    if vectors.is_error(vector):
        error = vectors.expected_error(vector)
        return ("error", vectors.expected_error_class(vector), error.code, error.message)
    value = vectors.expected_value(vector)
    # Through the facade, collapse_tlogs reports the frames to the progress
    # callback and returns how many there were.
    return ("value", len(value) if is_collapse(vector) else value)


def expected_progress(vector: dict[str, Any]) -> list[int]:
    if not is_collapse(vector):
        return []
    if vector["id"] == _COLLAPSE_FAILING:
        return [1000]
    progress: list[int] = vectors.expected_value(vector)
    return progress


def pipelined_expectations(group: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What each request of a pipelined group ends with: its own outcome, until a
    reply whose code closes the connection; the ones behind it were never read."""
    expected: list[tuple[Any, ...]] = []
    closed = False
    for vector in group:
        if closed:
            expected.append(("error", RequestNotProcessed, False))
            continue
        expected.append(expected_outcome(vector))
        closed = vectors.is_error(vector) and vectors.expected_error(vector).closes_connection
    return expected


def pipelined_stream(group: list[dict[str, Any]]) -> bytes:
    """The replies a server sends for a group: none after a closing reply."""
    stream = b""
    for vector in group:
        stream += bytes.fromhex(vector["response_hex"])
        if vectors.is_error(vector) and vectors.expected_error(vector).closes_connection:
            break
    return stream
