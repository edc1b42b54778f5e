"""Memory: a long pipelined run through one connection leaves nothing behind.

10⁵ pipelined ``get`` requests through one
:class:`~txarakoon.protocol.ArakoonProtocol` in memory (a StringTransport, the
replies fed back in 64 KiB chunks, a silence timeout on a Clock): afterwards
the pending queues are empty, no timer is left, the live Deferreds are as many
as before, and the memory traced by :mod:`tracemalloc` is within 1 MiB of its
start after a ``gc.collect()``. The same holds with most requests waiting
unsent behind ``max_in_flight``, and for requests cancelled or timed out
before or after they were written. 10⁶ requests with ``TXARAKOON_SLOW=1``
(and in ``python -m bench``).
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from twisted.internet.defer import CancelledError, Deferred, TimeoutError
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from txarakoon.codec import STRING
from txarakoon.consistency import Consistent
from txarakoon.errors import NotFound
from txarakoon.messages import GET, encode_error, encode_success
from txarakoon.protocol import ArakoonProtocol

from ..helpers.protocol import CLUSTER_ID
from .support import only_when_slow, slow

MiB = 1 << 20
CHUNK = 64 * 1024
REPLY = encode_success(STRING, b"v" * 100)
FRAME = GET(Consistent, b"key").serialize()


def live_deferreds() -> int:
    return sum(1 for thing in gc.get_objects() if isinstance(thing, Deferred))


@dataclass
class Footprint:
    """What a connection holds on to, and the traced memory."""

    pending: int
    timers: int
    deferreds: int
    traced: int


def footprint(protocol: ArakoonProtocol, clock: Clock) -> Footprint:
    gc.collect()
    return Footprint(
        protocol.pending,
        len(clock.getDelayedCalls()),
        live_deferreds(),
        tracemalloc.get_traced_memory()[0],
    )


@contextmanager
def traced() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def connection(**settings: Any) -> tuple[ArakoonProtocol, StringTransport, Clock]:
    clock = Clock()
    protocol = ArakoonProtocol(CLUSTER_ID, silence_timeout=30.0, clock=clock, **settings)
    transport = StringTransport()
    protocol.makeConnection(transport)
    transport.clear()  # the prologue
    return protocol, transport, clock


def feed(protocol: ArakoonProtocol, replies: bytes) -> None:
    for start in range(0, len(replies), CHUNK):
        protocol.dataReceived(replies[start : start + CHUNK])


def run_pipelined(
    total: int, batch: int, settings: dict[str, Any], each: Callable[[list[Deferred[Any]]], Any]
) -> tuple[Footprint, Footprint]:
    """``total`` gets, ``batch`` at a time, their replies fed back; the
    footprints before and after. ``each`` sees every batch's Deferreds."""
    protocol, transport, clock = connection(**settings)
    replies = REPLY * batch

    def one_batch() -> None:
        deferreds = [protocol.get(b"key") for _ in range(batch)]
        each(deferreds)
        # Answer what was written, until nothing waits: behind max_in_flight,
        # replies let more requests out.
        while protocol.pending:
            written = len(transport.value()) // len(FRAME)
            transport.clear()
            feed(protocol, replies if written == batch else REPLY * written)
        for deferred in deferreds:
            deferred.addErrback(lambda failure: failure.trap(CancelledError))

    one_batch()  # warm up: whatever is made once is made before the start
    with traced():
        start = footprint(protocol, clock)
        for _ in range(total // batch):
            one_batch()
        end = footprint(protocol, clock)
    return start, end


def assert_nothing_left(start: Footprint, end: Footprint) -> None:
    assert end.pending == start.pending == 0
    assert end.timers == start.timers == 0
    assert end.deferreds <= start.deferreds
    assert end.traced - start.traced < MiB, f"{start.traced} -> {end.traced} bytes"


def test_100k_pipelined_requests_leave_nothing_behind() -> None:
    assert_nothing_left(*run_pipelined(100_000, 1000, {"max_in_flight": None}, lambda ds: None))


def test_requests_queued_behind_the_in_flight_limit_leave_nothing_behind() -> None:
    # 900 of every 1,000 wait unsent, and go out as replies free their slots.
    assert_nothing_left(*run_pipelined(20_000, 1000, {"max_in_flight": 100}, lambda ds: None))


def test_cancelled_requests_leave_nothing_behind() -> None:
    def cancel_some(deferreds: list[Deferred[Any]]) -> None:
        # Written ones (their replies still come and are dropped) and, behind
        # the in-flight limit, unsent ones (never written).
        for deferred in deferreds[::3]:
            deferred.cancel()

    assert_nothing_left(*run_pipelined(10_000, 1000, {"max_in_flight": 500}, cancel_some))


def test_timed_out_requests_leave_nothing_behind() -> None:
    protocol, transport, clock = connection(max_in_flight=None)

    def one_round() -> None:
        deferreds = [protocol.get(b"key").addTimeout(5.0, clock) for _ in range(500)]
        # Half time out before their replies come, half are answered in time.
        feed(protocol, REPLY * 250)
        clock.advance(5.0)
        feed(protocol, REPLY * 250)
        for deferred in deferreds:
            deferred.addErrback(lambda failure: failure.trap(TimeoutError))
        transport.clear()

    assert_nothing_left(*rounds(protocol, clock, one_round, 20))


def test_error_replies_leave_nothing_behind() -> None:
    protocol, transport, clock = connection(max_in_flight=None)
    reply = encode_error(NotFound(b"Not_found"))

    def one_round() -> None:
        deferreds = [protocol.get(b"key") for _ in range(500)]
        feed(protocol, reply * 500)
        for deferred in deferreds:
            deferred.addErrback(lambda failure: failure.trap(NotFound))
        transport.clear()

    assert_nothing_left(*rounds(protocol, clock, one_round, 20))


def rounds(
    protocol: ArakoonProtocol, clock: Clock, one_round: Callable[[], None], count: int
) -> tuple[Footprint, Footprint]:
    one_round()  # warm up
    with traced():
        start = footprint(protocol, clock)
        for _ in range(count):
            one_round()
        end = footprint(protocol, clock)
    return start, end


@slow
@only_when_slow
def test_a_million_pipelined_requests_leave_nothing_behind() -> None:
    assert_nothing_left(*run_pipelined(1_000_000, 1000, {"max_in_flight": None}, lambda ds: None))
