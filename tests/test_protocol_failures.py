"""Failure semantics of :class:`ArakoonProtocol` (DESIGN.md rule 7): connection
loss, calls while not connected, the silence timeout, ``close()`` and
``when_lost()``; plus the connection set-up (prologue, TCP_NODELAY, producer,
:func:`txarakoon.protocol.connect`)."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txarakoon import messages
from txarakoon.codec import STRING
from txarakoon.consistency import Consistency, Consistent
from txarakoon.errors import (
    CallbackError,
    ConnectionLost,
    NotConnectedError,
    NotFound,
    ProtocolViolation,
    RequestNotProcessed,
    UnknownFailure,
)
from txarakoon.messages import encode_success
from txarakoon.protocol import (
    DEFAULT_MAX_IN_FLIGHT,
    ArakoonProtocol,
    ArakoonProtocolFactory,
    SilenceTimeout,
    connect,
)

from .helpers.protocol import CLUSTER_ID, OK, NoDelayTransport, outcome, take
from .helpers.protocol import connect as connected


def value(data: bytes) -> bytes:
    return encode_success(STRING, data)


def lose(protocol: ArakoonProtocol, reason: BaseException | None = None) -> None:
    protocol.connectionLost(Failure(reason or ConnectionDone("closed by peer")))


def cancel_then_fail(failure: Failure, other: Deferred[Any]) -> Failure:
    other.cancel()
    return failure


def frame(progress: int) -> bytes:
    return OK + progress.to_bytes(8, "little")


def collapse_header(count: int) -> bytes:
    return OK + count.to_bytes(4, "little")


class ConnectionLossTests(SynchronousTestCase):
    def test_eof_mid_reply_fails_written_requests_as_outcome_unknown(self) -> None:
        protocol, _ = connected()
        head, follower = protocol.set(b"a", b"v"), protocol.get(b"b")
        protocol.dataReceived(OK[:2])
        lose(protocol)
        assert outcome(head) == ("error", ConnectionLost, None)
        assert outcome(follower) == ("error", ConnectionLost, None)

    def test_eof_fails_unsent_requests_as_not_processed(self) -> None:
        protocol, _ = connected(max_in_flight=1)
        written, unsent = protocol.set(b"a", b"v"), protocol.set(b"b", b"v")
        lose(protocol)
        assert outcome(written) == ("error", ConnectionLost, None)
        assert outcome(unsent) == ("error", RequestNotProcessed, False)

    def test_requests_answered_before_eof_keep_their_results(self) -> None:
        protocol, _ = connected()
        answered, lost = protocol.get(b"a"), protocol.get(b"b")
        protocol.dataReceived(value(b"A") + value(b"B")[:3])
        lose(protocol)
        assert self.successResultOf(answered) == b"A"
        assert outcome(lost) == ("error", ConnectionLost, None)

    def test_connection_lost_carries_the_reason_and_the_request(self) -> None:
        protocol, _ = connected()
        pending = protocol.get(b"key")
        cause = ConnectionDone("peer went away")
        lose(protocol, cause)
        error = self.failureResultOf(pending, ConnectionLost).value
        assert error.reason is cause
        assert error.request == "get(consistency=Consistent, key=b'key')"
        assert "peer went away" in str(error)

    def test_failure_of_a_big_request_names_it_briefly(self) -> None:
        protocol, _ = connected()
        pending = protocol.set(b"key", b"x" * (1024 * 1024))
        lose(protocol)
        error = self.failureResultOf(pending, ConnectionLost).value
        assert error.request is not None
        assert error.request.startswith("set(key=b'key', value=b'xxx")
        assert "(1048576 bytes)" in error.request
        assert len(str(error)) < 300

    def test_loss_marks_the_connection_not_connected(self) -> None:
        protocol, _ = connected()
        lose(protocol)
        assert not protocol.connected
        assert protocol.pending == 0

    def test_bytes_after_loss_are_ignored(self) -> None:
        protocol, _ = connected()
        lose(protocol)
        protocol.dataReceived(value(b"late"))
        assert len(protocol.reader) == 0

    def test_cancelled_request_is_not_failed_again_on_loss(self) -> None:
        protocol, _ = connected()
        cancelled = protocol.get(b"a")
        cancelled.cancel()
        lose(protocol)
        self.failureResultOf(cancelled, CancelledError)

    def test_a_request_cancelled_by_the_failure_of_another_on_loss_fails_once(self) -> None:
        protocol, _ = connected()
        first = protocol.get(b"a")
        second = protocol.get(b"b")
        first.addErrback(cancel_then_fail, second)
        lose(protocol)
        self.failureResultOf(first, ConnectionLost)
        self.failureResultOf(second, CancelledError)


class NotConnectedTests(SynchronousTestCase):
    def test_call_before_connection_made_is_a_failed_deferred(self) -> None:
        protocol = ArakoonProtocol(CLUSTER_ID)
        self.failureResultOf(protocol.get(b"a"), NotConnectedError)
        self.failureResultOf(protocol.optimize_db(), NotConnectedError)

    def test_call_after_connection_lost_is_a_failed_deferred(self) -> None:
        protocol, transport = connected()
        lose(protocol)
        self.failureResultOf(protocol.set(b"a", b"v"), NotConnectedError)
        assert take(transport) == b""

    def test_not_connected_error_is_exported_at_the_top_level(self) -> None:
        import txarakoon

        assert txarakoon.NotConnectedError is NotConnectedError

    def test_argument_error_raises_even_when_not_connected(self) -> None:
        protocol = ArakoonProtocol(CLUSTER_ID)
        with pytest.raises(TypeError, match="key"):
            protocol.get(42)  # type: ignore[call-overload]

    def test_value_the_codec_cannot_write_raises_and_queues_nothing(self) -> None:
        # A bare Consistency is no consistency value; whichever layer refuses
        # it, the refusal must be synchronous and leave the FIFO untouched.
        protocol, transport = connected()
        with pytest.raises((TypeError, ValueError)):
            protocol.get(b"a", consistency=Consistency())
        assert take(transport) == b""
        assert protocol.pending == 0
        follower = protocol.get(b"b")
        protocol.dataReceived(value(b"B"))
        assert self.successResultOf(follower) == b"B"


class SilenceTimeoutTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.protocol, self.transport = connected(silence_timeout=10.0, clock=self.clock)

    def test_silent_server_with_a_request_pending_is_aborted(self) -> None:
        pending = self.protocol.get(b"a")
        self.clock.advance(9.9)
        assert not pending.called
        self.clock.advance(0.1)
        error = self.failureResultOf(pending, ConnectionLost).value
        assert isinstance(error.reason, SilenceTimeout)
        assert self.transport.disconnected
        assert not self.protocol.connected

    def test_silence_fails_unsent_requests_as_not_processed(self) -> None:
        protocol, _ = connected(silence_timeout=10.0, clock=self.clock, max_in_flight=1)
        written, unsent = protocol.get(b"a"), protocol.get(b"b")
        self.clock.advance(10)
        assert outcome(written) == ("error", ConnectionLost, None)
        assert outcome(unsent) == ("error", RequestNotProcessed, False)

    def test_idle_connection_is_never_aborted(self) -> None:
        self.clock.advance(3600)
        assert self.protocol.connected
        assert not self.transport.disconnecting
        assert self.clock.getDelayedCalls() == []

    def test_connection_idle_after_replies_is_never_aborted(self) -> None:
        answered = self.protocol.get(b"a")
        self.clock.advance(5)
        self.protocol.dataReceived(value(b"A"))
        self.clock.advance(3600)
        assert self.successResultOf(answered) == b"A"
        assert self.protocol.connected

    def test_incoming_bytes_reset_the_deadline(self) -> None:
        pending = self.protocol.get(b"a")
        reply = value(b"slow reply")
        for index in range(len(reply) - 1):
            self.clock.advance(9)
            self.protocol.dataReceived(reply[index : index + 1])
        assert self.protocol.connected
        self.protocol.dataReceived(reply[-1:])
        assert self.successResultOf(pending) == b"slow reply"

    def test_silence_is_timed_from_the_last_byte(self) -> None:
        pending = self.protocol.get(b"a")
        reply = value(b"slow reply")
        self.clock.advance(4)
        self.protocol.dataReceived(reply[:3])
        self.clock.advance(9.75)
        assert self.protocol.connected
        self.clock.advance(0.25)
        self.failureResultOf(pending, ConnectionLost)
        assert self.clock.seconds() == 14.0

    def test_incoming_bytes_keep_one_delayed_call(self) -> None:
        self.protocol.get(b"a")
        reply = value(b"slow reply")
        for index in range(len(reply) - 1):
            self.clock.advance(3)
            self.protocol.dataReceived(reply[index : index + 1])
            assert len(self.clock.getDelayedCalls()) == 1

    def test_deadline_restarts_for_the_next_request(self) -> None:
        self.protocol.get(b"a")
        self.clock.advance(8)
        self.protocol.dataReceived(value(b"A"))
        later = self.protocol.get(b"b")
        self.clock.advance(9)
        assert not later.called
        self.clock.advance(1)
        self.failureResultOf(later, ConnectionLost)

    def test_no_delayed_call_is_left_after_the_replies(self) -> None:
        first, second = self.protocol.get(b"a"), self.protocol.get(b"b")
        assert len(self.clock.getDelayedCalls()) == 1
        self.protocol.dataReceived(value(b"A") + value(b"B"))
        assert self.clock.getDelayedCalls() == []
        self.successResultOf(first)
        self.successResultOf(second)

    def test_no_delayed_call_is_left_after_an_error_reply(self) -> None:
        failed = self.protocol.get(b"a")
        self.protocol.dataReceived(messages.encode_error(NotFound(b"Not_found")))
        self.failureResultOf(failed, NotFound)
        assert self.clock.getDelayedCalls() == []

    def test_no_delayed_call_is_left_after_connection_loss(self) -> None:
        pending = self.protocol.get(b"a")
        lose(self.protocol)
        self.failureResultOf(pending, ConnectionLost)
        assert self.clock.getDelayedCalls() == []

    def test_no_delayed_call_is_left_after_a_closing_reply(self) -> None:
        pending = self.protocol.get(b"a")
        self.protocol.dataReceived(messages.encode_error(UnknownFailure(b"boom")))
        self.failureResultOf(pending, UnknownFailure)
        assert self.clock.getDelayedCalls() == []

    def test_unsent_requests_alone_start_no_deadline(self) -> None:
        self.protocol.pauseProducing()
        unsent = self.protocol.get(b"a")
        self.clock.advance(3600)
        assert not unsent.called
        assert self.protocol.connected
        self.protocol.resumeProducing()
        assert len(self.clock.getDelayedCalls()) == 1
        self.protocol.dataReceived(value(b"A"))
        assert self.successResultOf(unsent) == b"A"

    def test_cancelled_request_still_owes_a_reply(self) -> None:
        pending = self.protocol.get(b"a")
        pending.cancel()
        self.clock.advance(10)
        self.failureResultOf(pending, CancelledError)
        assert self.transport.disconnected

    def test_silence_timeout_needs_a_clock(self) -> None:
        with pytest.raises(TypeError, match="clock"):
            ArakoonProtocol(CLUSTER_ID, silence_timeout=5)

    def test_silence_timeout_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="silence_timeout"):
            ArakoonProtocol(CLUSTER_ID, silence_timeout=0, clock=self.clock)


class CollapseProgressTests(SynchronousTestCase):
    def test_progress_values_arrive_as_the_frames_do(self) -> None:
        protocol, transport = connected()
        progress: list[int] = []
        collapsing = protocol.collapse_tlogs(4, progress.append)
        assert take(transport) == messages.collapse_tlogs(4).serialize()
        protocol.dataReceived(collapse_header(3) + frame(12608))
        assert progress == [12608]
        protocol.dataReceived(frame(15284))
        assert progress == [12608, 15284]
        assert not collapsing.called
        protocol.dataReceived(frame(17906))
        assert self.successResultOf(collapsing) == 3
        assert progress == [12608, 15284, 17906]

    def test_collapse_without_a_callback_returns_the_count(self) -> None:
        protocol, _ = connected()
        collapsing = protocol.collapse_tlogs(1)
        protocol.dataReceived(collapse_header(2) + frame(1) + frame(2))
        assert self.successResultOf(collapsing) == 2

    def test_failing_frame_fails_the_request_and_closes(self) -> None:
        protocol, transport = connected()
        progress: list[int] = []
        collapsing = protocol.collapse_tlogs(1, progress.append)
        follower = protocol.get(b"a")
        failure = messages.encode_error(UnknownFailure(b"Collapsing already in progress"))
        protocol.dataReceived(collapse_header(2) + frame(5) + failure)
        assert outcome(collapsing) == (
            "error",
            UnknownFailure,
            0xFF,
            b"Collapsing already in progress",
        )
        assert progress == [5]
        assert outcome(follower) == ("error", RequestNotProcessed, False)
        assert transport.disconnecting


def test_raising_progress_callback_is_not_a_protocol_violation() -> None:
    protocol, _ = connected()

    def progress(value: int) -> None:
        raise RuntimeError("caller bug")

    collapsing = protocol.collapse_tlogs(1, progress)
    follower = protocol.get(b"a")
    protocol.dataReceived(collapse_header(1) + frame(7) + value(b"A"))
    failure = SynchronousTestCase().failureResultOf(collapsing, CallbackError)
    assert isinstance(failure.value.__cause__, RuntimeError)
    assert outcome(follower) == ("value", b"A")
    assert protocol.connected


class CloseTests(SynchronousTestCase):
    def test_close_fires_when_the_connection_is_lost(self) -> None:
        protocol, transport = connected()
        closed = protocol.close()
        assert transport.disconnecting
        assert not protocol.connected
        assert not closed.called
        lose(protocol)
        assert self.successResultOf(closed) is None

    def test_replies_arriving_after_close_are_still_delivered(self) -> None:
        protocol, _ = connected()
        pending = protocol.get(b"a")
        protocol.close()
        protocol.dataReceived(value(b"A"))
        assert self.successResultOf(pending) == b"A"

    def test_close_fails_unsent_requests_at_once(self) -> None:
        protocol, transport = connected(max_in_flight=1)
        written, unsent = protocol.get(b"a"), protocol.get(b"b")
        take(transport)
        protocol.close()
        assert outcome(unsent) == ("error", RequestNotProcessed, False)
        protocol.dataReceived(value(b"A"))
        assert self.successResultOf(written) == b"A"
        assert take(transport) == b""

    def test_an_unsent_request_cancelled_by_the_failure_of_another_fails_once(self) -> None:
        protocol, _ = connected(max_in_flight=1)
        protocol.get(b"a")  # written
        first = protocol.get(b"b")
        second = protocol.get(b"c")
        first.addErrback(cancel_then_fail, second)
        protocol.close()
        self.failureResultOf(first, RequestNotProcessed)
        self.failureResultOf(second, CancelledError)

    def test_calls_after_close_fail_with_not_connected(self) -> None:
        protocol, _ = connected()
        protocol.close()
        self.failureResultOf(protocol.get(b"a"), NotConnectedError)

    def test_close_of_a_never_connected_protocol_fires_at_once(self) -> None:
        protocol = ArakoonProtocol(CLUSTER_ID)
        assert self.successResultOf(protocol.close()) is None

    def test_close_after_loss_fires_at_once(self) -> None:
        protocol, _ = connected()
        lose(protocol)
        assert self.successResultOf(protocol.close()) is None

    def test_when_lost_fires_on_loss_for_every_waiter(self) -> None:
        protocol, _ = connected()
        waiters = [protocol.when_lost(), protocol.when_lost()]
        assert not any(w.called for w in waiters)
        lose(protocol)
        assert [self.successResultOf(w) for w in waiters] == [None, None]
        assert self.successResultOf(protocol.when_lost()) is None

    def test_when_lost_fires_after_the_pending_requests_failed(self) -> None:
        protocol, _ = connected()
        order: list[str] = []
        protocol.get(b"a").addErrback(lambda _: order.append("request"))
        protocol.when_lost().addCallback(lambda _: order.append("lost"))
        lose(protocol)
        assert order == ["request", "lost"]


class ConnectionSetUpTests(SynchronousTestCase):
    def test_prologue_is_the_first_thing_written(self) -> None:
        protocol = ArakoonProtocol("arakoon")
        transport = StringTransport()
        protocol.makeConnection(transport)
        assert transport.value() == messages.prologue(b"arakoon")
        assert protocol.connected

    def test_tcp_nodelay_is_requested(self) -> None:
        protocol = ArakoonProtocol(CLUSTER_ID)
        transport = NoDelayTransport()
        protocol.makeConnection(transport)
        assert transport.no_delay == [True]

    def test_transport_without_tcp_nodelay_is_fine(self) -> None:
        protocol, _ = connected()
        assert protocol.connected

    def test_protocol_registers_as_a_streaming_producer(self) -> None:
        protocol, transport = connected()
        assert transport.producer is protocol
        assert transport.streaming

    def test_cluster_id_of_the_wrong_type_is_a_type_error_naming_it(self) -> None:
        with pytest.raises(TypeError, match="cluster_id"):
            ArakoonProtocol(7)  # type: ignore[arg-type]

    def test_limits_are_validated(self) -> None:
        for settings, error in (
            ({"max_in_flight": 0}, ValueError),
            ({"max_in_flight": True}, TypeError),
            ({"max_in_flight": 1.5}, TypeError),
            ({"max_reply_length": -1}, ValueError),
            ({"max_reply_length": "64"}, TypeError),
        ):
            with pytest.raises(error):
                ArakoonProtocol(CLUSTER_ID, **settings)

    def test_defaults(self) -> None:
        protocol = ArakoonProtocol(CLUSTER_ID)
        assert protocol.max_in_flight == DEFAULT_MAX_IN_FLIGHT
        assert protocol.max_reply_length == 64 * 1024 * 1024
        assert protocol.silence_timeout is None
        assert not protocol.connected

    def test_factory_builds_protocols_with_its_settings(self) -> None:
        factory = ArakoonProtocolFactory("arakoon", max_in_flight=3)
        protocol = factory.buildProtocol(None)
        assert protocol.cluster_id == b"arakoon"
        assert protocol.max_in_flight == 3
        assert protocol.factory is factory

    def _connect_through(self, reactor: MemoryReactorClock, attempt: Any) -> ArakoonProtocol:
        _, _, factory, _, _ = reactor.tcpClients[-1]
        wrapper = factory.buildProtocol(None)
        wrapper.makeConnection(StringTransport())
        protocol: ArakoonProtocol = self.successResultOf(attempt)
        return protocol

    def test_connect_with_an_endpoint_string(self) -> None:
        reactor = MemoryReactorClock()
        attempt = connect(reactor, "tcp:host=127.0.0.1:port=4000", b"arakoon", max_in_flight=2)
        assert reactor.tcpClients[0][:2] == ("127.0.0.1", 4000)
        protocol = self._connect_through(reactor, attempt)
        assert isinstance(protocol, ArakoonProtocol)
        assert protocol.connected
        assert protocol.max_in_flight == 2
        assert protocol.transport is not None
        assert protocol.transport.value() == messages.prologue(b"arakoon")  # type: ignore[attr-defined]

    def test_connect_with_an_endpoint(self) -> None:
        reactor = MemoryReactorClock()
        endpoint = TCP4ClientEndpoint(reactor, "10.0.0.1", 4001)
        attempt = connect(reactor, endpoint, "arakoon")
        assert reactor.tcpClients[0][:2] == ("10.0.0.1", 4001)
        protocol = self._connect_through(reactor, attempt)
        assert protocol.cluster_id == b"arakoon"
        pending = protocol.get(b"a")
        protocol.dataReceived(value(b"A"))
        assert self.successResultOf(pending) == b"A"

    def test_string_keys_are_sent_as_utf8(self) -> None:
        protocol, transport = connected()
        protocol.get("sl\u00fcssel").addErrback(lambda _: None)
        assert take(transport) == messages.GET(Consistent, "sl\u00fcssel".encode()).serialize()


def test_cancelling_an_unsent_request_says_it_was_never_written() -> None:
    from twisted.internet.defer import CancelledError

    from txarakoon.protocol import CancelledBeforeSending

    protocol, transport = connected()
    protocol.pauseProducing()
    waiting = protocol.get(b"k")
    written_before = transport.value()
    waiting.cancel()
    failure = SynchronousTestCase().failureResultOf(waiting, CancelledBeforeSending)
    assert isinstance(failure.value, CancelledError)
    assert failure.value.applied is False
    protocol.resumeProducing()
    assert transport.value() == written_before


def _failure_of(deferred: Any) -> Failure:
    seen: list[Failure] = []
    deferred.addErrback(seen.append)
    assert len(seen) == 1
    return seen[0]


def test_a_peer_that_echoes_the_request_is_not_an_arakoon_node() -> None:
    protocol, transport = connected()
    pending = protocol.get(b"k")
    protocol.dataReceived(take(transport))
    failure = _failure_of(pending)
    assert failure.check(ProtocolViolation)
    assert str(failure.value).startswith("not an Arakoon node: its reply starts with 08 00 ff b1")
    assert transport.disconnecting


def test_a_tls_record_in_reply_says_the_port_speaks_tls() -> None:
    protocol, _ = connected()
    pending = protocol.nop()
    # What a TLS server answers to bytes that are no TLS: an alert record.
    protocol.dataReceived(b"\x15\x03\x01\x00\x02\x02\x46")
    failure = _failure_of(pending)
    assert failure.check(ProtocolViolation)
    assert "its port speaks TLS, so configure TLS for it" in str(failure.value)


def test_the_largest_return_code_is_still_a_server_error() -> None:
    protocol, _ = connected()
    pending = protocol.nop()
    protocol.dataReceived(b"\xff\x00\x00\x00" + STRING.encode(b"boom"))
    assert _failure_of(pending).check(UnknownFailure)
