"""Sequence steps (:mod:`txarakoon.sequence`): their encodings, AssertRange's key
order, nesting, what ``sequence()`` sends for each shape of argument, the steps
deliberately not offered, and decoding (which the in-memory server relies on)."""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from txarakoon import messages, sequence
from txarakoon.codec import decode
from txarakoon.errors import ProtocolViolation
from txarakoon.sequence import (
    SEQUENCE_PAYLOAD,
    STEP,
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

from .helpers import vectors


def u32(number: int) -> bytes:
    return struct.pack("<I", number)


def s(data: bytes) -> bytes:
    return u32(len(data)) + data


# -- encodings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "wire"),
    [
        (Set(b"k", b"v"), u32(1) + s(b"k") + s(b"v")),
        (Delete(b"k"), u32(2) + s(b"k")),
        (Assert(b"k", b"v"), u32(8) + s(b"k") + b"\x01" + s(b"v")),
        (Assert(b"k", None), u32(8) + s(b"k") + b"\x00"),
        (DeletePrefix(b"p/"), u32(14) + s(b"p/")),
        (AssertExists(b"k"), u32(15) + s(b"k")),
        (Replace(b"k", b"v"), u32(16) + s(b"k") + b"\x01" + s(b"v")),
        (Replace(b"k", None), u32(16) + s(b"k") + b"\x00"),
        (
            AssertRange(b"p/", [b"p/a", b"p/b"]),
            u32(17) + s(b"p/") + u32(1) + u32(2) + s(b"p/b") + s(b"p/a"),
        ),
        (Sequence([]), u32(5) + u32(0)),
        (
            Sequence([Set(b"a", b"1"), Sequence([Delete(b"b")])]),
            u32(5) + u32(2) + u32(1) + s(b"a") + s(b"1") + u32(5) + u32(1) + u32(2) + s(b"b"),
        ),
    ],
    ids=repr,
)
def test_step_encoding(step: Step, wire: bytes) -> None:
    assert step.encode() == wire
    assert STEP.encode(step) == wire


def test_protocol_section_7_2_example() -> None:
    # PROTOCOL.md §7.2 prints the payload length as 1e (30); the payload is 31
    # bytes, and vector req_sequence_simple (checked against the server) has 1f.
    message = messages.SEQUENCE([Set(b"a", b"1"), Delete(b"b")])
    assert message.serialize().hex(" ") == (
        "10 00 ff b1 1f 00 00 00 05 00 00 00 02 00 00 00 "
        "01 00 00 00 01 00 00 00 61 01 00 00 00 31 02 00 00 00 01 00 00 00 62"
    )


def test_empty_sequence_bytes() -> None:
    assert messages.SEQUENCE([]).serialize().hex() == "1000ffb1080000000500000000000000"


# -- AssertRange ---------------------------------------------------------------------------

_RANGE_VECTOR = next(v for v in vectors.ALL if v["id"] == "req_sequence_assert_range")


@pytest.mark.parametrize(
    "keys", [[b"p/a", b"p/b"], [b"p/b", b"p/a"], ("p/b", "p/a"), iter([b"p/a", "p/b"])], ids=repr
)
def test_assert_range_keys_in_any_order_go_descending_on_the_wire(keys: Any) -> None:
    message = messages.SEQUENCE([AssertRange(b"p/", keys)])
    assert message.serialize().hex() == _RANGE_VECTOR["request_hex"]


@given(st.lists(st.binary(max_size=6), max_size=8, unique=True))
def test_assert_range_keys_are_written_descending(keys: list[bytes]) -> None:
    step = AssertRange(b"", keys)
    assert step.keys == tuple(sorted(keys))
    wire = step.encode()
    listed = decode(messages.KEYS.receive(), wire[4 + 4 + 4 :])
    assert listed == sorted(keys, reverse=True)


@pytest.mark.parametrize("keys", [b"p/a", "p/a", bytearray(b"p/a")], ids=repr)
def test_assert_range_refuses_a_single_key_for_keys(keys: Any) -> None:
    with pytest.raises(TypeError, match="iterable of keys"):
        AssertRange(b"p/", keys)


def test_assert_range_refuses_bad_keys_and_prefix() -> None:
    with pytest.raises(TypeError, match="AssertRange key"):
        AssertRange(b"p/", [b"p/a", 3])
    with pytest.raises(TypeError, match="AssertRange prefix"):
        AssertRange(None, [])  # type: ignore[arg-type]


def test_assert_range_decoded_keeps_the_order_the_server_would_compare() -> None:
    # Keys ascending on the wire (what pyrakoon sends when given ascending keys):
    # the server reads them reversed, descending, and the assertion fails
    # (D2). The decoded step keeps that order instead of re-sorting it.
    wrong = u32(17) + s(b"p/") + u32(1) + u32(2) + s(b"p/a") + s(b"p/b")
    step = decode(STEP.receive(), wrong)
    assert isinstance(step, AssertRange)
    assert step.keys == (b"p/b", b"p/a")
    assert step != AssertRange(b"p/", [b"p/a", b"p/b"])


def test_unknown_range_assertion_kind_is_a_protocol_violation() -> None:
    wire = u32(17) + s(b"p/") + u32(2) + u32(0)
    with pytest.raises(ProtocolViolation, match="kind 2"):
        decode(STEP.receive(), wire)


# -- what sequence() sends ---------------------------------------------------------------------


def _payload(steps: Any) -> bytes:
    wire = messages.SEQUENCE(steps).serialize()[4:]
    return wire[4:]


def test_list_of_steps_is_wrapped_in_a_sequence() -> None:
    assert _payload([Set(b"a", b"1")]) == Sequence([Set(b"a", b"1")]).encode()


def test_list_holding_one_sequence_sends_that_sequence_unwrapped() -> None:
    inner = Sequence([Set(b"a", b"1"), Delete(b"b")])
    assert _payload([inner]) == inner.encode()


def test_a_sequence_is_sent_as_it_is() -> None:
    inner = Sequence([Set(b"a", b"1")])
    assert _payload(inner) == inner.encode()


def test_a_sequence_beside_other_steps_is_nested() -> None:
    inner = Sequence([Delete(b"b")])
    assert _payload([inner, Set(b"a", b"1")]) == Sequence([inner, Set(b"a", b"1")]).encode()


def test_nested_sequence_inside_a_one_element_list_of_a_sequence() -> None:
    nested = Sequence([Sequence([Set(b"a", b"1")])])
    assert _payload([nested]) == nested.encode()


def test_any_iterable_of_steps_is_accepted() -> None:
    steps = (step for step in [Set(b"a", b"1"), Delete(b"b")])
    assert _payload(steps) == Sequence([Set(b"a", b"1"), Delete(b"b")]).encode()


@pytest.mark.parametrize(
    "steps",
    [Set(b"k", b"v"), b"steps", "steps", 5, None, [Set(b"k", b"v"), "x"]],
    ids=repr,
)
def test_sequence_refuses_what_is_not_a_list_of_steps(steps: Any) -> None:
    with pytest.raises(TypeError):
        messages.SEQUENCE(steps)


def test_sequence_step_refuses_a_single_step_and_non_steps() -> None:
    with pytest.raises(TypeError, match="not a single step"):
        Sequence(Set(b"k", b"v"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Step instances"):
        Sequence([b"k"])  # type: ignore[list-item]


# -- step values --------------------------------------------------------------------------------


def test_steps_accept_str_as_utf8_and_bytes_like_values() -> None:
    assert Set("\u00e9", bytearray(b"v")) == Set("\u00e9".encode(), b"v")
    assert Replace(memoryview(b"k"), "w") == Replace(b"k", b"w")
    assert DeletePrefix("p") == DeletePrefix(b"p")
    assert Assert("k", None).value is None


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Set(b"k", None), "Set value"),
        (lambda: Set(1, b"v"), "Set key"),
        (lambda: Delete(None), "Delete key"),
        (lambda: Assert(b"k", 5), "Assert value"),
        (lambda: AssertExists(1.0), "AssertExists key"),
        (lambda: Replace(b"k", 5), "Replace value"),
        (lambda: DeletePrefix(None), "DeletePrefix prefix"),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_bad_step_values_are_type_errors_naming_the_field(build: Any, field: str) -> None:
    with pytest.raises(TypeError, match=field):
        build()


def test_steps_are_immutable_and_compare_by_value() -> None:
    step = Set(b"k", b"v")
    with pytest.raises(AttributeError):
        step.key = b"x"  # type: ignore[misc]
    assert step == Set("k", "v")
    assert hash(step) == hash(Set(b"k", b"v"))


def test_set_step_value_is_not_limited_to_8_mib() -> None:
    big = b"x" * messages.MAX_VALUE_SIZE
    assert Set(b"k", big).value == big


# -- steps that are not offered -----------------------------------------------------------------


def test_only_the_safe_client_steps_exist() -> None:
    assert set(sequence.__all__) == {
        "Assert",
        "AssertExists",
        "AssertRange",
        "Delete",
        "DeletePrefix",
        "Replace",
        "Sequence",
        "Set",
        "Step",
    }
    for name in ("UserFunction", "AdminSet", "TestAndSet", "MasterSet", "Nop", "SyncedSequence"):
        assert not hasattr(sequence, name), name


def test_offered_step_tags() -> None:
    tags = {cls.__name__: cls.TAG for cls in (Set, Delete, Sequence, Assert)}
    tags.update({cls.__name__: cls.TAG for cls in (DeletePrefix, AssertExists, Replace)})
    tags["AssertRange"] = AssertRange.TAG
    assert tags == {
        "Set": 1,
        "Delete": 2,
        "Sequence": 5,
        "Assert": 8,
        "DeletePrefix": 14,
        "AssertExists": 15,
        "Replace": 16,
        "AssertRange": 17,
    }


@pytest.mark.parametrize("tag", [0, 3, 4, 6, 7, 9, 10, 11, 12, 13, 18, 2**32 - 1])
def test_decoding_a_step_that_is_not_offered_is_a_protocol_violation(tag: int) -> None:
    with pytest.raises(ProtocolViolation, match="not a client sequence step"):
        decode(STEP.receive(), u32(tag) + s(b"name") + b"\x00")


def test_every_step_vector_is_encoding_reference_only() -> None:
    vector = next(v for v in vectors.ALL if v["id"] == "req_sequence_every_step")
    kinds = {spec["step"] for spec in vector["args"]["steps"][0]["steps"]}
    assert {"UserFunction", "AdminSet", "TestAndSet"} <= kinds
    with pytest.raises(ValueError, match=r"no (UserFunction|AdminSet|TestAndSet) step"):
        vectors.message_for(vector)


# -- decoding --------------------------------------------------------------------------------------

_keys = st.binary(max_size=6)
_values = st.binary(max_size=12)
_leaf_steps: st.SearchStrategy[Step] = st.one_of(
    st.builds(Set, _keys, _values),
    st.builds(Delete, _keys),
    st.builds(Assert, _keys, st.none() | _values),
    st.builds(AssertExists, _keys),
    st.builds(Replace, _keys, st.none() | _values),
    st.builds(DeletePrefix, _keys),
    st.builds(AssertRange, _keys, st.lists(_keys, max_size=4)),
)
steps: st.SearchStrategy[Step] = st.recursive(
    _leaf_steps,
    lambda children: st.lists(children, max_size=4).map(Sequence),
    max_leaves=12,
)


@given(steps)
def test_decode_of_an_encoded_step_is_the_step(step: Step) -> None:
    assert decode(STEP.receive(), step.encode()) == step


@given(steps)
def test_encode_of_a_decoded_step_is_the_wire_bytes(step: Step) -> None:
    wire = step.encode()
    assert decode(STEP.receive(), wire).encode() == wire


@given(st.lists(steps, max_size=4))
def test_sequence_payload_round_trips(step_list: list[Step]) -> None:
    payload = SEQUENCE_PAYLOAD.check(step_list)
    wire = SEQUENCE_PAYLOAD.encode(payload)
    decoded = decode(SEQUENCE_PAYLOAD.receive(), wire)
    assert decoded == payload
    assert SEQUENCE_PAYLOAD.encode(decoded) == wire


def test_sequence_payload_that_is_not_a_sequence_is_a_protocol_violation() -> None:
    with pytest.raises(ProtocolViolation, match="should have been a sequence"):
        decode(SEQUENCE_PAYLOAD.receive(), s(Set(b"k", b"v").encode()))


def test_sequence_payload_with_bytes_left_over_is_a_protocol_violation() -> None:
    with pytest.raises(ProtocolViolation, match="left over"):
        decode(SEQUENCE_PAYLOAD.receive(), s(Sequence([]).encode() + b"\x00"))


def test_step_count_over_the_limit_is_a_protocol_violation() -> None:
    receiver = STEP.receive(10)
    next(receiver)
    receiver.send(u32(5))
    with pytest.raises(ProtocolViolation, match="step count 11"):
        receiver.send(u32(11))


@pytest.mark.parametrize("vector_id", ["req_sequence_seed_steps", "req_synced_sequence"])
def test_sequence_vectors_decode_to_their_steps(vector_id: str) -> None:
    vector = next(v for v in vectors.ALL if v["id"] == vector_id)
    wire = bytes.fromhex(vector["request_hex"])[4:]
    decoded = decode(SEQUENCE_PAYLOAD.receive(), wire)
    assert decoded == Sequence([vectors.step(spec) for spec in vector["args"]["steps"]])
