"""The owner's hook of :class:`ArakoonProtocol` (``submit``): failures go to
the owner's handler before the request's Deferred fires, and deadlines are
timed by one timer per connection, exactly, and never while nothing is pending."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txarakoon import messages
from txarakoon.codec import STRING
from txarakoon.consistency import Consistent
from txarakoon.errors import ConnectionLost, NotConnectedError, NotFound, RequestNotProcessed
from txarakoon.messages import Message, encode_success
from txarakoon.protocol import (
    ArakoonProtocol,
    DeadlinePassed,
    OwnedRequest,
    RequestInterrupted,
)

from .helpers.protocol import connect, error_reply, take


def value(data: bytes) -> bytes:
    return encode_success(STRING, data)


class Owner:
    """A failure handler that records what it was given and answers
    ``answer`` (an exception, a Deferred, or ``None``: the error itself)."""

    def __init__(self) -> None:
        self.seen: list[tuple[Message[Any], BaseException, Any, bool]] = []
        self.answer: BaseException | Deferred[Any] | None = None

    def __call__(
        self, request: OwnedRequest, error: BaseException
    ) -> BaseException | Deferred[Any]:
        self.seen.append((request.message, error, request.context, request.deferred.called))
        return error if self.answer is None else self.answer

    @property
    def errors(self) -> list[BaseException]:
        return [error for _, error, _, _ in self.seen]


class OwnerTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.owner = Owner()

    def connected(self, **settings: Any) -> tuple[ArakoonProtocol, Any]:
        return connect(clock=self.clock, **settings)

    def submit(
        self, protocol: ArakoonProtocol, key: bytes = b"k", deadline: float | None = None
    ) -> Deferred[bytes]:
        return protocol.submit(
            messages.GET(Consistent, key), self.owner, ("context", key), deadline
        )

    def timers(self) -> list[float]:
        return sorted(call.getTime() for call in self.clock.getDelayedCalls())


class SuccessTests(OwnerTestCase):
    def test_a_reply_fires_the_deferred_without_the_handler(self) -> None:
        protocol, transport = self.connected()
        deferred = self.submit(protocol)
        assert take(transport) == messages.GET(Consistent, b"k").serialize()
        protocol.dataReceived(value(b"v"))
        assert self.successResultOf(deferred) == b"v"
        assert self.owner.seen == []

    def test_replies_to_commands_and_owned_requests_stay_in_order(self) -> None:
        protocol, _ = self.connected()
        command = protocol.get(b"a")
        owned = self.submit(protocol, b"b", deadline=5.0)
        last = protocol.get(b"c")
        protocol.dataReceived(value(b"A") + value(b"B") + value(b"C"))
        assert [self.successResultOf(d) for d in (command, owned, last)] == [b"A", b"B", b"C"]


class FailureHandlerTests(OwnerTestCase):
    def test_an_error_reply_goes_to_the_handler_before_the_deferred_fires(self) -> None:
        protocol, _ = self.connected()
        deferred = self.submit(protocol)
        protocol.dataReceived(error_reply(0x05, b"k"))
        ((message, error, context, called),) = self.owner.seen
        assert (message.command, type(error), context, called) == (
            messages.GET,
            NotFound,
            ("context", b"k"),
            False,
        )
        self.failureResultOf(deferred, NotFound)

    def test_the_handler_may_fail_the_deferred_with_its_own_error(self) -> None:
        protocol, _ = self.connected()
        self.owner.answer = KeyError("mine")
        deferred = self.submit(protocol)
        protocol.dataReceived(error_reply(0x05, b"k"))
        assert self.failureResultOf(deferred, KeyError).value is self.owner.answer

    def test_a_deferred_following_a_retry_stays_unfired_until_the_retry_ends(self) -> None:
        protocol, _ = self.connected()
        retry: Deferred[bytes] = Deferred()
        self.owner.answer = retry
        deferred = self.submit(protocol)
        protocol.dataReceived(error_reply(0x05, b"k"))
        assert not deferred.called
        retry.callback(b"from the retry")
        assert self.successResultOf(deferred) == b"from the retry"

    def test_a_retry_that_fails_fails_the_deferred(self) -> None:
        protocol, _ = self.connected()
        retry: Deferred[bytes] = Deferred()
        self.owner.answer = retry
        deferred = self.submit(protocol)
        protocol.dataReceived(error_reply(0x05, b"k"))
        retry.errback(ValueError("retry failed"))
        self.failureResultOf(deferred, ValueError)

    def test_cancelling_a_deferred_that_follows_a_retry_cancels_the_retry(self) -> None:
        protocol, _ = self.connected()
        cancelled: list[Deferred[Any]] = []
        retry: Deferred[bytes] = Deferred(cancelled.append)
        self.owner.answer = retry
        deferred = self.submit(protocol)
        protocol.dataReceived(error_reply(0x05, b"k"))
        deferred.cancel()
        assert cancelled == [retry]
        self.failureResultOf(deferred, CancelledError)

    def test_a_lost_connection_says_whether_each_request_was_written(self) -> None:
        protocol, _ = self.connected(max_in_flight=1)
        written, unsent = self.submit(protocol, b"a"), self.submit(protocol, b"b")
        protocol.connectionLost(Failure(ConnectionDone("closed")))
        assert [(type(error), error.applied) for error in self.owner.errors] == [  # type: ignore[attr-defined]
            (ConnectionLost, None),
            (RequestNotProcessed, False),
        ]
        self.failureResultOf(written, ConnectionLost)
        self.failureResultOf(unsent, RequestNotProcessed)

    def test_a_request_cancelled_by_the_failure_of_another_fails_once(self) -> None:
        protocol, _ = self.connected()
        first = self.submit(protocol, b"a")
        second = self.submit(protocol, b"b")

        def cancel_second(failure: Failure) -> Failure:
            second.cancel()
            return failure

        first.addErrback(cancel_second)
        protocol.connectionLost(Failure(ConnectionDone("closed")))
        self.failureResultOf(first, ConnectionLost)
        self.failureResultOf(second, CancelledError)
        assert [type(error) for error in self.owner.errors] == [ConnectionLost]

    def test_the_caller_cancelling_is_not_a_failure_for_the_handler(self) -> None:
        protocol, _ = self.connected()
        deferred = self.submit(protocol, deadline=5.0)
        deferred.cancel()
        self.failureResultOf(deferred, CancelledError)
        protocol.dataReceived(value(b"dropped"))
        assert self.owner.seen == []

    def test_not_connected_fails_at_once_without_the_handler(self) -> None:
        protocol = ArakoonProtocol(b"arakoon", clock=self.clock)
        self.failureResultOf(self.submit(protocol), NotConnectedError)
        assert self.owner.seen == []


class DeadlineTests(OwnerTestCase):
    def test_a_deadline_fires_exactly_on_time(self) -> None:
        protocol, _ = self.connected()
        deferred = self.submit(protocol, deadline=2.0)
        self.clock.advance(1.999)
        self.assertNoResult(deferred)
        self.clock.advance(0.001)
        error = self.failureResultOf(deferred, DeadlinePassed).value
        assert (error.sent, error.applied) == (True, None)
        assert self.clock.seconds() == 2.0

    def test_the_handler_sees_a_deadline_like_any_failure(self) -> None:
        protocol, _ = self.connected()
        self.owner.answer = TimeoutError("the owner's")
        deferred = self.submit(protocol, deadline=2.0)
        self.clock.advance(2.0)
        assert [type(error) for error in self.owner.errors] == [DeadlinePassed]
        self.failureResultOf(deferred, TimeoutError)

    def test_many_pending_requests_arm_one_timer(self) -> None:
        protocol, _ = self.connected()
        for index in range(50):
            self.submit(protocol, deadline=2.0 + index)
        assert self.timers() == [2.0]

    def test_no_timer_is_left_once_the_requests_are_answered(self) -> None:
        protocol, _ = self.connected()
        deferreds = [self.submit(protocol, deadline=2.0) for _ in range(3)]
        protocol.dataReceived(value(b"v") * 3)
        assert [self.successResultOf(d) for d in deferreds] == [b"v"] * 3
        assert self.clock.getDelayedCalls() == []

    def test_no_timer_is_left_once_the_last_is_cancelled(self) -> None:
        protocol, _ = self.connected()
        deferred = self.submit(protocol, deadline=2.0)
        deferred.cancel()
        self.failureResultOf(deferred, CancelledError)
        assert self.clock.getDelayedCalls() == []

    def test_cancelling_one_of_two_keeps_the_other_timed(self) -> None:
        protocol, _ = self.connected()
        first = self.submit(protocol, b"a", deadline=2.0)
        second = self.submit(protocol, b"b", deadline=3.0)
        first.cancel()
        self.failureResultOf(first, CancelledError)
        self.clock.advance(2.0)
        assert self.timers() == [3.0]
        self.clock.advance(1.0)
        self.failureResultOf(second, DeadlinePassed)
        assert self.clock.getDelayedCalls() == []

    def test_a_timer_that_finds_no_deadline_pending_is_gone(self) -> None:
        protocol, _ = self.connected()
        timed = self.submit(protocol, b"a", deadline=2.0)
        untimed = self.submit(protocol, b"b")
        protocol.dataReceived(value(b"A"))
        assert self.successResultOf(timed) == b"A"
        self.clock.advance(2.0)  # (answers do not move the timer)
        assert self.clock.getDelayedCalls() == []
        self.assertNoResult(untimed)
        later = self.submit(protocol, b"c", deadline=3.0)
        assert self.timers() == [3.0]
        self.clock.advance(1.0)
        self.failureResultOf(later, DeadlinePassed)

    def test_cancelling_the_last_pending_request_leaves_no_timer(self) -> None:
        protocol, _ = self.connected()
        timed = self.submit(protocol, b"a", deadline=2.0)
        protocol.pauseProducing()
        untimed = self.submit(protocol, b"b")  # waits, unsent
        protocol.dataReceived(value(b"A"))  # (answers do not move the timer)
        self.successResultOf(timed)
        untimed.cancel()
        self.failureResultOf(untimed, CancelledError)
        assert protocol.pending == 0
        assert self.clock.getDelayedCalls() == []

    def test_requests_without_a_deadline_arm_no_timer(self) -> None:
        protocol, _ = self.connected()
        self.submit(protocol)
        protocol.get(b"k")
        assert self.clock.getDelayedCalls() == []

    def test_later_requests_time_out_at_their_own_deadlines(self) -> None:
        protocol, _ = self.connected()
        early = self.submit(protocol, deadline=2.0)
        self.clock.advance(0.5)
        late = self.submit(protocol, deadline=2.5)
        self.clock.advance(1.5)
        self.failureResultOf(early, DeadlinePassed)
        self.assertNoResult(late)
        assert self.timers() == [2.5]
        self.clock.advance(0.5)
        self.failureResultOf(late, DeadlinePassed)
        assert self.clock.getDelayedCalls() == []

    def test_an_answered_head_moves_the_timer_to_the_next_deadline(self) -> None:
        protocol, _ = self.connected()
        first = self.submit(protocol, deadline=1.0)
        second = self.submit(protocol, deadline=3.0)
        protocol.dataReceived(value(b"v"))
        self.successResultOf(first)
        self.clock.advance(1.0)  # the timer finds its request answered
        assert self.timers() == [3.0]
        self.clock.advance(2.0)
        self.failureResultOf(second, DeadlinePassed)

    def test_a_shorter_deadline_fires_before_the_requests_made_earlier(self) -> None:
        protocol, _ = self.connected()
        long = self.submit(protocol, b"long", deadline=8.0)
        short = self.submit(protocol, b"short", deadline=2.0)
        later = self.submit(protocol, b"later", deadline=5.0)
        self.clock.advance(2.0)
        self.failureResultOf(short, DeadlinePassed)
        self.assertNoResult(long)
        self.clock.advance(3.0)
        self.failureResultOf(later, DeadlinePassed)
        self.assertNoResult(long)
        self.clock.advance(3.0)
        self.failureResultOf(long, DeadlinePassed)
        assert self.clock.seconds() == 8.0

    def test_a_written_request_past_its_deadline_keeps_its_place(self) -> None:
        protocol, _ = self.connected()
        timed_out = self.submit(protocol, b"a", deadline=1.0)
        behind = self.submit(protocol, b"b", deadline=10.0)
        self.clock.advance(1.0)
        self.failureResultOf(timed_out, DeadlinePassed)
        protocol.dataReceived(value(b"A") + value(b"B"))
        assert self.successResultOf(behind) == b"B"

    def test_an_unsent_request_past_its_deadline_is_never_written(self) -> None:
        protocol, transport = self.connected(max_in_flight=1)
        head = self.submit(protocol, b"a", deadline=10.0)
        unsent = self.submit(protocol, b"b", deadline=1.0)
        take(transport)
        self.clock.advance(1.0)
        error = self.failureResultOf(unsent, DeadlinePassed).value
        assert (error.sent, error.applied) == (False, False)
        protocol.dataReceived(value(b"A"))
        self.successResultOf(head)
        assert take(transport) == b""
        assert protocol.pending == 0

    def test_a_request_sent_from_a_deadline_failure_is_timed(self) -> None:
        protocol, _ = self.connected()
        again: list[Deferred[bytes]] = []
        deferred = self.submit(protocol, deadline=1.0)
        deferred.addErrback(lambda _: again.append(self.submit(protocol, deadline=3.0)))
        self.clock.advance(1.0)
        assert self.timers() == [3.0]
        self.clock.advance(2.0)
        self.failureResultOf(again[0], DeadlinePassed)

    def test_a_connection_loss_leaves_no_timer(self) -> None:
        protocol, _ = self.connected()
        deferred = self.submit(protocol, deadline=2.0)
        protocol.connectionLost(Failure(ConnectionDone("closed")))
        self.failureResultOf(deferred, ConnectionLost)
        assert self.clock.getDelayedCalls() == []


class InterruptTests(OwnerTestCase):
    def test_interrupting_fails_each_owned_request_through_its_handler(self) -> None:
        protocol, _ = self.connected(max_in_flight=1)
        written = self.submit(protocol, b"a", deadline=5.0)
        unsent = self.submit(protocol, b"b", deadline=5.0)
        protocol.interrupt_owned("stop")
        assert [(type(e), e.why, e.sent) for e in self.owner.errors] == [  # type: ignore[attr-defined]
            (RequestInterrupted, "stop", True),
            (RequestInterrupted, "stop", False),
        ]
        self.failureResultOf(written, RequestInterrupted)
        self.failureResultOf(unsent, RequestInterrupted)
        assert self.clock.getDelayedCalls() == []

    def test_interrupted_requests_whose_replies_are_owed_leave_no_timer(self) -> None:
        protocol, _ = self.connected()
        written = [self.submit(protocol, key, deadline=5.0) for key in (b"a", b"b")]
        protocol.interrupt_owned("stop")
        for deferred in written:
            self.failureResultOf(deferred, RequestInterrupted)
        assert protocol.in_flight == 2  # their replies are still read
        assert self.clock.getDelayedCalls() == []

    def test_interrupting_leaves_commands_alone_and_replies_matched(self) -> None:
        protocol, _ = self.connected()
        owned = self.submit(protocol, b"a")
        command = protocol.get(b"b")
        protocol.interrupt_owned("stop")
        self.failureResultOf(owned, RequestInterrupted)
        self.assertNoResult(command)
        protocol.dataReceived(value(b"A") + value(b"B"))
        assert self.successResultOf(command) == b"B"


class TimeoutTests(OwnerTestCase):
    def timed(self, protocol: ArakoonProtocol, timeout: Any, key: bytes = b"k") -> Deferred[bytes]:
        return protocol.submit(messages.GET(Consistent, key), self.owner, None, None, timeout)

    def test_a_timeout_counts_from_when_the_request_is_sent(self) -> None:
        protocol, _ = self.connected()
        self.clock.advance(1.0)
        deferred = self.timed(protocol, 2.0)
        assert self.timers() == [3.0]
        self.clock.advance(1.999)
        self.assertNoResult(deferred)
        self.clock.advance(0.001)
        self.failureResultOf(deferred, DeadlinePassed)

    def test_a_request_sent_from_a_reply_counts_from_the_replys_arrival(self) -> None:
        protocol, _ = self.connected(silence_timeout=100.0)
        sent: list[Deferred[bytes]] = []
        first = self.timed(protocol, 2.0)
        first.addCallback(lambda _: sent.append(self.timed(protocol, 2.0, b"next")))
        self.clock.advance(1.5)
        protocol.dataReceived(value(b"v"))
        self.clock.advance(1.999)
        self.assertNoResult(sent[0])
        self.clock.advance(0.001)
        self.failureResultOf(sent[0], DeadlinePassed)
        assert self.clock.seconds() == 3.5

    def test_a_request_sent_after_long_callback_work_counts_from_when_it_is_sent(self) -> None:
        protocol, _ = self.connected(silence_timeout=100.0)
        sent: list[Deferred[bytes]] = []

        def work_then_send(_: object) -> None:
            self.clock.advance(1.5)  # the callback's own work, before it sends
            sent.append(self.timed(protocol, 1.0, b"next"))

        self.timed(protocol, 2.0).addCallback(work_then_send)
        protocol.dataReceived(value(b"v"))
        self.clock.advance(0.999)
        self.assertNoResult(sent[0])
        self.clock.advance(0.001)
        self.failureResultOf(sent[0], DeadlinePassed)

    def test_an_integer_timeout_is_fine(self) -> None:
        protocol, _ = self.connected()
        deferred = self.timed(protocol, 2)
        self.clock.advance(2)
        self.failureResultOf(deferred, DeadlinePassed)

    def test_a_deadline_and_a_timeout_together_are_refused(self) -> None:
        protocol, transport = self.connected()
        with pytest.raises(TypeError, match="not both"):
            protocol.submit(messages.GET(Consistent, b"k"), self.owner, None, 2.0, 2.0)
        assert (take(transport), protocol.pending) == (b"", 0)

    def test_a_timeout_must_be_a_number(self) -> None:
        protocol, transport = self.connected()
        with pytest.raises(TypeError, match="timeout"):
            self.timed(protocol, True)
        assert (take(transport), protocol.pending) == (b"", 0)

    def test_a_timeout_sent_from_a_reply_must_be_a_number_too(self) -> None:
        protocol, transport = self.connected(silence_timeout=100.0)
        first = protocol.submit(messages.GET(Consistent, b"k"), self.owner)
        first.addCallback(lambda _: self.timed(protocol, "soon"))
        take(transport)
        protocol.dataReceived(value(b"v"))
        assert "timeout" in str(self.failureResultOf(first, TypeError).value)
        assert (take(transport), protocol.pending) == (b"", 0)

    def test_a_timeout_must_not_be_nan(self) -> None:
        protocol, transport = self.connected()
        with pytest.raises(ValueError, match="NaN"):
            self.timed(protocol, float("nan"))
        assert (take(transport), protocol.pending) == (b"", 0)

    def test_a_timeout_needs_a_clock(self) -> None:
        protocol, transport = connect()
        with pytest.raises(TypeError, match="clock"):
            self.timed(protocol, 1.0)
        assert take(transport) == b""

    def test_every_request_sent_counts(self) -> None:
        protocol, _ = self.connected()
        for _ in range(3):
            self.submit(protocol)
        protocol.get(b"k")  # a command: not the owner's
        assert protocol.requests_sent == 3


class BadDeadlineTests(OwnerTestCase):
    def test_a_deadline_needs_a_clock(self) -> None:
        protocol, transport = connect()
        with pytest.raises(TypeError, match="clock"):
            self.submit(protocol, deadline=1.0)
        assert take(transport) == b""

    def test_a_deadline_must_be_a_number(self) -> None:
        protocol, transport = self.connected()
        with pytest.raises(TypeError, match="deadline"):
            self.submit(protocol, deadline="soon")  # type: ignore[arg-type]
        assert (take(transport), protocol.pending) == (b"", 0)

    def test_a_deadline_must_not_be_nan(self) -> None:
        protocol, transport = self.connected()
        with pytest.raises(ValueError, match="NaN"):
            self.submit(protocol, deadline=float("nan"))
        assert (take(transport), protocol.pending) == (b"", 0)

    def test_an_integer_deadline_is_fine(self) -> None:
        protocol, _ = self.connected()
        deferred = self.submit(protocol, deadline=2)
        self.clock.advance(2)
        self.failureResultOf(deferred, DeadlinePassed)
