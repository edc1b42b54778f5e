"""Backpressure and limits under stress.

* A slow reader: the transport's write buffer fills and pauses the protocol;
  thousands of requests then wait unsent, in order, holding no more memory than
  what the caller queued, and go out as the reader catches up.
* ``max_in_flight`` bounds what is written and unanswered, however many
  requests wait.
* A huge length or count prefix from the server is a
  :class:`~txarakoon.errors.ProtocolViolation` (above ``max_reply_length``) or
  a wait for bytes that never come (up to it), never an allocation of that
  size: :mod:`tracemalloc`'s peak stays small.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from txarakoon.codec import DEFAULT_MAX_REPLY_LENGTH, STRING, UINT32
from txarakoon.consistency import Consistent
from txarakoon.errors import ConnectionLost, ProtocolViolation
from txarakoon.messages import SET, encode_success
from txarakoon.protocol import ArakoonProtocol

from ..helpers.protocol import CLUSTER_ID, outcome

KiB = 1 << 10
MiB = 1 << 20
OK = b"\x00\x00\x00\x00"


class SlowReader(StringTransport):
    """A transport whose reader is slow: it pauses its producer once more than
    ``high`` bytes wait in its buffer, as a TCP transport does, and resumes it
    when :meth:`read` takes them."""

    def __init__(self, high: int) -> None:
        super().__init__()
        self.high = high
        self.waiting = 0
        self.most = 0

    def write(self, data: bytes) -> None:
        super().write(data)
        self.waiting += len(data)
        self.most = max(self.most, self.waiting)
        if self.waiting > self.high and self.producer is not None:
            self.producer.pauseProducing()

    def read(self) -> bytes:
        data: bytes = self.value()
        self.clear()
        self.waiting = 0
        if self.producer is not None:
            self.producer.resumeProducing()
        return data


def test_a_slow_reader_keeps_requests_unsent_without_growing_beyond_them() -> None:
    protocol = ArakoonProtocol(CLUSTER_ID, max_in_flight=None)
    transport = SlowReader(high=64 * KiB)
    protocol.makeConnection(transport)
    transport.read()
    value = b"v" * KiB
    frame = SET(b"key", value).serialize()
    total = 5_000

    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        deferreds = [protocol.set(b"key", value) for _ in range(total)]
        queued = tracemalloc.get_traced_memory()[0] - start
        unsent = protocol.pending - len(transport.value()) // len(frame)
        # The reader holds at most its high-water mark and one request more.
        assert transport.most <= transport.high + len(frame)
        assert unsent > total * 9 // 10
        # What waits costs what the caller queued: its bytes and a little
        # bookkeeping per request, nothing that grows otherwise.
        assert queued < total * (len(frame) + KiB)

        # Replies to what was written arrive; the reader is still slow, so
        # nothing more is written and nothing grows.
        written = len(transport.value()) // len(frame)
        protocol.dataReceived(OK * written)
        assert tracemalloc.get_traced_memory()[0] - start < queued + 64 * KiB
        assert protocol.pending == total - written

        # The reader catches up: everything goes out, in order, and is answered.
        sent = written
        transport.read()
        while protocol.pending:
            batch = len(transport.value()) // len(frame)
            sent += batch
            protocol.dataReceived(OK * batch)
            transport.read()
    finally:
        tracemalloc.stop()
    assert sent == total
    assert all(outcome(deferred) == ("value", None) for deferred in deferreds)
    assert transport.most <= transport.high + len(frame)


def test_the_in_flight_limit_bounds_what_is_written_under_stress() -> None:
    protocol = ArakoonProtocol(CLUSTER_ID, max_in_flight=64)
    transport = StringTransport()
    protocol.makeConnection(transport)
    transport.clear()
    frame = SET(b"key", b"value").serialize()
    deferreds = [protocol.set(b"key", b"value") for _ in range(10_000)]
    answered = 0
    while protocol.pending:
        written = len(transport.value()) // len(frame)
        assert 0 < written <= 64
        transport.clear()
        # Replies trickle in a few at a time: each frees one slot.
        for _ in range(written):
            protocol.dataReceived(OK)
            answered += 1
            assert len(transport.value()) // len(frame) <= 64
    assert answered == 10_000
    assert all(outcome(deferred) == ("value", None) for deferred in deferreds)


def _peak_while(protocol: ArakoonProtocol, data: list[bytes]) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        for chunk in data:
            protocol.dataReceived(chunk)
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()


def _connected() -> ArakoonProtocol:
    protocol = ArakoonProtocol(CLUSTER_ID)
    protocol.makeConnection(StringTransport())
    return protocol


HUGE = 0xFFFFFFFF
AT_LIMIT = DEFAULT_MAX_REPLY_LENGTH

#: (what, request, reply bytes announcing a huge length or count)
PREFIXES: list[tuple[str, Any, bytes]] = [
    ("string length", lambda p: p.get(b"k"), OK + UINT32.encode(HUGE)),
    ("element count", lambda p: p.range_entries(None, True, None, True), OK + UINT32.encode(HUGE)),
    ("key count", lambda p: p.prefix(b""), OK + UINT32.encode(HUGE)),
    ("option array", lambda p: p.multi_get_option([b"k"]), OK + UINT32.encode(HUGE)),
    ("statistics payload", lambda p: p.statistics(), OK + UINT32.encode(HUGE)),
    ("collapse frames", lambda p: p.collapse_tlogs(1), OK + UINT32.encode(0x7FFFFFFF)),
    ("error message", lambda p: p.get(b"k"), UINT32.encode(5) + UINT32.encode(HUGE)),
    ("version string", lambda p: p.version(), OK + b"\x01" * 12 + UINT32.encode(HUGE)),
]


def test_a_huge_prefix_is_a_violation_not_an_allocation() -> None:
    for what, send, reply in PREFIXES:
        protocol = _connected()
        deferred = send(protocol)
        peak = _peak_while(protocol, [reply])
        assert outcome(deferred)[:2] == ("error", ProtocolViolation), what
        assert peak < 64 * KiB, (what, peak)


def test_a_prefix_at_the_limit_waits_for_bytes_without_allocating_them() -> None:
    # Allowed, so the protocol waits for the bytes: it holds what arrives,
    # never what was announced.
    for what, send, reply in PREFIXES:
        if what in ("collapse frames", "version string"):
            continue
        protocol = _connected()
        deferred = send(protocol)
        announced = reply[:-4] + UINT32.encode(AT_LIMIT)
        some = [announced, *[b"\x01" * (64 * KiB)] * 8]  # 512 KiB of the 64 MiB
        peak = _peak_while(protocol, some)
        assert not deferred.called, what
        assert peak < 2 * MiB, (what, peak)
        protocol.connectionLost(Failure(ConnectionDone()))
        assert outcome(deferred)[:2] == ("error", ConnectionLost), what


def test_a_long_value_arriving_slowly_is_buffered_once() -> None:
    # 8 MiB in 64 KiB pieces: linear buffering, each byte copied a bounded
    # number of times, so the peak is a small multiple of the value.
    protocol = _connected()
    deferred = protocol.get(b"k")
    reply = encode_success(STRING, b"x" * 8 * MiB)
    peak = _peak_while(protocol, [reply[i : i + 64 * KiB] for i in range(0, len(reply), 64 * KiB)])
    assert outcome(deferred) == ("value", b"x" * 8 * MiB)
    assert peak < 3 * 8 * MiB


def test_requests_held_by_a_slow_reader_are_not_processed_if_the_connection_goes() -> None:
    protocol = ArakoonProtocol(CLUSTER_ID, max_in_flight=None)
    transport = SlowReader(high=4 * KiB)
    protocol.makeConnection(transport)
    deferreds = [protocol.get(b"k", consistency=Consistent) for _ in range(2_000)]
    written = protocol.in_flight
    protocol.connectionLost(Failure(ConnectionDone()))
    results = [outcome(deferred)[1] for deferred in deferreds]
    assert results == [ConnectionLost] * written + [results[-1]] * (2_000 - written)
    assert results[-1].__name__ == "RequestNotProcessed"


def test_a_large_value_cut_short_by_silence_leaves_nothing_behind() -> None:
    clock = Clock()
    protocol = ArakoonProtocol(CLUSTER_ID, silence_timeout=5.0, clock=clock)
    transport = StringTransport()
    protocol.makeConnection(transport)
    deferred = protocol.get(b"k")
    reply = encode_success(STRING, b"x" * 4 * MiB)
    for start in range(0, 2 * MiB, 64 * KiB):
        protocol.dataReceived(reply[start : start + 64 * KiB])
        clock.advance(1.0)  # slow, but never silent for 5 s
    assert not deferred.called
    clock.advance(5.0)
    assert outcome(deferred)[:2] == ("error", ConnectionLost)
    assert transport.disconnected  # aborted
    assert protocol.pending == 0
    assert len(protocol.reader) == 0
    assert clock.getDelayedCalls() == []


def test_a_cancelled_large_value_is_read_and_dropped_keeping_later_replies_matched() -> None:
    protocol = _connected()
    big = protocol.get(b"big")
    small = protocol.get(b"small")
    stream = encode_success(STRING, b"x" * MiB) + encode_success(STRING, b"small")
    protocol.dataReceived(stream[: 300 * KiB])
    big.cancel()
    for start in range(300 * KiB, len(stream), 64 * KiB):
        protocol.dataReceived(stream[start : start + 64 * KiB])
    assert outcome(big)[:2] == ("error", CancelledError)
    assert outcome(small) == ("value", b"small")
    assert protocol.pending == 0
