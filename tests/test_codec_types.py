"""The wire types of :mod:`txarakoon.codec` (and the composite payloads of
:mod:`txarakoon.messages`): round trips in both directions, ``check()``
normalisation and rejections, the ``max_reply_length`` bound, collection
orders, consistency tags, statistics and the collapse stream."""

from __future__ import annotations

import math
import struct
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from txarakoon import messages
from txarakoon.codec import (
    BOOL,
    CONSISTENCY,
    DEFAULT_MAX_REPLY_LENGTH,
    FLOAT,
    INT32,
    INT64,
    STRING,
    UINT32,
    UINT64,
    UNIT,
    Array,
    Option,
    Product,
    Receiver,
    RequestList,
    ResponseList,
    String,
    decode,
)
from txarakoon.consistency import AtLeast, Consistency, Consistent, NoGuarantees
from txarakoon.errors import NotFound, ProtocolViolation, UnknownFailure
from txarakoon.messages import COLLAPSE_STREAM, STATISTICS, Int64

from .helpers import vectors
from .helpers.values import (
    ROUND_TRIPS,
    binary,
    statistics_trees,
    text,
)


def u32(number: int) -> bytes:
    return struct.pack("<I", number)


def i32(number: int) -> bytes:
    return struct.pack("<i", number)


def wire_string(data: bytes) -> bytes:
    return u32(len(data)) + data


def strict_decode(receiver: Receiver[Any], data: bytes) -> Any:
    """Like :func:`decode`, also checking that the coroutine never asks for 0
    bytes (a reader must not wait for nothing) and takes exactly ``data``."""
    offset = 0
    try:
        wanted = next(receiver)
        while True:
            assert wanted > 0, "a receive coroutine asked for 0 bytes"
            assert offset + wanted <= len(data), "asked for more bytes than the value has"
            chunk, offset = data[offset : offset + wanted], offset + wanted
            wanted = receiver.send(chunk)
    except StopIteration as done:
        assert offset == len(data), "bytes left over"
        return done.value


# One property runs every type: pytest-twisted (1.14) re-wraps hypothesis'
# inner test for each parametrized item, so @given cannot be combined with
# @pytest.mark.parametrize in this suite.


@given(data=st.data())
def test_decode_of_encode_is_the_value(data: st.DataObject) -> None:
    for name, kind, values in ROUND_TRIPS:
        value = data.draw(values, label=name)
        assert kind.check(value) == value, name
        assert strict_decode(kind.receive(), kind.encode(value)) == value, name


@given(data=st.data())
def test_encode_of_decode_is_the_wire_bytes(data: st.DataObject) -> None:
    for name, kind, values in ROUND_TRIPS:
        # Valid wire bytes, built as the server would: the encoding of some value.
        wire = kind.encode(data.draw(values, label=name))
        assert kind.encode(strict_decode(kind.receive(), wire)) == wire, name


@given(st.binary(min_size=4, max_size=4))
def test_every_4_bytes_are_a_uint32_and_an_int32(wire: bytes) -> None:
    assert UINT32.encode(decode(UINT32.receive(), wire)) == wire
    assert INT32.encode(decode(INT32.receive(), wire)) == wire


@given(st.binary(min_size=8, max_size=8))
def test_every_8_bytes_are_a_uint64_and_an_int64(wire: bytes) -> None:
    assert UINT64.encode(decode(UINT64.receive(), wire)) == wire
    assert INT64.encode(decode(INT64.receive(), wire)) == wire


@given(st.binary(max_size=200))
def test_every_length_prefixed_byte_string_round_trips(payload: bytes) -> None:
    wire = wire_string(payload)
    assert STRING.encode(strict_decode(STRING.receive(), wire)) == wire


def test_nan_round_trips_as_nan() -> None:
    assert math.isnan(decode(FLOAT.receive(), FLOAT.encode(math.nan)))


def test_integers_are_little_endian() -> None:
    assert UINT32.encode(0xB1FF0008) == b"\x08\x00\xff\xb1"
    assert INT32.encode(-1) == b"\xff\xff\xff\xff"
    assert INT64.encode(1234567) == bytes.fromhex("87d6120000000000")
    assert UINT64.encode(2**64 - 1) == b"\xff" * 8


# -- zero-length strings --------------------------------------------------------


def test_empty_string_never_asks_for_zero_bytes() -> None:
    receiver = STRING.receive()
    assert next(receiver) == 4
    with pytest.raises(StopIteration) as done:
        receiver.send(u32(0))
    assert done.value.value == b""


def test_list_of_empty_strings_never_asks_for_zero_bytes() -> None:
    wire = ResponseList(STRING).encode([b"", b"", b""])
    assert strict_decode(ResponseList(STRING).receive(), wire) == [b"", b"", b""]


def test_empty_collections_never_ask_for_zero_bytes() -> None:
    for kind in (ResponseList(STRING), Array(Option(STRING)), RequestList(STRING)):
        assert strict_decode(kind.receive(), u32(0)) == []


# -- check(): normalisation -------------------------------------------------------


@given(text)
def test_str_is_checked_into_utf8_bytes(value: str) -> None:
    checked = STRING.check(value)
    assert type(checked) is bytes
    assert checked == value.encode("utf-8")


@given(binary)
def test_bytearray_and_memoryview_are_checked_into_bytes(value: bytes) -> None:
    for given_value in (bytearray(value), memoryview(value)):
        checked = STRING.check(given_value)
        assert type(checked) is bytes
        assert checked == value


def test_float_check_turns_an_int_into_a_float() -> None:
    checked = FLOAT.check(3)
    assert type(checked) is float
    assert checked == 3.0


def test_collection_check_accepts_any_iterable_and_normalises_elements() -> None:
    assert RequestList(STRING).check(iter(["a", bytearray(b"b")])) == [b"a", b"b"]
    assert RequestList(STRING).check(("x",)) == [b"x"]


def test_option_check_normalises_the_inner_value() -> None:
    assert Option(STRING).check("é") == "é".encode()
    assert Option(STRING).check(None) is None


def test_product_check_normalises_each_field() -> None:
    assert Product(STRING, INT32).check(("k", 5)) == (b"k", 5)


def test_consistency_check_accepts_the_three_kinds() -> None:
    for value in (Consistent, NoGuarantees, AtLeast(0), AtLeast(2**63 - 1)):
        assert CONSISTENCY.check(value) is value


# -- check(): rejections -----------------------------------------------------------

INTEGERS = [UINT32, INT32, UINT64, INT64]


@pytest.mark.parametrize("kind", INTEGERS, ids=repr)
@pytest.mark.parametrize("value", [True, False, 1.0, "1", b"1", None, [1]], ids=repr)
def test_integer_check_rejects_non_ints_including_bool(kind: Any, value: Any) -> None:
    with pytest.raises(TypeError, match="int"):
        kind.check(value)


@pytest.mark.parametrize("kind", INTEGERS, ids=repr)
def test_integer_check_rejects_values_just_out_of_range(kind: Any) -> None:
    assert kind.check(kind.low) == kind.low
    assert kind.check(kind.high) == kind.high
    for value in (kind.low - 1, kind.high + 1):
        with pytest.raises(ValueError, match="out of range"):
            kind.check(value)


@pytest.mark.parametrize("value", [1, 0, None, "true", b"\x01"], ids=repr)
def test_bool_check_rejects_non_bools(value: Any) -> None:
    with pytest.raises(TypeError, match="bool"):
        BOOL.check(value)


@pytest.mark.parametrize("value", [True, "1.0", None, b"\x00"], ids=repr)
def test_float_check_rejects_non_numbers_and_bool(value: Any) -> None:
    with pytest.raises(TypeError, match="float"):
        FLOAT.check(value)


def test_float_check_rejects_an_int_too_big_for_a_double_with_value_error() -> None:
    with pytest.raises(ValueError):
        FLOAT.check(10**400)


def test_unit_check_rejects_a_value() -> None:
    with pytest.raises(TypeError):
        UNIT.check(0)


@pytest.mark.parametrize("value", [1, None, 1.5, ["k"], object()], ids=repr)
def test_string_check_rejects_non_bytes(value: Any) -> None:
    with pytest.raises(TypeError, match="bytes or str"):
        STRING.check(value)


def test_string_check_rejects_oversize_values_counting_utf8_bytes() -> None:
    short = String("name", max_length=5)
    assert short.check(b"12345") == b"12345"
    with pytest.raises(ValueError, match="name of 6 bytes exceeds the limit of 5"):
        short.check(b"123456")
    with pytest.raises(ValueError, match="6 bytes"):
        short.check("ééé")  # 3 characters, 6 bytes


def test_values_of_8_mib_or_more_are_refused() -> None:
    assert len(messages.VALUE.check(b"x" * (messages.MAX_VALUE_SIZE - 1))) == 2**23 - 1
    with pytest.raises(ValueError, match="exceeds"):
        messages.VALUE.check(b"x" * messages.MAX_VALUE_SIZE)


@pytest.mark.parametrize("value", ["abc", b"abc", bytearray(b"a"), 5, None], ids=repr)
def test_collection_check_rejects_non_iterables_and_single_strings(value: Any) -> None:
    for kind in (RequestList(STRING), ResponseList(STRING), Array(Option(STRING))):
        with pytest.raises(TypeError, match="iterable"):
            kind.check(value)


def test_collection_check_rejects_a_bad_element() -> None:
    with pytest.raises(TypeError, match="bytes or str"):
        RequestList(STRING).check([b"a", 1])


@pytest.mark.parametrize("value", [[b"a", b"b"], (b"a",), (b"a", b"b", b"c"), None], ids=repr)
def test_product_check_rejects_non_tuples_and_wrong_sizes(value: Any) -> None:
    with pytest.raises(TypeError, match="tuple of 2"):
        Product(STRING, STRING).check(value)


@pytest.mark.parametrize("value", [None, True, 0, 1, "Consistent", b"\x00"], ids=repr)
def test_consistency_check_rejects_other_values(value: Any) -> None:
    with pytest.raises(TypeError, match="consistency"):
        CONSISTENCY.check(value)


def test_consistency_check_rejects_the_bare_base_class() -> None:
    with pytest.raises(TypeError):
        CONSISTENCY.check(Consistency())


# -- decode() -------------------------------------------------------------------------


def test_decode_refuses_left_over_bytes() -> None:
    with pytest.raises(ProtocolViolation, match="left over"):
        decode(STRING.receive(), wire_string(b"ab") + b"!")


def test_decode_refuses_truncated_bytes() -> None:
    with pytest.raises(ProtocolViolation, match="truncated"):
        decode(STRING.receive(), wire_string(b"ab")[:-1])


def test_invalid_bool_byte_is_a_protocol_violation() -> None:
    for byte in (b"\x02", b"\xff"):
        with pytest.raises(ProtocolViolation, match="bool"):
            decode(BOOL.receive(), byte)
        with pytest.raises(ProtocolViolation):
            decode(Option(STRING).receive(), byte)


# -- max_reply_length ---------------------------------------------------------------


def _refused_after_prefix(receiver: Receiver[Any], prefix: bytes) -> None:
    """The coroutine raises as soon as the prefix is sent, asking for nothing more."""
    wanted = next(receiver)
    sent = b""
    with pytest.raises(ProtocolViolation, match="exceeds the limit"):
        while True:
            chunk, prefix = prefix[:wanted], prefix[wanted:]
            assert len(chunk) == wanted, "asked for more than the length prefix"
            sent += chunk
            wanted = receiver.send(chunk)


def test_four_gib_string_length_is_refused_right_after_its_prefix() -> None:
    _refused_after_prefix(STRING.receive(DEFAULT_MAX_REPLY_LENGTH), b"\xff\xff\xff\xff")


def test_four_gib_element_count_is_refused_right_after_its_prefix() -> None:
    for kind in (ResponseList(STRING), Array(Option(STRING)), RequestList(STRING)):
        _refused_after_prefix(kind.receive(DEFAULT_MAX_REPLY_LENGTH), b"\xff\xff\xff\xff")


def test_refusing_a_huge_length_allocates_nothing_big() -> None:
    tracemalloc.start()
    try:
        _refused_after_prefix(STRING.receive(), b"\xff\xff\xff\xff")
        _refused_after_prefix(ResponseList(STRING).receive(), b"\xff\xff\xff\xff")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


def test_limit_applies_to_nested_strings_and_counts() -> None:
    kind = ResponseList(Product(STRING, STRING))
    inside = u32(1) + wire_string(b"k") + u32(9)
    _refused_after_prefix(kind.receive(8), inside)
    _refused_after_prefix(Option(STRING).receive(2), b"\x01" + u32(3))


def test_length_equal_to_the_limit_is_accepted() -> None:
    assert decode(STRING.receive(3), wire_string(b"abc")) == b"abc"
    assert decode(ResponseList(BOOL).receive(2), u32(2) + b"\x01\x00") == [False, True]
    with pytest.raises(ProtocolViolation):
        decode(STRING.receive(2), wire_string(b"abc"))


def test_default_limit_is_64_mib() -> None:
    assert DEFAULT_MAX_REPLY_LENGTH == 64 * 1024 * 1024


# -- collection order -------------------------------------------------------------------


def test_response_list_is_reversed_on_the_wire() -> None:
    wire = u32(3) + wire_string(b"c") + wire_string(b"b") + wire_string(b"a")
    assert ResponseList(STRING).encode([b"a", b"b", b"c"]) == wire
    assert decode(ResponseList(STRING).receive(), wire) == [b"a", b"b", b"c"]


def test_array_keeps_the_wire_order() -> None:
    wire = u32(3) + b"\x01" + wire_string(b"v1") + b"\x00" + b"\x01" + wire_string(b"v3")
    assert Array(Option(STRING)).encode([b"v1", None, b"v3"]) == wire
    assert decode(Array(Option(STRING)).receive(), wire) == [b"v1", None, b"v3"]


def test_request_list_keeps_the_callers_order() -> None:
    wire = u32(2) + wire_string(b"k1") + wire_string(b"k2")
    assert RequestList(STRING).encode([b"k1", b"k2"]) == wire
    assert decode(RequestList(STRING).receive(), wire) == [b"k1", b"k2"]


def test_option_layout() -> None:
    assert Option(STRING).encode(None) == b"\x00"
    assert Option(STRING).encode(b"") == b"\x01" + u32(0)


def test_product_is_its_fields_back_to_back() -> None:
    assert Product(STRING, INT32).encode((b"k", -1)) == wire_string(b"k") + b"\xff" * 4


# -- consistency tags -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (Consistent, "00"),
        (NoGuarantees, "01"),
        (AtLeast(0), "020000000000000000"),
        (AtLeast(1234567), "0287d6120000000000"),
        (AtLeast(2**40), "020000000000010000"),
    ],
    ids=repr,
)
def test_consistency_tags(value: Consistency, wire: str) -> None:
    assert CONSISTENCY.encode(value).hex() == wire
    assert decode(CONSISTENCY.receive(), bytes.fromhex(wire)) == value


def test_consistent_and_no_guarantees_decode_to_the_singletons() -> None:
    assert decode(CONSISTENCY.receive(), b"\x00") is Consistent
    assert decode(CONSISTENCY.receive(), b"\x01") is NoGuarantees


@pytest.mark.parametrize("tag", [3, 7, 255])
def test_unknown_consistency_tag_is_a_protocol_violation(tag: int) -> None:
    with pytest.raises(ProtocolViolation, match="consistency tag"):
        decode(CONSISTENCY.receive(), bytes([tag]))


def test_negative_at_least_on_the_wire_is_a_protocol_violation() -> None:
    with pytest.raises(ProtocolViolation, match="negative"):
        decode(CONSISTENCY.receive(), b"\x02" + INT64.encode(-1))


# -- statistics (messages.STATISTICS) --------------------------------------------------------

_STAT_INT, _STAT_INT64, _STAT_FLOAT, _STAT_STRING, _STAT_LIST = 1, 2, 3, 4, 5


def _field(kind: int, name: bytes, body: bytes) -> bytes:
    """One named field, written independently of the module under test."""
    return i32(kind) + wire_string(name) + body


def _stats_field(name: str, value: Any) -> bytes:
    raw = name.encode("utf-8")
    if isinstance(value, dict):
        body = i32(len(value)) + b"".join(_stats_field(k, v) for k, v in value.items())
        return _field(_STAT_LIST, raw, body)
    if isinstance(value, Int64):
        return _field(_STAT_INT64, raw, struct.pack("<q", value))
    if isinstance(value, int):
        return _field(_STAT_INT, raw, i32(value))
    if isinstance(value, float):
        return _field(_STAT_FLOAT, raw, struct.pack("<d", value))
    return _field(_STAT_STRING, raw, wire_string(value))


def _stats_wire(tree: dict[str, Any]) -> bytes:
    return wire_string(_stats_field("arakoon_stats", tree))


def _same_types(left: Any, right: Any) -> bool:
    if isinstance(left, dict):
        return (
            isinstance(right, dict)
            and list(left) == list(right)
            and all(_same_types(left[k], right[k]) for k in left)
        )
    return type(left) is type(right) and left == right


@given(statistics_trees)
def test_statistics_decode_of_encode_is_the_tree(tree: dict[str, Any]) -> None:
    decoded = strict_decode(STATISTICS.receive(), STATISTICS.encode(tree))
    assert _same_types(decoded, tree)


@given(statistics_trees)
def test_statistics_encode_of_decode_is_the_wire_bytes(tree: dict[str, Any]) -> None:
    wire = _stats_wire(tree)
    assert STATISTICS.encode(strict_decode(STATISTICS.receive(), wire)) == wire


def test_statistics_vector_round_trips_byte_for_byte() -> None:
    (vector,) = [v for v in vectors.ALL if v["id"] == "resp_statistics"]
    wire = bytes.fromhex(vector["response_hex"])[4:]
    decoded = decode(STATISTICS.receive(), wire)
    assert STATISTICS.encode(decoded) == wire
    assert isinstance(decoded["node_is"]["arakoon_0"], Int64)
    assert all(isinstance(name, str) for name in decoded)


def test_statistics_int64_field_stays_int64_and_big_ints_become_int64() -> None:
    wire = _stats_wire({"small64": Int64(5)})
    assert STATISTICS.encode(decode(STATISTICS.receive(), wire)) == wire
    assert STATISTICS.encode({"big": 2**40}) == _stats_wire({"big": Int64(2**40)})


def test_statistics_string_values_are_bytes_and_names_are_str() -> None:
    decoded = decode(STATISTICS.receive(), _stats_wire({"name": b"\xff\x00"}))
    assert decoded == {"name": b"\xff\x00"}


def test_statistics_root_that_is_not_a_list_is_a_protocol_violation() -> None:
    wire = wire_string(_field(_STAT_INT, b"arakoon_stats", i32(1)))
    with pytest.raises(ProtocolViolation, match="root"):
        decode(STATISTICS.receive(), wire)


def test_statistics_unknown_field_type_is_a_protocol_violation() -> None:
    wire = wire_string(_field(_STAT_LIST, b"arakoon_stats", i32(1) + _field(6, b"x", b"")))
    with pytest.raises(ProtocolViolation, match="type 6"):
        decode(STATISTICS.receive(), wire)


def test_statistics_list_count_over_the_limit_is_a_protocol_violation() -> None:
    wire = wire_string(_field(_STAT_LIST, b"arakoon_stats", i32(1000)))
    with pytest.raises(ProtocolViolation):
        decode(STATISTICS.receive(100), wire)
    negative = wire_string(_field(_STAT_LIST, b"arakoon_stats", i32(-1)))
    with pytest.raises(ProtocolViolation):
        decode(STATISTICS.receive(), negative)


def test_statistics_non_utf8_field_name_round_trips() -> None:
    wire = wire_string(_field(_STAT_LIST, b"arakoon_stats", i32(1) + _field(1, b"\xff", i32(3))))
    assert STATISTICS.encode(decode(STATISTICS.receive(), wire)) == wire


# -- collapse stream ------------------------------------------------------------------------


def _collapse_wire(values: list[int]) -> bytes:
    return i32(len(values)) + b"".join(u32(0) + struct.pack("<q", v) for v in values)


def test_collapse_stream_layout() -> None:
    assert COLLAPSE_STREAM.encode([1000, 2000]) == _collapse_wire([1000, 2000])


def test_collapse_progress_callback_sees_each_frame_as_it_is_decoded() -> None:
    seen: list[int] = []
    receiver = COLLAPSE_STREAM.receive_with_progress(DEFAULT_MAX_REPLY_LENGTH, seen.append)
    wire = _collapse_wire([12608, 15284, 17906])
    frames_seen_when_asked: list[int] = []
    offset = 0
    with pytest.raises(StopIteration) as done:
        wanted = next(receiver)
        while True:
            frames_seen_when_asked.append(len(seen))
            chunk, offset = wire[offset : offset + wanted], offset + wanted
            wanted = receiver.send(chunk)
    assert done.value.value == [12608, 15284, 17906]
    assert seen == [12608, 15284, 17906]
    # Each value was reported before the next frame was asked for.
    assert frames_seen_when_asked == [0, 0, 0, 1, 1, 2, 2]


def test_collapse_message_returns_the_frame_count_and_reports_progress() -> None:
    seen: list[int] = []
    message = messages.collapse_tlogs(3, seen.append)
    assert decode(message.receive(), u32(0) + _collapse_wire([5, 6])) == 2
    assert seen == [5, 6]


def test_collapse_message_error_before_the_stream_is_a_normal_error_reply() -> None:
    reply = messages.encode_error(UnknownFailure(b"4 is not acceptable"))
    with pytest.raises(UnknownFailure, match="4 is not acceptable"):
        decode(messages.collapse_tlogs(1).receive(), reply)


def test_collapse_frame_with_an_error_code_ends_the_stream_with_that_error() -> None:
    seen: list[int] = []
    wire = i32(3) + u32(0) + INT64.encode(1) + messages.encode_error(NotFound(b"gone"))
    with pytest.raises(NotFound, match="gone"):
        decode(COLLAPSE_STREAM.receive_with_progress(100, seen.append), wire)
    assert seen == [1]


@pytest.mark.parametrize("count", [-1, 101])
def test_collapse_frame_count_out_of_bounds_is_a_protocol_violation(count: int) -> None:
    with pytest.raises(ProtocolViolation):
        decode(COLLAPSE_STREAM.receive(100), i32(count))


# -- every type's default receive limit -------------------------------------------------------

RECEIVERS: list[Callable[[int], Receiver[Any]]] = [
    STRING.receive,
    ResponseList(STRING).receive,
    Array(Option(STRING)).receive,
    RequestList(STRING).receive,
]


@pytest.mark.parametrize("receive", RECEIVERS)
def test_default_limit_is_the_64_mib_default(receive: Callable[..., Receiver[Any]]) -> None:
    receiver = receive()
    next(receiver)
    with pytest.raises(ProtocolViolation, match=str(DEFAULT_MAX_REPLY_LENGTH)):
        receiver.send(u32(DEFAULT_MAX_REPLY_LENGTH + 1))
