"""The two decoding paths of every type decode exactly alike.

``decode_from`` (the fast path, for a value already whole in memory) and the
coroutine derived from it or chained by composites (the incremental path, for
a value arriving in pieces) are held to each other, and the
:class:`~txarakoon.reader.Reader` that chooses between them to both. On valid
bytes, mutated bytes, truncated bytes and any ``max_reply_length``, for every
wire type and every command's reply, success or error, and for every chunking:

* both paths return the same value, consume the same bytes, raise the same
  error (class and message) or say they need more bytes at the same point;
* except that a collection's coroutine may still be waiting where a malformed
  element is already in the bytes it has not asked for yet (it reads ahead at
  most :data:`~txarakoon.codec.READ_AHEAD` bytes), where the fast path, seeing
  them, raises at once;
* through :class:`~txarakoon.protocol.ArakoonProtocol`, pipelined replies cut
  anywhere end every request exactly as the same stream delivered whole; only
  a malformed reply may be noticed later, so that when the connection is lost
  before it is, its request fails as cut off rather than as malformed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from txarakoon.codec import (
    DEFAULT_MAX_REPLY_LENGTH,
    READ_AHEAD,
    STRING,
    Array,
    Option,
    Product,
    ResponseList,
    Type,
)
from txarakoon.errors import ArakoonError, ConnectionLost, ProtocolViolation
from txarakoon.messages import COMMANDS, STATISTICS, Message, encode_success
from txarakoon.sequence import SEQUENCE_PAYLOAD, STEP, Delete, Set

from ..helpers import vectors
from ..helpers.protocol import chunks, connect, outcome
from ..helpers.replies import send_for
from ..helpers.values import ROUND_TRIPS, statistics_trees
from .support import (
    INCOMPLETE,
    RESPONSES,
    Outcome,
    chunked,
    drive,
    fast,
    wire,
)

_steps = st.lists(
    st.builds(Set, st.binary(max_size=6), st.binary(max_size=8))
    | st.builds(Delete, st.binary(max_size=6)),
    max_size=4,
)

#: (name, type, strategy of values): every codec type, every command's result
#: type, and the request-side types the in-memory server decodes.
TYPES: list[tuple[str, Type[Any], st.SearchStrategy[Any]]] = [
    *ROUND_TRIPS,
    ("statistics", STATISTICS, statistics_trees),
    ("sequence payload", SEQUENCE_PAYLOAD, _steps.map(SEQUENCE_PAYLOAD.check)),
    ("step", STEP, st.builds(Set, st.binary(max_size=6), st.binary(max_size=8))),
]
_RESULT_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    repr(kind): values for _, kind, values in TYPES
}
#: Every command whose reply has a fast path (all but the streamed collapse).
FAST_COMMANDS = [command for command in COMMANDS.values() if not command.reply.streamed]

LIMITS = st.sampled_from([DEFAULT_MAX_REPLY_LENGTH, 0, 1, 2, 3, 4, 7, 16, 100])
WORDS = [
    b"\xff" * 4,
    b"\xff" * 8,
    b"\x00" * 4,
    b"\x01\x00\x00\x00",
    b"\x02\x00\x00\x00",
    b"\x00\x00\x00\x80",
    b"\xff\xff\xff\x7f",
    b"\x00\x00\x00\x04",
]
#: A byte to write over another: small values (flags, tags, short lengths)
#: are where decoders differ, so they come up often.
BYTES = st.sampled_from([0, 1, 2, 3, 5, 0x10, 0x7F, 0x80, 0xFF]) | st.integers(0, 255)


def canonical(value: Any) -> Any:
    """A form that compares equal exactly when the values are the same: NaN
    equals NaN, and ``Int64(1)`` differs from ``1``."""
    if isinstance(value, dict):
        return ("dict", tuple((key, canonical(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(canonical(item) for item in value))
    if isinstance(value, float):
        return ("float", struct.pack("<d", value))
    if isinstance(value, ArakoonError):
        return (type(value), value.code, value.message)
    return (type(value), value)


def same(outcome: Outcome) -> Outcome:
    if outcome[0] == "value":
        return ("value", canonical(outcome[1]), outcome[2])
    return outcome


def mutated(data: st.DataObject, encoded: bytes) -> bytes:
    """``encoded`` as it is, with bytes changed, cut short, extended, or
    replaced by arbitrary bytes."""
    mode = data.draw(st.sampled_from(["as is", "changed", "word", "cut", "extended", "arbitrary"]))
    if mode == "word" and encoded:
        # A boundary number over a length, count, code or integer field.
        position = data.draw(st.integers(0, len(encoded) - 1))
        word = data.draw(st.sampled_from(WORDS))
        return encoded[:position] + word + encoded[position + len(word) :]
    if mode == "changed" and encoded:
        changes = data.draw(
            st.lists(st.tuples(st.integers(0, len(encoded) - 1), BYTES), max_size=3)
        )
        edited = bytearray(encoded)
        for position, byte in changes:
            edited[position] = byte
        return bytes(edited)
    if mode == "cut":
        return encoded[: data.draw(st.integers(0, len(encoded)))]
    if mode == "extended":
        return encoded + data.draw(st.binary(min_size=1, max_size=8))
    if mode == "arbitrary":
        return data.draw(st.binary(max_size=40))
    return encoded


def assert_agree(fast_path: Outcome, incremental: Outcome) -> None:
    """The two paths agree, but where a collection's coroutine still waits for
    bytes that hold an error the fast path already sees (see above)."""
    if not (fast_path[0] == "error" and incremental == INCOMPLETE):
        assert same(incremental) == same(fast_path)


def cut(data: st.DataObject, encoded: bytes) -> list[bytes]:
    points = data.draw(st.lists(st.integers(0, len(encoded)), max_size=6), label="cuts")
    return list(chunks(encoded, points))


# One property per type, each shrinking on its own. (Not parametrize:
# pytest-twisted 1.14 re-wraps hypothesis' inner test for each parametrized
# item, so the two cannot be combined in this suite.)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")


def _type_property(name: str, kind: Type[Any], values: st.SearchStrategy[Any]) -> Any:
    @given(data=st.data())
    def test(data: st.DataObject) -> None:
        encoded = mutated(data, kind.encode(data.draw(values, label=name)))
        limit = data.draw(LIMITS, label="limit")
        # At an offset: the fast path reads a buffer that holds other replies.
        before = data.draw(st.binary(max_size=3), label="before")
        incremental = drive(kind.receive(limit), encoded)
        if kind.streamed:
            # Decoded as it arrives, by the coroutine alone: there is no
            # fast path to compare, only the pieces.
            assert same(chunked(kind, cut(data, encoded), limit)) == same(incremental)
            return
        fast_path = fast(kind, before + encoded, len(before), limit)
        assert_agree(fast_path, incremental)
        assert_agree(fast_path, chunked(kind, cut(data, encoded), limit))

    test.__name__ = test.__qualname__ = f"test_{_slug(name)}_decodes_alike_on_both_paths"
    return test


for _name, _kind, _values in TYPES:
    _test = _type_property(_name, _kind, _values)
    globals()[_test.__name__] = _test


def _reply(data: st.DataObject, result: Type[Any]) -> bytes:
    kind = data.draw(st.sampled_from(["success", "error", "no magic"]), label="reply")
    if kind == "success":
        return encode_success(result, data.draw(_RESULT_STRATEGIES[repr(result)], label="value"))
    if kind == "no magic":
        return b"\x01\x00\x00\x00"
    code = data.draw(st.sampled_from([2, 4, 5, 7, 0x10, 0x21, 0x26, 0x80, 0xFF, 0x1234]))
    message = data.draw(st.binary(max_size=20), label="message")
    return code.to_bytes(4, "little") + STRING.encode(message)


def _reply_property(command: Any) -> Any:
    @given(data=st.data())
    def test(data: st.DataObject) -> None:
        reply = Message(command, ()).reply
        encoded = mutated(data, _reply(data, command.result))
        limit = data.draw(LIMITS, label="limit")
        before = data.draw(st.binary(max_size=3), label="before")
        fast_path = fast(reply, before + encoded, len(before), limit)
        assert_agree(fast_path, drive(reply.receive(limit), encoded))
        assert_agree(fast_path, chunked(reply, cut(data, encoded), limit))

    test.__name__ = test.__qualname__ = f"test_{command.name}_reply_decodes_alike_on_both_paths"
    return test


for _command in FAST_COMMANDS:
    _test = _reply_property(_command)
    globals()[_test.__name__] = _test


@settings(max_examples=25)
@given(data=st.data())
def test_large_collections_decode_alike_across_the_read_ahead(data: st.DataObject) -> None:
    # Beyond READ_AHEAD the bulk coroutine asks for its elements in several
    # rounds, an element may straddle two of them, and one string may be
    # larger than a whole round.
    big = data.draw(st.integers(READ_AHEAD // 2, 2 * READ_AHEAD), label="big string")
    count = data.draw(st.integers(READ_AHEAD // 16, READ_AHEAD // 4), label="entries")
    entries = [(b"k%d" % i, b"v" * (i % 23)) for i in range(count)]
    kind = data.draw(
        st.sampled_from(
            [ResponseList(Product(STRING, STRING)), ResponseList(STRING), Array(Option(STRING))]
        ),
        label="type",
    )
    if isinstance(kind, Array):
        value: list[Any] = [None if i % 3 else b"x" * (i % 5) for i in range(count)]
        value.insert(count // 2, b"b" * big)
    elif kind.element is STRING:
        value = [key for key, _ in entries]
        value.insert(count // 2, b"b" * big)
    else:
        value = [*entries[: count // 2], (b"big", b"b" * big), *entries[count // 2 :]]
    encoded = bytearray(kind.encode(value))
    for position, byte in data.draw(
        st.lists(st.tuples(st.integers(0, len(encoded) - 1), BYTES), max_size=2),
        label="changes",
    ):
        encoded[position] = byte
    limit = data.draw(st.sampled_from([DEFAULT_MAX_REPLY_LENGTH, big - 1, count - 1]))
    wire_bytes = bytes(encoded)
    fast_path = fast(kind, wire_bytes, 0, limit)
    assert_agree(fast_path, drive(kind.receive(limit), wire_bytes))
    assert_agree(fast_path, chunked(kind, cut(data, wire_bytes), limit))


@dataclass
class Run:
    """Everything observable of a connection fed a stream in chunks, then lost."""

    #: How each request ended, in request order.
    results: list[tuple[Any, ...]]
    #: After each chunk: which requests had ended, in the order they did, and
    #: the progress reported so far.
    fed: list[tuple[list[int], list[int]]]
    progress: list[int]
    #: (connected, closing, aborted) before the loss.
    state: tuple[bool, bool, bool]
    pending: int

    def violations(self) -> list[int]:
        return [i for i, result in enumerate(self.results) if result[1] is ProtocolViolation]


def _run(group: list[dict[str, Any]], stream: bytes, cuts: list[int], limit: int) -> Run:
    protocol, transport = connect(max_reply_length=limit)
    progress: list[int] = []
    results: dict[int, tuple[Any, ...]] = {}
    order: list[int] = []

    def record(result: Any, index: int) -> None:
        error = getattr(result, "value", None)
        if isinstance(error, BaseException):
            results[index] = ("error", type(error), str(error))
        else:
            results[index] = ("value", canonical(result))
        order.append(index)

    for index, vector in enumerate(group):
        send_for(protocol, vector, progress).addBoth(record, index)
    fed = []
    for chunk in chunks(stream, cuts):
        protocol.dataReceived(chunk)
        fed.append((list(order), list(progress)))
    state = (protocol.connected, transport.disconnecting, transport.disconnected)
    protocol.connectionLost()
    return Run([results[i] for i in range(len(group))], fed, progress, state, protocol.pending)


@given(data=st.data())
def test_pipelined_replies_in_any_chunks_end_alike_cut_or_whole(data: st.DataObject) -> None:
    group = data.draw(st.lists(st.sampled_from(RESPONSES), min_size=1, max_size=6), label="group")
    stream = mutated(data, b"".join(wire(vector) for vector in group))
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12), label="cuts")
    limit = data.draw(LIMITS, label="limit")
    # Whole, every reply is read by the fast path; cut, many by the coroutine.
    whole = _run(group, stream, [], limit)
    run = _run(group, stream, cuts, limit)
    assert run.pending == whole.pending == 0
    # Requests end in the order they were sent, whatever the pieces.
    assert all(order == sorted(order) for order, _ in run.fed)
    if not (run.violations() or whole.violations()):
        assert run.results == whole.results
        assert (run.progress, run.state) == (whole.progress, whole.state)
        return
    # A malformed reply. Reading a collection ahead, the coroutine may notice
    # it only once more bytes are there, where the fast path (reading a reply
    # already in the buffer) notices it at once: the connection may be lost
    # in between. Then the request fails as cut off (ConnectionLost) instead
    # of as malformed. Otherwise every request ends alike: same values, same
    # error classes (the connection errors of the others name a different
    # cause).
    assert len(whole.violations()) == 1
    (head,) = whole.violations()
    if run.violations() != [head]:
        assert run.violations() == []
        assert run.results[head][1] is ConnectionLost
        run.results[head] = whole.results[head]
    assert [result[:2] for result in run.results] == [result[:2] for result in whole.results]
    assert [result for result in run.results if result[0] == "value"] == [
        result for result in whole.results if result[0] == "value"
    ]
    assert run.progress == whole.progress


def _every_damage(encoded: bytes) -> list[bytes]:
    """``encoded`` with each byte replaced by each of a few values, each
    boundary word written at each position, and cut at each length."""
    variants = [encoded[:end] for end in range(len(encoded))]
    for position in range(len(encoded)):
        for byte in (0, 1, 2, 0x80, 0xFF):
            variants.append(encoded[:position] + bytes((byte,)) + encoded[position + 1 :])
        for word in WORDS:
            variants.append(encoded[:position] + word + encoded[position + len(word) :])
    return variants


def test_every_small_damage_to_every_response_vector_decodes_alike() -> None:
    # Deterministic, where the properties above sample: every response vector
    # (but the 2.4 KB statistics one) under every one-byte change, boundary
    # word and truncation, through its own command's reply decoders.
    checked = 0
    for vector in RESPONSES:
        if vector["command"] in ("statistics", "collapse_tlogs"):
            continue
        reply = Message(vectors.response_command(vector), ()).reply
        for encoded in _every_damage(wire(vector)):
            assert_agree(
                fast(reply, encoded, 0, DEFAULT_MAX_REPLY_LENGTH),
                drive(reply.receive(), encoded),
            )
            checked += 1
    assert checked > 10_000


@settings(max_examples=40)
@given(data=st.data())
def test_large_values_arriving_in_any_pieces_reach_their_callers(data: st.DataObject) -> None:
    # Values large enough that the reader gathers their pieces and joins
    # them once, mixed with small replies, cut anywhere, and the connection
    # possibly lost part way.
    sizes = data.draw(
        st.lists(st.integers(0, 3 * READ_AHEAD) | st.integers(0, 64), min_size=1, max_size=4),
        label="value sizes",
    )
    values = [bytes([65 + i]) * size for i, size in enumerate(sizes)]
    as_list = data.draw(st.booleans(), label="also as one multi_get")
    replies = [encode_success(STRING, value) for value in values]
    if as_list:
        replies.append(encode_success(ResponseList(STRING), values))
    stream = b"".join(replies)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=24), label="cuts")
    lost_at = data.draw(st.none() | st.integers(0, len(stream)), label="lost after")
    protocol, _ = connect()
    deferreds = [protocol.get(b"k") for _ in values]
    if as_list:
        deferreds.append(protocol.multi_get([b"k"] * len(values)))
    delivered = stream if lost_at is None else stream[:lost_at]
    for chunk in chunks(delivered, cuts):
        protocol.dataReceived(chunk)
    protocol.connectionLost()
    end = 0
    for index, (deferred, reply) in enumerate(zip(deferreds, replies, strict=True)):
        end += len(reply)
        if end <= len(delivered):
            expected = ("value", values if index == len(values) else values[index])
            assert outcome(deferred) == expected, index
        else:
            assert outcome(deferred)[:2] == ("error", ConnectionLost), index
    assert protocol.pending == 0
    assert len(protocol.reader) == 0
