"""The sans-IO reader: bytes in, values out, at a cost linear in the bytes."""

from __future__ import annotations

import struct
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from txarakoon.codec import STRING, UINT32, UNIT, Product, Receiver, ResponseList, Type
from txarakoon.errors import NotFound, ProtocolViolation
from txarakoon.messages import GET, RANGE_ENTRIES, encode_error, encode_success
from txarakoon.reader import NEED_DATA, Reader, decode

KiB = 1024
MiB = 1024 * KiB
ENTRIES = ResponseList(Product(STRING, STRING))


class Counting:
    """A decoder that counts the work done for it: calls of its fast path,
    resumptions of its coroutine, and the bytes either was handed."""

    def __init__(self, inner: Type[Any]) -> None:
        self.inner = inner
        self.min_size = inner.min_size
        self.streamed = inner.streamed
        self.attempts = 0
        self.examined = 0

    def decode_from(self, buffer: bytes, offset: int, limit: int) -> tuple[Any, int]:
        self.attempts += 1
        self.examined += len(buffer) - offset
        return self.inner.decode_from(buffer, offset, limit)

    def receive(self, limit: int) -> Receiver[Any]:
        receiver = self.inner.receive(limit)
        wanted = next(receiver)
        while True:
            data = yield wanted
            self.attempts += 1
            self.examined += len(data)
            try:
                wanted = receiver.send(data)
            except StopIteration as done:
                return done.value


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def read_in_pieces(decoder: Any, data: bytes, size: int) -> Any:
    reader = Reader()
    value: Any = NEED_DATA
    for piece in pieces(data, size):
        assert value is NEED_DATA, "the value ended before its last byte"
        reader.feed(piece)
        value = reader.read(decoder)
    assert len(reader) == 0
    return value


def test_a_value_fed_whole_is_read_at_once() -> None:
    reader = Reader()
    reader.feed(STRING.encode(b"hello"))
    assert reader.read(STRING) == b"hello"
    assert len(reader) == 0


def test_a_value_fed_in_pieces_is_read_once_its_last_byte_is_there() -> None:
    wire = STRING.encode(b"hello")
    reader = Reader()
    for byte in wire[:-1]:
        reader.feed(bytes([byte]))
        assert reader.read(STRING) is NEED_DATA
    reader.feed(wire[-1:])
    assert reader.read(STRING) == b"hello"
    assert not reader.reading


def test_values_fed_together_are_read_one_by_one() -> None:
    reader = Reader()
    reader.feed(UINT32.encode(7) + STRING.encode(b"ab") + UINT32.encode(9)[:2])
    assert reader.read(UINT32) == 7
    assert reader.read(STRING) == b"ab"
    assert reader.read(UINT32) is NEED_DATA
    assert len(reader) == 2
    reader.feed(UINT32.encode(9)[2:])
    assert reader.read(UINT32) == 9


def test_an_empty_reader_does_not_start_a_value_so_it_can_still_come_whole() -> None:
    counting = Counting(STRING)
    reader = Reader()
    assert reader.read(counting) is NEED_DATA
    assert not reader.reading
    reader.feed(STRING.encode(b"whole"))
    assert reader.read(counting) == b"whole"
    assert counting.attempts == 1  # one fast path call, no coroutine


def test_a_value_of_no_bytes_is_read_from_an_empty_reader() -> None:
    assert Reader().read(UNIT) is None
    assert Reader().read(Product()) == ()


def test_a_reply_decodes_to_its_error_and_consumes_it() -> None:
    reader = Reader()
    reader.feed(encode_error(NotFound(b"k")) + encode_success(STRING, b"v"))
    error = reader.read(GET.reply)
    assert isinstance(error, NotFound) and error.message == b"k"
    assert reader.read(GET.reply) == b"v"


def test_a_malformed_value_raises_and_ends_the_value() -> None:
    reader = Reader(limit=3)
    reader.feed(STRING.encode(b"abcd"))
    with pytest.raises(ProtocolViolation, match="exceeds the limit of 3"):
        reader.read(STRING)
    assert not reader.reading


def test_clear_drops_unread_bytes_and_the_value_in_progress() -> None:
    reader = Reader()
    reader.feed(STRING.encode(b"abcdef")[:6])
    assert reader.read(STRING) is NEED_DATA
    reader.clear()
    assert len(reader) == 0 and not reader.reading
    reader.feed(STRING.encode(b"x"))
    assert reader.read(STRING) == b"x"


def test_a_reader_that_read_everything_holds_no_bytes() -> None:
    tracemalloc.start()
    try:
        reader = Reader()
        reader.feed(STRING.encode(b"y" * 8 * MiB))  # the reader's reference only
        value = reader.read(STRING)
        assert len(value) == 8 * MiB
        del value
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < MiB


def test_a_large_value_in_small_pieces_is_decoded_with_constant_work() -> None:
    counted = []
    for size in (8 * MiB, 32 * MiB):
        counting = Counting(STRING)
        value = read_in_pieces(counting, STRING.encode(b"v" * size), KiB)
        assert len(value) == size
        # One fast path try on the first piece, then the length, then the
        # bytes, handed over once.
        assert counting.attempts == 3
        assert counting.examined <= size + 2 * KiB
        counted.append(counting.attempts)
    assert counted[0] == counted[1]


def _entries_reply(count: int) -> bytes:
    return ENTRIES.encode([(b"key%07d" % i, b"value") for i in range(count)])


def test_a_long_list_in_small_pieces_is_decoded_with_linear_work() -> None:
    results = []
    for count in (250_000, 1_000_000):
        wire = _entries_reply(count)
        counting = Counting(ENTRIES)
        value = read_in_pieces(counting, wire, KiB)
        assert len(value) == count and value[-1] == (b"key%07d" % (count - 1), b"value")
        # Every byte is handed to the decoder once, plus the first piece
        # tried on the fast path and the elements cut between two reads.
        assert counting.examined <= len(wire) * 1.01 + KiB
        results.append((len(wire), counting.attempts))
    (small, small_attempts), (large, large_attempts) = results
    assert large_attempts <= small_attempts * (large / small) * 1.1


def test_range_entries_replies_are_read_alike_in_any_piece_size() -> None:
    wire = encode_success(RANGE_ENTRIES.result, [(b"k%d" % i, b"v" * (i % 7)) for i in range(500)])
    whole = Reader()
    whole.feed(wire)
    expected = whole.read(RANGE_ENTRIES.reply)
    for size in (1, 3, 4, 5, 64, 1000):
        assert read_in_pieces(RANGE_ENTRIES.reply, wire, size) == expected


def test_decode_runs_a_coroutine_over_bytes_in_memory() -> None:
    assert decode(STRING.receive(), STRING.encode(b"abc")) == b"abc"
    with pytest.raises(ProtocolViolation, match="truncated: needed 7 bytes, have 6"):
        decode(STRING.receive(), STRING.encode(b"abc")[:-1])
    with pytest.raises(ProtocolViolation, match="1 bytes left over"):
        decode(STRING.receive(), STRING.encode(b"abc") + b"!")


def test_start_refuses_a_second_value_while_one_is_read() -> None:
    reader = Reader()
    reader.feed(struct.pack("<I", 5))
    assert reader.read(STRING) is NEED_DATA
    with pytest.raises(RuntimeError, match="already being read"):
        reader.start(STRING.receive())


def test_feeding_says_when_a_value_in_progress_can_move_on() -> None:
    reader = Reader()
    wire = STRING.encode(b"x" * 100)
    assert reader.feed(wire[:10]) is True  # nothing in progress: worth a read
    assert reader.read(STRING) is NEED_DATA
    assert reader.feed(wire[10:50]) is False  # still short of the 100 bytes
    assert reader.feed(wire[50:]) is True
    assert reader.read(STRING) == b"x" * 100
