"""Pipelining through :class:`ArakoonProtocol`: FIFO matching with mixed
successes and errors, connection-closing replies, cancellation, protocol
violations, re-entrant callbacks and the linear buffer."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import CancelledError, Deferred, TimeoutError
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport, StringTransportWithDisconnection
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txarakoon import messages
from txarakoon.codec import BOOL, STRING
from txarakoon.consistency import AtLeast, Consistent
from txarakoon.errors import (
    AssertionFailed,
    BadInput,
    ConnectionLost,
    InconsistentRead,
    NoLongerMaster,
    NotConnectedError,
    NotFound,
    NotMaster,
    ProtocolViolation,
    RequestNotProcessed,
    UnknownFailure,
    UnsupportedCommand,
)
from txarakoon.messages import encode_error, encode_success
from txarakoon.protocol import ArakoonProtocol

from .helpers.protocol import OK, connect, error_reply, outcome, take


def value(data: bytes) -> bytes:
    """The reply to a successful ``get``."""
    return encode_success(STRING, data)


def flag(answer: bool) -> bytes:
    """The reply to a successful ``exists``."""
    return encode_success(BOOL, answer)


NOT_FOUND = encode_error(NotFound(b"Not_found"))
NOT_MASTER = encode_error(NotMaster(b"n0"))


class MixedRepliesTests(SynchronousTestCase):
    def test_pipelined_successes_and_errors_reach_their_own_callers(self) -> None:
        protocol, transport = connect()
        sent = [
            protocol.get(b"a"),
            protocol.get(b"missing"),
            protocol.exists(b"b"),
            protocol.assert_(b"c", b"x"),
            protocol.set(b"d", b"v"),
            protocol.user_function(b"nope", None),
            protocol.get(b"e", consistency=AtLeast(9)),
            protocol.delete_prefix(b"p/"),
        ]
        protocol.dataReceived(
            value(b"A")
            + NOT_FOUND
            + flag(True)
            + encode_error(AssertionFailed(b"c"))
            + OK
            + encode_error(BadInput(b'User function "nope" could not be found'))
            + encode_error(InconsistentRead(b"store not fresh enough"))
            + encode_success(messages.DELETE_PREFIX.result, 3)
        )
        assert [outcome(d) for d in sent] == [
            ("value", b"A"),
            ("error", NotFound, 0x05, b"Not_found"),
            ("value", True),
            ("error", AssertionFailed, 0x07, b"c"),
            ("value", None),
            ("error", BadInput, 0x26, b'User function "nope" could not be found'),
            ("error", InconsistentRead, 0x80, b"store not fresh enough"),
            ("value", 3),
        ]
        assert protocol.connected
        assert not transport.disconnecting
        assert protocol.pending == 0

    def test_requests_are_written_back_to_back_before_any_reply(self) -> None:
        protocol, transport = connect()
        first = protocol.get(b"a")
        second = protocol.delete(b"b")
        assert take(transport) == (
            messages.GET(Consistent, b"a").serialize() + messages.DELETE(b"b").serialize()
        )
        protocol.dataReceived(value(b"A") + OK)
        assert outcome(first) == ("value", b"A")
        assert outcome(second) == ("value", None)

    def test_connection_stays_usable_after_every_code_that_keeps_it(self) -> None:
        for error in (
            NotFound(b"k"),
            AssertionFailed(b"k"),
            NoLongerMaster(b"lost"),
            BadInput(b"bad"),
            InconsistentRead(b"stale"),
        ):
            protocol, transport = connect()
            failed = protocol.get(b"k")
            protocol.dataReceived(encode_error(error))
            assert outcome(failed) == ("error", type(error), error.code, error.message)
            after = protocol.get(b"k")
            assert take(transport).endswith(messages.GET(Consistent, b"k").serialize())
            protocol.dataReceived(value(b"v"))
            assert outcome(after) == ("value", b"v")


class ClosingReplyTests(SynchronousTestCase):
    def _three_sent_two_unsent(self) -> tuple[ArakoonProtocol, StringTransport, list[Any]]:
        protocol, transport = connect(max_in_flight=3)
        sent = [protocol.get(b"a"), protocol.set(b"b", b"v"), protocol.get(b"c")]
        sent += [protocol.delete(b"d"), protocol.nop()]
        assert protocol.pending == 5
        return protocol, transport, sent

    def test_followers_of_a_closing_reply_fail_as_not_processed(self) -> None:
        protocol, _, sent = self._three_sent_two_unsent()
        protocol.dataReceived(value(b"A") + NOT_MASTER)
        assert [outcome(d) for d in sent] == [
            ("value", b"A"),
            ("error", NotMaster, 0x04, b"n0"),
            ("error", RequestNotProcessed, False),
            ("error", RequestNotProcessed, False),
            ("error", RequestNotProcessed, False),
        ]

    def test_closing_reply_marks_the_connection_dead_and_closes_the_transport(self) -> None:
        protocol, transport, sent = self._three_sent_two_unsent()
        for deferred in sent:
            deferred.addErrback(lambda _: None)
        protocol.dataReceived(NOT_MASTER)
        assert not protocol.connected
        assert transport.disconnecting
        assert protocol.pending == 0

    def test_not_processed_failure_names_the_closing_error_and_the_request(self) -> None:
        protocol, _ = connect()
        head = protocol.set(b"a", b"v")
        follower = protocol.get(b"b")
        protocol.dataReceived(NOT_MASTER)
        self.failureResultOf(head, NotMaster)
        error = self.failureResultOf(follower, RequestNotProcessed).value
        assert error.reason == NotMaster(b"n0")
        assert error.request is not None
        assert error.request.startswith("get(")

    def test_requests_after_a_closing_reply_fail_with_not_connected(self) -> None:
        protocol, transport = connect()
        protocol.get(b"a").addErrback(lambda _: None)
        protocol.dataReceived(NOT_MASTER)
        take(transport)
        self.failureResultOf(protocol.get(b"b"), NotConnectedError)
        assert take(transport) == b""

    def test_bytes_after_a_closing_reply_are_ignored(self) -> None:
        protocol, transport = connect()
        protocol.get(b"a").addErrback(lambda _: None)
        protocol.dataReceived(NOT_MASTER + b"\xff" * 7)
        protocol.dataReceived(b"\x00" * 9)
        assert not transport.disconnected  # closed, not aborted as a violation

    def test_every_code_that_closes_the_connection_fails_the_followers(self) -> None:
        for code in (0x01, 0x02, 0x03, 0x04, 0x06, 0x08, 0x09, 0x10, 0x20, 0x81, 0x82, 0xFE):
            protocol, _ = connect()
            head = protocol.get(b"a")
            follower = protocol.get(b"b")
            reply = b"\x01\x00\x00\x00" if code == 0x01 else error_reply(code, b"why")
            protocol.dataReceived(reply)
            assert outcome(head)[0] == "error"
            assert outcome(follower) == ("error", RequestNotProcessed, False)
            assert not protocol.connected, hex(code)

    def test_unknown_opcode_reply_closes_like_other_closing_codes(self) -> None:
        protocol, _ = connect()
        head = protocol.get(b"a")
        follower = protocol.get(b"b")
        protocol.dataReceived(error_reply(0x05, b"99: command not found"))
        assert outcome(head) == ("error", UnsupportedCommand, 0x05, b"99: command not found")
        assert outcome(follower) == ("error", RequestNotProcessed, False)

    def test_unknown_code_closes_the_connection_and_keeps_the_raw_code(self) -> None:
        protocol, _ = connect()
        head = protocol.get(b"a")
        follower = protocol.get(b"b")
        protocol.dataReceived(error_reply(0x99, b"odd"))
        assert outcome(head) == ("error", UnknownFailure, 0x99, b"odd")
        assert outcome(follower) == ("error", RequestNotProcessed, False)

    def test_cancelled_follower_of_a_closing_reply_is_not_fired_twice(self) -> None:
        protocol, _ = connect()
        head = protocol.get(b"a")
        follower = protocol.get(b"b")
        follower.cancel()
        protocol.dataReceived(NOT_MASTER)
        self.failureResultOf(head, NotMaster)
        self.failureResultOf(follower, CancelledError)


class CancellationTests(SynchronousTestCase):
    def test_cancelling_a_sent_request_keeps_later_replies_matched(self) -> None:
        protocol, _ = connect()
        first, second, third = protocol.get(b"a"), protocol.get(b"b"), protocol.get(b"c")
        second.cancel()
        self.failureResultOf(second, CancelledError)
        assert protocol.pending == 3
        protocol.dataReceived(value(b"A") + value(b"B") + value(b"C"))
        assert self.successResultOf(first) == b"A"
        assert self.successResultOf(third) == b"C"
        assert protocol.pending == 0

    def test_cancelling_the_head_mid_reply_drops_the_rest_of_its_reply(self) -> None:
        protocol, _ = connect()
        head, follower = protocol.get(b"a"), protocol.get(b"b")
        reply = value(b"A" * 50)
        protocol.dataReceived(reply[:20])
        head.cancel()
        protocol.dataReceived(reply[20:] + value(b"B"))
        self.failureResultOf(head, CancelledError)
        assert self.successResultOf(follower) == b"B"

    def test_late_error_reply_of_a_cancelled_request_is_dropped(self) -> None:
        protocol, _ = connect()
        cancelled, follower = protocol.get(b"a"), protocol.exists(b"b")
        cancelled.cancel()
        protocol.dataReceived(NOT_FOUND + flag(False))
        self.failureResultOf(cancelled, CancelledError)
        assert self.successResultOf(follower) is False
        assert protocol.connected

    def test_cancelled_request_whose_late_reply_closes_still_fails_its_followers(self) -> None:
        protocol, _ = connect()
        cancelled, follower = protocol.set(b"a", b"v"), protocol.get(b"b")
        cancelled.cancel()
        protocol.dataReceived(NOT_MASTER)
        self.failureResultOf(cancelled, CancelledError)
        assert outcome(follower) == ("error", RequestNotProcessed, False)

    def test_cancelling_an_unsent_request_removes_it_so_it_is_never_written(self) -> None:
        protocol, transport = connect(max_in_flight=1)
        head = protocol.get(b"a")
        removed = protocol.set(b"b", b"v")
        kept = protocol.get(b"c")
        take(transport)
        removed.cancel()
        self.failureResultOf(removed, CancelledError)
        assert protocol.pending == 2
        protocol.dataReceived(value(b"A"))
        assert take(transport) == messages.GET(Consistent, b"c").serialize()
        protocol.dataReceived(value(b"C"))
        assert self.successResultOf(head) == b"A"
        assert self.successResultOf(kept) == b"C"

    def test_cancelling_after_the_reply_changes_nothing(self) -> None:
        protocol, _ = connect()
        done = protocol.get(b"a")
        protocol.dataReceived(value(b"A"))
        done.cancel()
        assert self.successResultOf(done) == b"A"

    def test_timing_out_a_sent_request_keeps_the_fifo(self) -> None:
        clock = Clock()
        protocol, _ = connect()
        slow = protocol.get(b"a")
        slow.addTimeout(5, clock)
        follower = protocol.get(b"b")
        clock.advance(5)
        self.failureResultOf(slow, TimeoutError)
        protocol.dataReceived(value(b"A") + value(b"B"))
        assert self.successResultOf(follower) == b"B"


class ProtocolViolationTests(SynchronousTestCase):
    def test_unexpected_bytes_with_nothing_pending_abort_the_connection(self) -> None:
        protocol, transport = connect()
        protocol.dataReceived(b"\x00\x00\x00\x00")
        assert transport.disconnected  # abortConnection, not loseConnection
        assert not protocol.connected
        self.failureResultOf(protocol.get(b"a"), NotConnectedError)

    def test_unexpected_bytes_fail_unsent_requests_as_not_processed(self) -> None:
        protocol, transport = connect()
        protocol.pauseProducing()
        unsent = protocol.get(b"a")
        protocol.dataReceived(OK)
        assert outcome(unsent) == ("error", RequestNotProcessed, False)
        assert transport.disconnected

    def test_bytes_beyond_the_last_reply_are_a_violation(self) -> None:
        protocol, transport = connect()
        answered = protocol.get(b"a")
        protocol.dataReceived(value(b"A") + b"\x00")
        assert self.successResultOf(answered) == b"A"
        assert transport.disconnected

    def _malformed(self, reply: bytes, **settings: Any) -> None:
        protocol, transport = connect(max_in_flight=2, **settings)
        head = protocol.exists(b"a")
        written = protocol.get(b"b")
        unsent = protocol.get(b"c")
        protocol.dataReceived(reply)
        assert outcome(head) == ("error", ProtocolViolation)
        assert outcome(written) == ("error", ConnectionLost, None)
        assert outcome(unsent) == ("error", RequestNotProcessed, False)
        assert transport.disconnected
        assert not protocol.connected
        assert protocol.pending == 0

    def test_bad_bool_byte_fails_the_head_with_protocol_violation(self) -> None:
        self._malformed(OK + b"\x02")

    def test_string_length_over_the_limit_is_a_violation(self) -> None:
        self._malformed(OK + (17).to_bytes(4, "little"), max_reply_length=16)

    def test_four_gib_length_prefix_fails_without_waiting_for_the_bytes(self) -> None:
        protocol, transport = connect()
        head = protocol.get(b"a")
        protocol.dataReceived(OK + b"\xff\xff\xff\xff")
        error = self.failureResultOf(head, ProtocolViolation).value
        assert "4294967295" in str(error)
        assert transport.disconnected
        assert len(protocol.reader) == 0

    def test_element_count_over_the_limit_is_a_violation(self) -> None:
        protocol, _ = connect(max_reply_length=2)
        head = protocol.range(None, True, None, True)
        protocol.dataReceived(OK + (3).to_bytes(4, "little"))
        self.failureResultOf(head, ProtocolViolation)

    def test_limit_itself_is_accepted(self) -> None:
        protocol, _ = connect(max_reply_length=2)
        head = protocol.get(b"a")
        protocol.dataReceived(value(b"AB"))
        assert self.successResultOf(head) == b"AB"

    def test_bad_consistency_tag_in_get_txid_is_a_violation(self) -> None:
        protocol, transport = connect()
        head = protocol.get_txid()
        protocol.dataReceived(OK + b"\x07")
        self.failureResultOf(head, ProtocolViolation)
        assert transport.disconnected

    def test_unknown_statistics_field_type_is_a_violation(self) -> None:
        payload = (9).to_bytes(4, "little") + STRING.encode(b"arakoon_stats")
        protocol, _ = connect()
        head = protocol.statistics()
        protocol.dataReceived(OK + STRING.encode(payload))
        self.failureResultOf(head, ProtocolViolation)

    def test_bytes_after_a_violation_are_ignored(self) -> None:
        protocol, _ = connect()
        head = protocol.exists(b"a")
        protocol.dataReceived(OK + b"\x05")
        self.failureResultOf(head, ProtocolViolation)
        protocol.dataReceived(flag(True) * 3)
        assert protocol.pending == 0
        assert len(protocol.reader) == 0

    def test_violation_then_connection_lost_fails_nothing_twice(self) -> None:
        protocol, _ = connect()
        head = protocol.exists(b"a")
        follower = protocol.get(b"b")
        protocol.dataReceived(OK + b"\x05")
        protocol.connectionLost(Failure(ConnectionLost("gone")))
        self.failureResultOf(head, ProtocolViolation)
        lost = self.failureResultOf(follower, ConnectionLost).value
        assert lost.applied is None
        assert isinstance(lost.reason, ProtocolViolation)


class ReentrancyTests(SynchronousTestCase):
    def test_request_sent_from_a_reply_callback_is_queued_behind_the_others(self) -> None:
        protocol, _ = connect()
        chained: list[Deferred[bytes]] = []
        first = protocol.get(b"a")
        first.addCallback(lambda _: chained.append(protocol.get(b"c")))
        second = protocol.get(b"b")
        protocol.dataReceived(value(b"A") + value(b"B") + value(b"C"))
        assert self.successResultOf(second) == b"B"
        assert self.successResultOf(chained[0]) == b"C"

    def test_reply_delivered_from_inside_a_callback_is_parsed_in_order(self) -> None:
        protocol, _ = connect()
        first, second, third = protocol.get(b"a"), protocol.get(b"b"), protocol.get(b"c")
        # A transport delivering synchronously re-enters dataReceived.
        first.addCallback(lambda _: protocol.dataReceived(value(b"C")))
        protocol.dataReceived(value(b"A") + value(b"B"))
        assert self.successResultOf(second) == b"B"
        assert self.successResultOf(third) == b"C"

    def test_losing_the_connection_from_a_callback_fails_the_rest(self) -> None:
        protocol = ArakoonProtocol(b"arakoon")
        transport = StringTransportWithDisconnection()
        transport.protocol = protocol
        protocol.makeConnection(transport)
        first, second = protocol.get(b"a"), protocol.get(b"b")
        first.addCallback(lambda _: transport.loseConnection())
        protocol.dataReceived(value(b"A") + value(b"B"))
        assert self.successResultOf(first) is None
        assert outcome(second) == ("error", ConnectionLost, None)
        assert protocol.pending == 0

    def test_closing_from_a_progress_callback_stops_the_stream(self) -> None:
        protocol = ArakoonProtocol(b"arakoon")
        transport = StringTransportWithDisconnection()
        transport.protocol = protocol
        protocol.makeConnection(transport)
        collapse = protocol.collapse_tlogs(2, lambda _: transport.loseConnection())
        frames = (2).to_bytes(4, "little") + (OK + (1).to_bytes(8, "little")) * 2
        protocol.dataReceived(OK + frames)
        assert outcome(collapse) == ("error", ConnectionLost, None)

    def test_losing_the_connection_on_the_last_progress_frame_raises_nothing(self) -> None:
        protocol = ArakoonProtocol(b"arakoon")
        transport = StringTransportWithDisconnection()
        transport.protocol = protocol
        protocol.makeConnection(transport)
        collapse = protocol.collapse_tlogs(1, lambda _: transport.loseConnection())
        protocol.dataReceived(OK + (1).to_bytes(4, "little") + OK + (1).to_bytes(8, "little"))
        assert outcome(collapse) == ("error", ConnectionLost, None)
        assert protocol.pending == 0

    def test_bytes_delivered_from_inside_a_progress_callback_are_queued(self) -> None:
        protocol, _ = connect()
        frame = OK + (1).to_bytes(8, "little")
        delivered: list[bool] = []

        def progress(_: int) -> None:
            # A transport delivering synchronously, while the coroutine runs.
            if not delivered:
                delivered.append(True)
                protocol.dataReceived(frame + value(b"B"))

        collapse = protocol.collapse_tlogs(1, progress)
        follower = protocol.get(b"b")
        protocol.dataReceived(OK + (2).to_bytes(4, "little") + frame)
        assert self.successResultOf(collapse) == 2
        assert self.successResultOf(follower) == b"B"


class LinearBufferTests(SynchronousTestCase):
    def test_many_replies_in_small_chunks_keep_the_buffer_small(self) -> None:
        protocol, _ = connect(max_in_flight=None)
        count = 500
        sent = [protocol.get(b"k") for _ in range(count)]
        reply = value(b"0123456789")
        stream = reply * count
        largest = 0
        for start in range(0, len(stream), 7):
            protocol.dataReceived(stream[start : start + 7])
            largest = max(largest, len(protocol.reader))
        assert largest <= 2 * (len(reply) + 7)
        assert len(protocol.reader) == 0
        assert all(self.successResultOf(d) == b"0123456789" for d in sent)

    def test_many_replies_in_one_chunk_leave_an_empty_buffer(self) -> None:
        protocol, _ = connect(max_in_flight=None)
        sent = [protocol.exists(b"k") for _ in range(1000)]
        protocol.dataReceived(flag(True) * 1000)
        assert len(protocol.reader) == 0
        assert all(self.successResultOf(d) is True for d in sent)

    def test_long_reply_in_small_chunks_buffers_only_the_reply(self) -> None:
        protocol, _ = connect()
        head = protocol.get(b"k")
        tail = protocol.exists(b"k")
        payload = bytes(range(256)) * 1024
        stream = value(payload) + flag(True)
        largest = 0
        for start in range(0, len(stream), 1000):
            protocol.dataReceived(stream[start : start + 1000])
            largest = max(largest, len(protocol.reader))
        assert largest <= len(payload) + 8 + 1000
        assert len(protocol.reader) == 0
        assert self.successResultOf(head) == payload
        assert self.successResultOf(tail) is True

    def test_partial_reply_waits_without_consuming(self) -> None:
        protocol, _ = connect()
        head = protocol.get(b"k")
        reply = value(b"abcdef")
        protocol.dataReceived(reply[:-1])
        assert not head.called
        protocol.dataReceived(reply[-1:])
        assert self.successResultOf(head) == b"abcdef"
