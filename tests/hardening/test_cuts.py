"""Cut at every byte offset: the connection is lost after each possible
number of reply bytes.

Through :class:`~txarakoon.protocol.ArakoonProtocol`, for every response
vector alone and for pipelined groups of them: every request ends; those whose
reply arrived whole get their value or error, exactly those whose reply did
not get a connection error (:class:`~txarakoon.errors.ConnectionLost`, the
request was written, outcome unknown), and those behind a reply that closes
the connection get :class:`~txarakoon.errors.RequestNotProcessed`.

Through :class:`~txarakoon.cluster.ArakoonClient` against the in-memory
cluster: a read cut anywhere in its reply is retried and answered; a write cut
anywhere is :class:`~txarakoon.errors.OutcomeUnknown` (and was applied once),
unless its reply arrived whole.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txarakoon.errors import ConnectionLost, OutcomeUnknown, RequestNotProcessed

from ..helpers.inmemory import MemoryEndpoints, memory_client, memory_cluster, run_until
from ..helpers.protocol import connect, outcome
from ..helpers.replies import (
    expected_outcome,
    expected_progress,
    pipelined_expectations,
    pipelined_stream,
    send_for,
)
from .support import RESPONSES, closes, wire

LOST = ("error", ConnectionLost, None)
NOT_PROCESSED = ("error", RequestNotProcessed, False)


def _ends(group: list[dict[str, Any]], stream: bytes, cut: int) -> list[tuple[Any, ...]]:
    """What each request of ``group`` ends with when the connection is lost
    after ``cut`` bytes of ``stream``."""
    expected = pipelined_expectations(group)
    ends = []
    offset = 0
    closed = False
    for vector, whole in zip(group, expected, strict=True):
        if closed:
            ends.append(NOT_PROCESSED)
            continue
        offset += len(wire(vector))
        if offset <= cut:
            ends.append(whole)
            closed = closes(vector)
        else:
            ends.append(LOST)
    return ends


def _cut(group: list[dict[str, Any]], stream: bytes, cut: int) -> list[tuple[Any, ...]]:
    protocol, _ = connect()
    progress: list[int] = []
    deferreds = [send_for(protocol, vector, progress) for vector in group]
    # Two pieces, so that both the fast path (whole replies) and the
    # coroutines (a reply split in two) meet the cut.
    protocol.dataReceived(stream[: cut // 2])
    protocol.dataReceived(stream[cut // 2 : cut])
    protocol.connectionLost(Failure(ConnectionDone()))
    assert protocol.pending == 0
    assert len(protocol.reader) == 0
    return [outcome(deferred) for deferred in deferreds]


def test_every_response_vector_cut_at_every_offset() -> None:
    cuts = 0
    for vector in RESPONSES:
        data = wire(vector)
        for cut in range(len(data) + 1):
            protocol, _ = connect()
            progress: list[int] = []
            deferred = send_for(protocol, vector, progress)
            protocol.dataReceived(data[:cut])
            protocol.connectionLost(Failure(ConnectionDone()))
            expected = expected_outcome(vector) if cut == len(data) else LOST
            assert outcome(deferred) == expected, (vector["id"], cut)
            # Progress is reported for the frames that arrived, and only those.
            assert progress == expected_progress(vector)[: len(progress)]
            cuts += 1
    assert cuts == sum(len(wire(vector)) + 1 for vector in RESPONSES)


def test_pipelined_replies_that_keep_the_connection_cut_at_every_offset() -> None:
    group = [v for v in RESPONSES if not closes(v) and v["command"] != "statistics"]
    stream = pipelined_stream(group)
    for cut in range(len(stream) + 1):
        assert _cut(group, stream, cut) == _ends(group, stream, cut), cut


def test_pipelined_groups_of_three_cut_at_every_offset() -> None:
    # Every run of three consecutive vectors: each closing code meets both a
    # request before it and requests behind it.
    for start in range(len(RESPONSES) - 2):
        group = RESPONSES[start : start + 3]
        stream = pipelined_stream(group)
        for cut in range(len(stream) + 1):
            assert _cut(group, stream, cut) == _ends(group, stream, cut), (start, cut)


def test_a_closing_reply_fails_the_requests_behind_it_wherever_the_cut() -> None:
    (not_master,) = [v for v in RESPONSES if v["id"] == "resp_error_04_NotMaster"]
    (get,) = [v for v in RESPONSES if v["id"] == "resp_get_value"]
    group = [get, not_master, get, get]
    stream = pipelined_stream(group)
    whole = len(wire(get)) + len(wire(not_master))
    for cut in range(whole, len(stream) + 1):
        assert _cut(group, stream, cut)[2:] == [NOT_PROCESSED, NOT_PROCESSED]


class ClusterClientCutTests(SynchronousTestCase):
    """The cluster client over the in-memory cluster: the master's connection
    is cut after each possible number of bytes of one reply."""

    def setUp(self) -> None:
        self.cluster = memory_cluster(3, lag=0)
        self.endpoints = MemoryEndpoints(self.cluster)
        self.client = memory_client(self.cluster, self.endpoints)
        for key, value in ((b"a", b"1"), (b"b", b"22"), (b"key", b"value")):
            self.finish(self.client.set(key, value))

    def finish(self, deferred: Any) -> Any:
        run_until(self.cluster, deferred)
        return deferred

    def cut_next_reply_after(self, count: int) -> None:
        """Cut the client's connections to the master after ``count`` more
        reply bytes (new connections are left alone)."""
        if not self.cluster[self.cluster.master].connections:
            # The last write was cut: nothing made the client reconnect yet.
            self.finish(self.client.get(b"a"))
        connections = self.cluster[self.cluster.master].connections
        for connection in connections:
            connection.cut_after(count)

    def reply_size(self, call: Any) -> int:
        """How many bytes the reply to ``call()`` takes, measured uncut."""
        (connection,) = self.cluster[self.cluster.master].connections
        before = connection.bytes_written
        self.finish(call())
        return int(connection.bytes_written - before)

    def check_read(self, call: Any, expected: Any) -> None:
        size = self.reply_size(call)
        connects = self.endpoints.connects[self.cluster.master]
        for cut in range(size + 1):
            self.cut_next_reply_after(cut)
            result = self.finish(call())
            self.assertEqual(self.successResultOf(result), expected, cut)
        # Each cut inside the reply made the client retry on a new connection.
        self.assertEqual(self.endpoints.connects[self.cluster.master], connects + size)

    def check_write(self, call: Any, applied: Any) -> None:
        size = self.reply_size(call)
        for cut in range(size + 1):
            self.cut_next_reply_after(cut)
            result = self.finish(call())
            if cut < size:
                failure = self.failureResultOf(result, OutcomeUnknown)
                self.assertIsNone(failure.value.applied)
            else:
                self.successResultOf(result)
            # Executed once, before its reply was cut: never retried.
            self.assertTrue(applied(), cut)

    def test_a_get_cut_anywhere_is_retried(self) -> None:
        self.check_read(lambda: self.client.get(b"key"), b"value")

    def test_a_range_entries_cut_anywhere_is_retried(self) -> None:
        self.check_read(
            lambda: self.client.range_entries(None, True, None, True),
            [(b"a", b"1"), (b"b", b"22"), (b"key", b"value")],
        )

    def test_a_multi_get_cut_anywhere_is_retried(self) -> None:
        self.check_read(lambda: self.client.multi_get([b"b", b"a"]), [b"22", b"1"])

    def test_a_set_cut_anywhere_is_outcome_unknown(self) -> None:
        counter = iter(range(1000))
        values: list[bytes] = []

        def write() -> Any:
            values.append(b"v%03d" % next(counter))
            return self.client.set(b"counter", values[-1])

        self.check_write(write, lambda: self.cluster.store.get(b"counter") == values[-1])

    def test_a_replace_cut_anywhere_is_outcome_unknown(self) -> None:
        # Values of one length: every reply (the old value) has the same size.
        self.finish(self.client.set(b"key", b"r---"))
        counter = iter(range(1000))
        values: list[bytes] = []

        def write() -> Any:
            values.append(b"r%03d" % next(counter))
            return self.client.replace(b"key", values[-1])

        self.check_write(write, lambda: self.cluster.store.get(b"key") == values[-1])
