"""Response fuzzing: whatever a broken or hostile server sends, the protocol
keeps its promises.

Byte streams, either arbitrary or made of response vectors that are then
damaged, reach an :class:`~txarakoon.protocol.ArakoonProtocol` with random
requests pending, in random chunks, under a random ``max_reply_length``; then
the connection is lost. Nothing may raise out of ``dataReceived``; requests
end in FIFO order; every request ends, with a value, an
:class:`~txarakoon.errors.ArakoonError`, a
:class:`~txarakoon.errors.ProtocolViolation`, or a connection error
(:class:`~txarakoon.errors.ConnectionLost`,
:class:`~txarakoon.errors.RequestNotProcessed`); a violation aborts the
connection; and nothing is left behind (pending requests, coroutine, buffer,
timers).

The main property runs 10,000 examples (``TXARAKOON_FUZZ_EXAMPLES`` sets
another number), each cheap: one protocol on a StringTransport.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.python.failure import Failure

from txarakoon.codec import DEFAULT_MAX_REPLY_LENGTH
from txarakoon.errors import (
    ArakoonError,
    ConnectionLost,
    ProtocolViolation,
    RequestNotProcessed,
)
from txarakoon.protocol import ArakoonProtocol

from ..helpers import vectors
from ..helpers.protocol import chunks, connect, describe, request_vector_for, send
from ..helpers.replies import pipelined_expectations
from .support import RESPONSES, Recorder, closes, wire

FUZZ_EXAMPLES = int(os.environ.get("TXARAKOON_FUZZ_EXAMPLES", "10000"))

#: The replies of the vectors, and how long the longest is (the statistics).
REPLIES = [wire(vector) for vector in RESPONSES]

#: The request each response vector answers (looked up once: it is slow).
REQUESTS = [request_vector_for(vectors.response_command(vector).name) for vector in RESPONSES]

#: How a request may end: anything else is a bug.
ALLOWED = (ArakoonError, ProtocolViolation, ConnectionLost, RequestNotProcessed)

_LIMITS = [DEFAULT_MAX_REPLY_LENGTH] * 3 + [0, 1, 3, 8, 64, 1000]


def _send(protocol: ArakoonProtocol, pick: int, progress: list[int]) -> Deferred[Any]:
    """Send the request that response vector ``pick`` answers."""
    request = REQUESTS[pick]
    extra = {"progress": progress.append} if request["command"] == "collapse_tlogs" else {}
    return send(protocol, request, **extra)


def _outcome(result: Any) -> tuple[Any, ...]:
    if isinstance(result, Failure):
        return ("error", *describe(result.value))
    return ("value", result)


def _stream(picks: list[int], mode: int, noise: bytes, where: int) -> bytes:
    """What the server sends: the replies to the picked vectors, as they are
    or damaged with ``noise`` (modes 0-4), or ``noise`` alone (mode 5)."""
    replies = b"".join(REPLIES[pick] for pick in picks)
    if mode == 0:
        return replies
    if mode == 1:  # bytes overwritten
        edited = bytearray(replies)
        for index in range(0, len(noise) - 1, 2):
            if edited:
                edited[(where + noise[index]) % len(edited)] = noise[index + 1]
        return bytes(edited)
    if mode == 2:  # cut short
        return replies[: where % (len(replies) + 1)]
    if mode == 3:  # bytes inserted
        at = where % (len(replies) + 1)
        return replies[:at] + noise + replies[at:]
    if mode == 4:  # trailing garbage
        return replies + noise
    return noise


def check_connection_ends_cleanly(
    picks: list[int],
    extra: list[int],
    mode: int,
    noise: bytes,
    where: int,
    cuts: list[int],
    limit: int,
    in_flight: int = 4,
) -> None:
    clock = Clock()
    protocol, transport = connect(
        max_reply_length=limit, silence_timeout=30.0, clock=clock, max_in_flight=in_flight
    )
    recorder = Recorder()
    progress: list[int] = []
    sent = [*picks, *extra]
    for index, pick in enumerate(sent):
        recorder.watch(index, _send(protocol, pick, progress))

    for chunk in chunks(_stream(picks, mode, noise, where), cuts):
        protocol.dataReceived(chunk)  # must never raise
    aborted = transport.disconnected
    ended_before_loss = list(recorder.order)
    protocol.connectionLost(Failure(ConnectionDone()))

    # Every request ended, once, with an outcome a caller can act on.
    assert sorted(recorder.order) == list(range(len(sent)))
    for index in range(len(sent)):
        error = recorder.error(index)
        assert error is None or isinstance(error, ALLOWED), repr(error)
    # Replies are matched in FIFO order: what ended before the loss with a
    # reply of its own did so oldest first.
    answered = [
        index
        for index in ended_before_loss
        if not isinstance(recorder.error(index), (ConnectionLost, RequestNotProcessed))
    ]
    assert answered == sorted(answered)
    # Undamaged replies to the first requests: each of those gets its own,
    # and the others, never answered, a connection error.
    if mode == 0 and limit == DEFAULT_MAX_REPLY_LENGTH:
        replied = [RESPONSES[pick] for pick in picks]
        expected = pipelined_expectations(replied)
        assert [_outcome(recorder.results[i]) for i in range(len(picks))] == expected
        closed = any(closes(vector) for vector in replied)
        for index in range(len(picks), len(sent)):
            if closed:
                assert isinstance(recorder.error(index), RequestNotProcessed)
            else:
                assert isinstance(recorder.error(index), (ConnectionLost, RequestNotProcessed))
    # A violation aborts the connection.
    if any(isinstance(recorder.error(i), ProtocolViolation) for i in range(len(sent))):
        assert aborted
    # Nothing is left behind.
    assert protocol.pending == 0
    assert not protocol.reader.reading
    assert len(protocol.reader) == 0
    assert clock.getDelayedCalls() == []
    assert not protocol.connected


def case_from(blob: bytes) -> tuple[Any, ...]:
    """The arguments of :func:`check_connection_ends_cleanly`, read from one
    byte string: hypothesis draws one ``binary`` per example, ten times
    cheaper than drawing each argument with its own strategy."""
    data = iter(blob)

    def take(count: int) -> list[int]:
        return [next(data, 0) for _ in range(count)]

    mode, limit, pick_count, extra_count, cut_count, in_flight = take(6)
    picks = [byte % len(RESPONSES) for byte in take(pick_count % 6)]
    extra = [byte % len(RESPONSES) for byte in take(extra_count % 3)]
    high, low = take(2)
    cuts = [a << 8 | b for a, b in zip(take(cut_count % 7), take(cut_count % 7), strict=True)]
    noise = bytes(data)
    return (
        picks,
        extra,
        mode % 6,
        noise,
        high << 8 | low,
        cuts,
        _LIMITS[limit % len(_LIMITS)],
        1 + in_flight % 4,
    )


@settings(
    max_examples=FUZZ_EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(blob=st.binary(max_size=120))
def test_any_reply_stream_ends_every_request_and_leaves_nothing_behind(blob: bytes) -> None:
    check_connection_ends_cleanly(*case_from(blob))


def test_a_reply_nobody_asked_for_aborts_the_connection() -> None:
    # The smallest case the property covers, spelled out.
    protocol, transport = connect()
    protocol.dataReceived(b"\x00\x00\x00\x00")
    assert transport.disconnected
    assert not protocol.connected


def test_the_fuzzer_reaches_every_kind_of_ending() -> None:
    # The property is only as good as what it exercises: make sure that its
    # streams produce values, error replies, violations and connection errors.
    seen: set[type[Any]] = set()
    cases = [
        ([6], [], 0, b"", 0, [], DEFAULT_MAX_REPLY_LENGTH),  # a value
        ([39], [], 0, b"", 0, [], DEFAULT_MAX_REPLY_LENGTH),  # NotFound
        ([6], [6], 4, b"\x07", 0, [], DEFAULT_MAX_REPLY_LENGTH),  # a violation
        ([6, 6], [], 2, b"", 20, [], DEFAULT_MAX_REPLY_LENGTH),  # cut mid-reply
        ([37], [6], 0, b"", 0, [], DEFAULT_MAX_REPLY_LENGTH),  # NotMaster closes
        ([6], [], 0, b"", 0, [], 3),  # over the limit
    ]
    for picks, extra, mode, noise, where, cuts, limit in cases:
        protocol, _ = connect(max_reply_length=limit)
        recorder = Recorder()
        for index, pick in enumerate([*picks, *extra]):
            recorder.watch(index, _send(protocol, pick, []))
        protocol.dataReceived(_stream(picks, mode, noise, where))
        protocol.connectionLost(Failure(ConnectionDone()))
        for index in recorder.results:
            error = recorder.error(index)
            seen.add(type(error) if error is not None else type(None))
        check_connection_ends_cleanly(picks, extra, mode, noise, where, cuts, limit)
    assert {type(None), ProtocolViolation, ConnectionLost, RequestNotProcessed} <= seen
    assert any(issubclass(kind, ArakoonError) for kind in seen)
