"""Backpressure and the in-flight limit of :class:`ArakoonProtocol` (DESIGN.md
rule 6): requests wait, unsent and in order, while the transport is paused or
``max_in_flight`` requests are unanswered."""

from __future__ import annotations

from twisted.internet.defer import CancelledError
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txarakoon import messages
from txarakoon.codec import STRING
from txarakoon.consistency import Consistent
from txarakoon.errors import ConnectionLost, NotFound, RequestNotProcessed
from txarakoon.messages import encode_error, encode_success
from txarakoon.protocol import ArakoonProtocol

from .helpers.protocol import CLUSTER_ID, connect, outcome, take


def value(data: bytes) -> bytes:
    return encode_success(STRING, data)


def get(key: bytes) -> bytes:
    """The request bytes of a consistent ``get``."""
    return messages.GET(Consistent, key).serialize()


class FillingTransport(StringTransport):
    """Pauses its producer once more than ``high`` bytes are buffered, as a
    real transport's write buffer does."""

    def __init__(self, high: int) -> None:
        super().__init__()
        self.high = high

    def write(self, data: bytes) -> None:
        super().write(data)
        if len(self.value()) > self.high and self.producer is not None:
            self.producer.pauseProducing()

    def drain(self) -> bytes:
        data: bytes = self.value()
        self.clear()
        if self.producer is not None:
            self.producer.resumeProducing()
        return data


class PauseResumeTests(SynchronousTestCase):
    def test_requests_made_while_paused_are_queued_unsent(self) -> None:
        protocol, transport = connect()
        protocol.pauseProducing()
        pending = [protocol.get(b"a"), protocol.get(b"b")]
        assert take(transport) == b""
        assert protocol.pending == 2
        assert not any(d.called for d in pending)

    def test_resume_writes_the_queued_requests_in_order(self) -> None:
        protocol, transport = connect()
        protocol.pauseProducing()
        first, second, third = protocol.get(b"a"), protocol.get(b"b"), protocol.get(b"c")
        protocol.resumeProducing()
        assert take(transport) == get(b"a") + get(b"b") + get(b"c")
        protocol.dataReceived(value(b"A") + value(b"B") + value(b"C"))
        assert [self.successResultOf(d) for d in (first, second, third)] == [b"A", b"B", b"C"]

    def test_replies_to_written_requests_are_read_while_paused(self) -> None:
        protocol, transport = connect()
        written = protocol.get(b"a")
        protocol.pauseProducing()
        unsent = protocol.get(b"b")
        take(transport)
        protocol.dataReceived(value(b"A"))
        assert self.successResultOf(written) == b"A"
        assert take(transport) == b""
        protocol.resumeProducing()
        assert take(transport) == get(b"b")
        protocol.dataReceived(value(b"B"))
        assert self.successResultOf(unsent) == b"B"

    def test_request_made_after_resume_goes_behind_the_queued_ones(self) -> None:
        protocol, transport = connect(max_in_flight=2)
        protocol.pauseProducing()
        queued = [protocol.get(b"a"), protocol.get(b"b"), protocol.get(b"c")]
        protocol.resumeProducing()
        later = protocol.get(b"d")
        assert take(transport) == get(b"a") + get(b"b")
        protocol.dataReceived(value(b"A"))
        assert take(transport) == get(b"c")
        protocol.dataReceived(value(b"B"))
        assert take(transport) == get(b"d")
        protocol.dataReceived(value(b"C") + value(b"D"))
        assert [self.successResultOf(d) for d in (*queued, later)] == [b"A", b"B", b"C", b"D"]

    def test_a_write_that_fills_the_transport_queues_the_rest(self) -> None:
        protocol = ArakoonProtocol(CLUSTER_ID)
        transport = FillingTransport(high=len(get(b"a")) * 2)
        protocol.makeConnection(transport)
        transport.clear()
        pending = [protocol.get(key) for key in (b"a", b"b", b"c", b"d", b"e")]
        assert transport.drain() == get(b"a") + get(b"b") + get(b"c")
        assert transport.drain() == get(b"d") + get(b"e")
        protocol.dataReceived(b"".join(value(k.upper()) for k in (b"a", b"b", b"c", b"d", b"e")))
        assert [self.successResultOf(d) for d in pending] == [b"A", b"B", b"C", b"D", b"E"]

    def test_stop_producing_writes_nothing_more(self) -> None:
        protocol, transport = connect()
        protocol.stopProducing()
        pending = protocol.get(b"a")
        assert take(transport) == b""
        protocol.connectionLost(Failure(ConnectionLost("gone")))
        assert outcome(pending) == ("error", RequestNotProcessed, False)

    def test_resume_after_loss_writes_nothing(self) -> None:
        protocol, transport = connect()
        protocol.pauseProducing()
        pending = protocol.get(b"a")
        protocol.connectionLost(Failure(ConnectionLost("gone")))
        protocol.resumeProducing()
        assert take(transport) == b""
        assert outcome(pending) == ("error", RequestNotProcessed, False)

    def test_loss_while_paused_separates_written_from_unsent(self) -> None:
        protocol, _ = connect()
        written = protocol.set(b"a", b"v")
        protocol.pauseProducing()
        unsent = protocol.set(b"b", b"v")
        protocol.connectionLost(Failure(ConnectionLost("gone")))
        assert outcome(written) == ("error", ConnectionLost, None)
        assert outcome(unsent) == ("error", RequestNotProcessed, False)

    def test_cancelled_unsent_request_is_never_written(self) -> None:
        protocol, transport = connect()
        protocol.pauseProducing()
        kept, removed = protocol.get(b"a"), protocol.get(b"b")
        removed.cancel()
        self.failureResultOf(removed, CancelledError)
        assert protocol.pending == 1
        protocol.resumeProducing()
        assert take(transport) == get(b"a")
        protocol.dataReceived(value(b"A"))
        assert self.successResultOf(kept) == b"A"


class InFlightLimitTests(SynchronousTestCase):
    def test_requests_beyond_the_limit_are_queued(self) -> None:
        protocol, transport = connect(max_in_flight=2)
        for key in (b"a", b"b", b"c", b"d"):
            protocol.get(key).addErrback(lambda _: None)
        assert take(transport) == get(b"a") + get(b"b")
        assert protocol.pending == 4

    def test_each_reply_lets_one_queued_request_be_written(self) -> None:
        protocol, transport = connect(max_in_flight=2)
        pending = [protocol.get(key) for key in (b"a", b"b", b"c", b"d")]
        take(transport)
        protocol.dataReceived(value(b"A"))
        assert take(transport) == get(b"c")
        protocol.dataReceived(value(b"B"))
        assert take(transport) == get(b"d")
        protocol.dataReceived(value(b"C") + value(b"D"))
        assert take(transport) == b""
        assert [self.successResultOf(d) for d in pending] == [b"A", b"B", b"C", b"D"]

    def test_replies_in_one_chunk_write_the_queue_in_order(self) -> None:
        protocol, transport = connect(max_in_flight=1)
        pending = [protocol.get(key) for key in (b"a", b"b", b"c")]
        assert take(transport) == get(b"a")
        protocol.dataReceived(value(b"A"))
        protocol.dataReceived(value(b"B"))
        assert take(transport) == get(b"b") + get(b"c")
        protocol.dataReceived(value(b"C"))
        assert [self.successResultOf(d) for d in pending] == [b"A", b"B", b"C"]

    def test_an_error_reply_that_keeps_the_connection_frees_a_slot(self) -> None:
        protocol, transport = connect(max_in_flight=1)
        failed, queued = protocol.get(b"a"), protocol.get(b"b")
        take(transport)
        protocol.dataReceived(encode_error(NotFound(b"Not_found")))
        self.failureResultOf(failed, NotFound)
        assert take(transport) == get(b"b")
        protocol.dataReceived(value(b"B"))
        assert self.successResultOf(queued) == b"B"

    def test_a_cancelled_sent_request_holds_its_slot_until_its_reply(self) -> None:
        protocol, transport = connect(max_in_flight=1)
        cancelled, queued = protocol.get(b"a"), protocol.get(b"b")
        take(transport)
        cancelled.cancel()
        self.failureResultOf(cancelled, CancelledError)
        assert take(transport) == b""
        protocol.dataReceived(value(b"A"))
        assert take(transport) == get(b"b")
        protocol.dataReceived(value(b"B"))
        assert self.successResultOf(queued) == b"B"

    def test_no_limit_writes_everything_at_once(self) -> None:
        protocol, transport = connect(max_in_flight=None)
        for index in range(3000):
            protocol.exists(b"%d" % index).addErrback(lambda _: None)
        assert protocol.in_flight == 3000
        assert (protocol.pending - protocol.in_flight) == 0
        assert take(transport).count(messages.EXISTS.word) == 3000

    def test_default_limit_queues_beyond_1024(self) -> None:
        protocol, _ = connect()
        for index in range(1030):
            protocol.exists(b"%d" % index).addErrback(lambda _: None)
        assert protocol.in_flight == 1024
        assert (protocol.pending - protocol.in_flight) == 6

    def test_limit_and_pause_together(self) -> None:
        protocol, transport = connect(max_in_flight=1)
        first, second = protocol.get(b"a"), protocol.get(b"b")
        take(transport)
        protocol.pauseProducing()
        protocol.dataReceived(value(b"A"))
        assert take(transport) == b""  # room, but the transport is full
        protocol.resumeProducing()
        assert take(transport) == get(b"b")
        protocol.dataReceived(value(b"B"))
        assert self.successResultOf(first) == b"A"
        assert self.successResultOf(second) == b"B"
