"""Every golden vector whose API ClientMixin/AdminMixin exposes, through
:class:`ArakoonProtocol` on a StringTransport: the exact bytes written after the
prologue, and the Deferred's value or error for each reply. Then delivery
independence: one byte at a time, random chunks, pipelined replies in one chunk."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from txarakoon.errors import RequestNotProcessed
from txarakoon.protocol import ArakoonProtocol

from . import vectors
from .protocol_helpers import (
    CLUSTER_ID,
    chunks,
    connect,
    method_call,
    outcome,
    request_vector_for,
    send,
    take,
)

REQUESTS = vectors.in_scope_requests()
RESPONSES = vectors.in_scope_responses()

(PROLOGUE,) = [v for v in vectors.ALL if v["kind"] == "prologue"]

# The collapse vector that fails after one progress frame of value 1000.
_COLLAPSE_FAILING = "resp_collapse_tlogs_fail_midway"


def _id(vector: dict[str, Any]) -> str:
    return str(vector["id"])


def _is_collapse(vector: dict[str, Any]) -> bool:
    return vectors.response_command(vector).name == "collapse_tlogs"


def _send_for(protocol: ArakoonProtocol, vector: dict[str, Any], progress: list[int]) -> Any:
    """Send a request whose reply ``vector`` can be (``get`` for error frames)."""
    request = request_vector_for(vectors.response_command(vector).name)
    extra = {"progress": progress.append} if _is_collapse(vector) else {}
    return send(protocol, request, **extra)


def _expected(vector: dict[str, Any]) -> tuple[Any, ...]:
    if vectors.is_error(vector):
        error = vectors.expected_error(vector)
        return ("error", vectors.expected_error_class(vector), error.code, error.message)
    value = vectors.expected_value(vector)
    # Through the facade, collapse_tlogs reports the frames to the progress
    # callback and returns how many there were.
    return ("value", len(value) if _is_collapse(vector) else value)


def _expected_progress(vector: dict[str, Any]) -> list[int]:
    if not _is_collapse(vector):
        return []
    if vector["id"] == _COLLAPSE_FAILING:
        return [1000]
    progress: list[int] = vectors.expected_value(vector)
    return progress


def test_every_request_and_response_vector_in_scope_is_checked() -> None:
    assert len(REQUESTS) == 73
    assert len(RESPONSES) == 55
    exposed = {method_call(vector)[0] for vector in REQUESTS}
    assert all(hasattr(ArakoonProtocol, method) for method in exposed)


def test_prologue_is_written_first_and_matches_the_vector() -> None:
    protocol, transport = connect(PROLOGUE["args"]["cluster_id"], keep_prologue=True)
    protocol.get(b"key").cancel()
    written = take(transport)
    prologue = bytes.fromhex(PROLOGUE["request_hex"])
    assert written[: len(prologue)] == prologue
    assert written[len(prologue) :] == bytes.fromhex(request_vector_for("get")["request_hex"])


@pytest.mark.parametrize("vector", REQUESTS, ids=_id)
def test_request_vector_is_written_exactly_after_the_prologue(vector: dict[str, Any]) -> None:
    protocol, transport = connect(keep_prologue=True)
    prologue = take(transport)
    extra = {"progress": lambda value: None} if vector["command"] == "collapse_tlogs" else {}
    deferred = send(protocol, vector, **extra)
    assert take(transport).hex() == vector["request_hex"]
    assert PROLOGUE["args"]["cluster_id"].encode() == CLUSTER_ID
    assert prologue.hex() == PROLOGUE["request_hex"]
    assert not deferred.called
    assert protocol.pending == 1
    deferred.cancel()
    outcome(deferred)


@pytest.mark.parametrize("vector", RESPONSES, ids=_id)
def test_response_vector_gives_the_deferred_its_value_or_error(vector: dict[str, Any]) -> None:
    protocol, _ = connect()
    progress: list[int] = []
    deferred = _send_for(protocol, vector, progress)
    protocol.dataReceived(bytes.fromhex(vector["response_hex"]))
    assert outcome(deferred) == _expected(vector)
    assert progress == _expected_progress(vector)
    assert protocol.pending == 0


@pytest.mark.parametrize("vector", RESPONSES, ids=_id)
def test_response_vector_leaves_the_connection_open_unless_the_code_closes_it(
    vector: dict[str, Any],
) -> None:
    protocol, transport = connect()
    _send_for(protocol, vector, []).addErrback(lambda _: None)
    protocol.dataReceived(bytes.fromhex(vector["response_hex"]))
    closes = vectors.is_error(vector) and vectors.expected_error(vector).closes_connection
    assert protocol.connected is not closes
    assert transport.disconnecting is closes


@pytest.mark.parametrize("vector", RESPONSES, ids=_id)
def test_response_vector_one_byte_at_a_time_gives_the_same_result(vector: dict[str, Any]) -> None:
    protocol, _ = connect()
    progress: list[int] = []
    deferred = _send_for(protocol, vector, progress)
    wire = bytes.fromhex(vector["response_hex"])
    for index in range(len(wire)):
        assert not deferred.called
        protocol.dataReceived(wire[index : index + 1])
    assert outcome(deferred) == _expected(vector)
    assert progress == _expected_progress(vector)


@given(data=st.data())
def test_response_vector_in_random_chunks_gives_the_same_result(data: st.DataObject) -> None:
    vector = data.draw(st.sampled_from(RESPONSES), label="vector")
    wire = bytes.fromhex(vector["response_hex"])
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=len(wire)), label="cuts")
    protocol, _ = connect()
    progress: list[int] = []
    deferred = _send_for(protocol, vector, progress)
    for chunk in chunks(wire, cuts):
        protocol.dataReceived(chunk)
    assert outcome(deferred) == _expected(vector)
    assert progress == _expected_progress(vector)


def _pipelined_expectations(group: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What each request of a pipelined group ends with: its own outcome, until a
    reply whose code closes the connection; the ones behind it were never read."""
    expected: list[tuple[Any, ...]] = []
    closed = False
    for vector in group:
        if closed:
            expected.append(("error", RequestNotProcessed, False))
            continue
        expected.append(_expected(vector))
        closed = vectors.is_error(vector) and vectors.expected_error(vector).closes_connection
    return expected


def _pipelined_stream(group: list[dict[str, Any]]) -> bytes:
    """The replies a server sends for a group: none after a closing reply."""
    stream = b""
    for vector in group:
        stream += bytes.fromhex(vector["response_hex"])
        if vectors.is_error(vector) and vectors.expected_error(vector).closes_connection:
            break
    return stream


@given(data=st.data())
def test_pipelined_replies_in_random_chunks_reach_their_own_callers(
    data: st.DataObject,
) -> None:
    group = data.draw(st.lists(st.sampled_from(RESPONSES), min_size=1, max_size=8), label="group")
    stream = _pipelined_stream(group)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=16), label="cuts")
    protocol, _ = connect()
    deferreds = [_send_for(protocol, vector, []) for vector in group]
    for chunk in chunks(stream, cuts):
        protocol.dataReceived(chunk)
    assert [outcome(d) for d in deferreds] == _pipelined_expectations(group)
    assert protocol.pending == 0


def test_all_pipelined_replies_in_one_chunk_reach_their_own_callers() -> None:
    group = [
        v
        for v in RESPONSES
        if not (vectors.is_error(v) and vectors.expected_error(v).closes_connection)
    ]
    protocol, transport = connect()
    deferreds = [_send_for(protocol, vector, []) for vector in group]
    protocol.dataReceived(_pipelined_stream(group))
    assert [outcome(d) for d in deferreds] == _pipelined_expectations(group)
    assert protocol.connected
    assert not transport.disconnecting
