"""Every golden vector in scope, checked at codec level: message → exact request
bytes, response bytes → exact value or error. Also delivery independence."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from txarakoon.codec import Receiver, decode
from txarakoon.errors import ArakoonError, ProtocolViolation
from txarakoon.messages import prologue
from txarakoon.reader import NEED_DATA, Reader

from .helpers import vectors

REQUESTS = vectors.in_scope_requests()
RESPONSES = vectors.in_scope_responses()


def _id(vector: dict[str, Any]) -> str:
    return str(vector["id"])


def test_vector_counts_are_what_the_note_reports() -> None:
    assert len(REQUESTS) == 73
    assert len(RESPONSES) == 55


def test_prologue_matches_vector() -> None:
    (vector,) = [v for v in vectors.ALL if v["kind"] == "prologue"]
    assert prologue(vector["args"]["cluster_id"]).hex() == vector["request_hex"]


@pytest.mark.parametrize("vector", REQUESTS, ids=_id)
def test_request_serializes_to_vector_bytes(vector: dict[str, Any]) -> None:
    assert vectors.message_for(vector).serialize().hex() == vector["request_hex"]


@pytest.mark.parametrize("vector", REQUESTS, ids=_id)
def test_request_bytes_decode_to_vector_arguments(vector: dict[str, Any]) -> None:
    command = vectors.command_for(vector)
    assert command is not None
    wire = bytes.fromhex(vector["request_hex"])
    assert wire[:4] == command.word
    decoded = decode(command.receive_arguments(), wire[4:])
    assert command(*decoded).serialize() == wire
    assert decoded == vectors.message_for(vector).arguments


def _receive(vector: dict[str, Any]) -> Receiver[Any]:
    command = vectors.response_command(vector)
    return command(*_dummy_arguments(command)).receive()


def _dummy_arguments(command: Any) -> tuple[Any, ...]:
    for vector in REQUESTS:
        if vectors.command_for(vector) is command:
            return vectors.argument_values(vector)
    raise AssertionError(command)


def _outcome(receiver: Receiver[Any], chunks: list[bytes]) -> tuple[str, Any]:
    """Feed ``chunks`` to a receive coroutine as a buffer would, and report the
    value or the error it ends with."""
    buffer = b"".join(chunks)
    try:
        return ("value", decode(receiver, buffer))
    except ArakoonError as error:
        return ("error", (type(error), error.code, error.message))


@pytest.mark.parametrize("vector", RESPONSES, ids=_id)
def test_response_decodes_to_vector_value(vector: dict[str, Any]) -> None:
    wire = bytes.fromhex(vector["response_hex"])
    if vectors.is_error(vector):
        expected = vectors.expected_error(vector)
        with pytest.raises(vectors.expected_error_class(vector)) as caught:
            decode(_receive(vector), wire)
        assert caught.value.code == expected.code
        assert caught.value.message == expected.message
    else:
        assert decode(_receive(vector), wire) == vectors.expected_value(vector)


def test_unknown_opcode_reply_is_unsupported_command_not_a_key_error() -> None:
    (vector,) = [v for v in RESPONSES if v["id"] == "resp_error_05_NotFound_cmd"]
    with pytest.raises(ArakoonError) as caught:
        decode(_receive(vector), bytes.fromhex(vector["response_hex"]))
    assert not isinstance(caught.value, KeyError)
    assert caught.value.closes_connection


def _feed(receiver: Receiver[Any], chunks: list[bytes]) -> tuple[str, Any]:
    """Drive a receive coroutine with bytes arriving in ``chunks``, as the
    protocol does: through a Reader, resumed as each chunk arrives."""
    reader = Reader()
    try:
        value = reader.start(receiver)
        for chunk in chunks:
            if value is not NEED_DATA:
                break
            reader.feed(chunk)
            value = reader.resume()
    except ArakoonError as error:
        return ("error", (type(error), error.code, error.message))
    assert value is not NEED_DATA, "the reply ended before its last byte"
    return ("value", value)


def _chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in pairwise(points)]


@pytest.mark.parametrize("vector", RESPONSES, ids=_id)
def test_response_one_byte_at_a_time_gives_the_same_result(vector: dict[str, Any]) -> None:
    wire = bytes.fromhex(vector["response_hex"])
    whole = _outcome(_receive(vector), [wire])
    assert _feed(_receive(vector), [wire[i : i + 1] for i in range(len(wire))]) == whole


@given(data=st.data())
def test_response_in_random_chunks_gives_the_same_result(data: st.DataObject) -> None:
    vector = data.draw(st.sampled_from(RESPONSES))
    wire = bytes.fromhex(vector["response_hex"])
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(wire)), max_size=12))
    assert _feed(_receive(vector), _chunked(wire, cuts)) == _outcome(_receive(vector), [wire])


@given(data=st.data())
def test_responses_back_to_back_decode_independently(data: st.DataObject) -> None:
    group = data.draw(st.lists(st.sampled_from(RESPONSES), min_size=1, max_size=6))
    stream = b"".join(bytes.fromhex(v["response_hex"]) for v in group)
    offset = 0
    for vector in group:
        wire = bytes.fromhex(vector["response_hex"])
        receiver = _receive(vector)
        wanted = next(receiver)
        consumed = 0
        try:
            while True:
                chunk = stream[offset + consumed : offset + consumed + wanted]
                consumed += wanted
                wanted = receiver.send(chunk)
        except StopIteration:
            pass
        except ArakoonError:
            pass
        assert consumed == len(wire)
        offset += consumed


def test_truncated_response_is_a_protocol_violation_when_decoded_whole() -> None:
    (vector,) = [v for v in RESPONSES if v["id"] == "resp_range_3"]
    with pytest.raises(ProtocolViolation):
        decode(_receive(vector), bytes.fromhex(vector["response_hex"])[:-1])
