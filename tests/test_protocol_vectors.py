"""Every golden vector whose API ClientMixin/AdminMixin exposes, through
:class:`ArakoonProtocol` on a StringTransport: the exact bytes written after the
prologue, and the Deferred's value or error for each reply. Then delivery
independence: one byte at a time, random chunks, pipelined replies in one chunk."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from txarakoon.protocol import ArakoonProtocol

from .helpers import vectors
from .helpers.protocol import (
    CLUSTER_ID,
    chunks,
    connect,
    method_call,
    outcome,
    request_vector_for,
    send,
    take,
)
from .helpers.replies import (
    expected_outcome,
    expected_progress,
    pipelined_expectations,
    pipelined_stream,
    send_for,
)

REQUESTS = vectors.in_scope_requests()
RESPONSES = vectors.in_scope_responses()

(PROLOGUE,) = [v for v in vectors.ALL if v["kind"] == "prologue"]

# The collapse vector that fails after one progress frame of value 1000.


def _id(vector: dict[str, Any]) -> str:
    return str(vector["id"])


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
    deferred = send_for(protocol, vector, progress)
    protocol.dataReceived(bytes.fromhex(vector["response_hex"]))
    assert outcome(deferred) == expected_outcome(vector)
    assert progress == expected_progress(vector)
    assert protocol.pending == 0


@pytest.mark.parametrize("vector", RESPONSES, ids=_id)
def test_response_vector_leaves_the_connection_open_unless_the_code_closes_it(
    vector: dict[str, Any],
) -> None:
    protocol, transport = connect()
    send_for(protocol, vector, []).addErrback(lambda _: None)
    protocol.dataReceived(bytes.fromhex(vector["response_hex"]))
    closes = vectors.is_error(vector) and vectors.expected_error(vector).closes_connection
    assert protocol.connected is not closes
    assert transport.disconnecting is closes


@pytest.mark.parametrize("vector", RESPONSES, ids=_id)
def test_response_vector_one_byte_at_a_time_gives_the_same_result(vector: dict[str, Any]) -> None:
    protocol, _ = connect()
    progress: list[int] = []
    deferred = send_for(protocol, vector, progress)
    wire = bytes.fromhex(vector["response_hex"])
    for index in range(len(wire)):
        assert not deferred.called
        protocol.dataReceived(wire[index : index + 1])
    assert outcome(deferred) == expected_outcome(vector)
    assert progress == expected_progress(vector)


@given(data=st.data())
def test_response_vector_in_random_chunks_gives_the_same_result(data: st.DataObject) -> None:
    vector = data.draw(st.sampled_from(RESPONSES), label="vector")
    wire = bytes.fromhex(vector["response_hex"])
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=len(wire)), label="cuts")
    protocol, _ = connect()
    progress: list[int] = []
    deferred = send_for(protocol, vector, progress)
    for chunk in chunks(wire, cuts):
        protocol.dataReceived(chunk)
    assert outcome(deferred) == expected_outcome(vector)
    assert progress == expected_progress(vector)


@given(data=st.data())
def test_pipelined_replies_in_random_chunks_reach_their_own_callers(
    data: st.DataObject,
) -> None:
    group = data.draw(st.lists(st.sampled_from(RESPONSES), min_size=1, max_size=8), label="group")
    stream = pipelined_stream(group)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=16), label="cuts")
    protocol, _ = connect()
    deferreds = [send_for(protocol, vector, []) for vector in group]
    for chunk in chunks(stream, cuts):
        protocol.dataReceived(chunk)
    assert [outcome(d) for d in deferreds] == pipelined_expectations(group)
    assert protocol.pending == 0


def test_all_pipelined_replies_in_one_chunk_reach_their_own_callers() -> None:
    group = [
        v
        for v in RESPONSES
        if not (vectors.is_error(v) and vectors.expected_error(v).closes_connection)
    ]
    protocol, transport = connect()
    deferreds = [send_for(protocol, vector, []) for vector in group]
    protocol.dataReceived(pipelined_stream(group))
    assert [outcome(d) for d in deferreds] == pipelined_expectations(group)
    assert protocol.connected
    assert not transport.disconnecting
