"""Request fuzzing of the in-memory server (:mod:`txarakoon.testing`).

After a valid prologue, a :class:`~txarakoon.testing.RawClient` sends
arbitrary bytes, or request vectors that are then damaged. The server must
never fail unexpectedly (nothing logged as a failure), must leave its other
connections working, and must answer as PROTOCOL.md §1.2-§1.5 says, which
this test reads off the bytes it sent:

* each request whose arguments decode gets one reply that decodes as that
  command's reply (a value or an error); after an error code that closes the
  connection, the connection is closed and nothing follows;
* a command word without the magic gets exactly ``01 00 00 00``, an unknown
  opcode code 5 with ``"<opcode in hex>: command not found"``, and arguments
  that cannot be decoded nothing or 0xff; then the connection is closed;
* a request not yet complete gets nothing, and the connection stays open.
"""

from __future__ import annotations

import os
import struct
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.logger import globalLogPublisher

from txarakoon.codec import STRING, UINT32
from txarakoon.errors import (
    ArakoonError,
    NoMagic,
    ProtocolViolation,
    UnknownFailure,
    UnsupportedCommand,
    error_for_code,
)
from txarakoon.messages import COLLAPSE_TLOGS, COMMANDS_BY_OPCODE, MAGIC, CollapseMessage, Message
from txarakoon.protocol import ArakoonProtocol
from txarakoon.reader import NEED_DATA, Reader
from txarakoon.testing import ArakoonCluster, MemoryConnection, RawClient

from ..helpers import vectors
from ..helpers.protocol import outcome
from .support import INCOMPLETE, drive

REQUESTS = [bytes.fromhex(v["request_hex"]) for v in vectors.in_scope_requests()]
#: 2,000 examples by default (a fifth of the response fuzzing's).
FUZZ_EXAMPLES = int(os.environ.get("TXARAKOON_FUZZ_EXAMPLES", "10000"))
OPCODES = sorted(COMMANDS_BY_OPCODE)
_WORD = struct.Struct("<I")


class Server:
    """One single-node in-memory cluster for all the examples (a single node:
    commands like ``drop_master`` are refused instead of changing the master
    under the other connections), with a connection that must keep working."""

    def __init__(self) -> None:
        self.cluster = ArakoonCluster(1, clock=Clock())
        self.bystander: MemoryConnection[ArakoonProtocol] = self.cluster.connect_in_memory()
        self.failures: list[dict[str, Any]] = []
        globalLogPublisher.addObserver(self._observe)

    def _observe(self, event: dict[str, Any]) -> None:
        if "log_failure" in event:
            self.failures.append(event)

    def check_bystander(self) -> None:
        client = self.bystander.client
        done = client.set(b"\xffbystander", b"still here")
        value = client.get(b"\xffbystander")
        self.cluster.flush()
        assert outcome(done) == ("value", None)
        assert outcome(value) == ("value", b"still here")


_server: Server | None = None


def server() -> Server:
    global _server
    if _server is None:
        _server = Server()
    return _server


def read_request(data: bytes) -> tuple[Any, ...]:
    """What the server makes of the request at the start of ``data``."""
    if len(data) < 4:
        return INCOMPLETE
    word = _WORD.unpack_from(data)[0]
    if word & MAGIC != MAGIC:
        return ("no magic",)
    command = COMMANDS_BY_OPCODE.get(word & 0xFFFF)
    if command is None:
        return ("unknown opcode", word & 0xFFFF)
    # The server's own reader, fed as the server is (the whole stream at
    # once): it sees a malformed element in the bytes it has, and may still
    # wait for bytes where a value is not all there yet.
    reader = Reader()
    reader.feed(data[4:])
    try:
        arguments = reader.read(command.arguments_type)
    except ProtocolViolation:
        return ("bad arguments",)
    if arguments is NEED_DATA:
        return INCOMPLETE
    return ("request", command, arguments, len(data) - len(reader))


def check_replies(sent: bytes, received: bytes, lost: bool) -> None:
    """``received`` is what the server must answer to ``sent`` (§1.2-§1.5)."""
    while True:
        request = read_request(sent)
        if request == INCOMPLETE:
            assert not received and not lost, (received, lost)
            return
        kind = request[0]
        if kind == "no magic":
            assert received == UINT32.encode(NoMagic.CODE)
            assert lost
            return
        if kind == "unknown opcode":
            message = b"%x: command not found" % request[1]
            assert received == UINT32.encode(UnsupportedCommand.CODE) + STRING.encode(message)
            assert lost
            return
        if kind == "bad arguments":
            if received:
                reply = drive(Message(COMMANDS_BY_OPCODE[0x01], ()).reply.receive(), received)
                assert reply[:2] == ("error", UnknownFailure), reply
                assert reply[-1] == len(received)
            assert lost
            return
        _, command, arguments, size = request
        message: Message[Any] = (
            CollapseMessage(COLLAPSE_TLOGS, arguments)
            if command is COLLAPSE_TLOGS
            else Message(command, arguments)
        )
        reply = drive(message.reply.receive(), received)
        assert reply != INCOMPLETE, (command.name, received)
        if reply[0] == "error":
            assert issubclass(reply[1], ArakoonError), reply
            error = error_for_code(reply[2], reply[3])
            taken = reply[-1]
            if error.closes_connection:
                assert received[taken:] == b""
                assert lost
                return
        else:
            taken = reply[2]
        sent, received = sent[size:], received[taken:]


def check_stream(stream: bytes) -> None:
    here = server()
    raw = RawClient.with_prologue(here.cluster.cluster_id)
    connection = here.cluster.connect_in_memory(None, raw)
    raw.send(stream)
    # Time moves too, for the replies a node holds back (e.g. drop_master).
    here.cluster.advance(10.0)
    here.cluster.flush()
    check_replies(stream, raw.take(), raw.lost)
    if not raw.lost:
        connection.disconnect()
    assert here.failures == []
    here.check_bystander()


def _damaged(requests: list[bytes], changes: list[tuple[int, int]], cut: int) -> bytes:
    stream = bytearray(b"".join(requests))
    for position, byte in changes:
        if stream:
            stream[position % len(stream)] = byte
    return bytes(stream[: len(stream) - cut % (len(stream) + 1)] if cut else stream)


_requests = st.lists(st.sampled_from(REQUESTS), min_size=1, max_size=4)
_changes = st.lists(st.tuples(st.integers(0, 2**16), st.integers(0, 255)), max_size=3)
_words = st.builds(
    lambda opcode, tail: UINT32.encode(MAGIC | opcode) + tail,
    st.sampled_from(OPCODES) | st.integers(0, 0xFFFF),
    st.binary(max_size=24),
)
STREAMS = st.one_of(
    st.binary(min_size=1, max_size=64),
    st.builds(_damaged, _requests, _changes, st.integers(0, 8)),
    st.lists(_words, min_size=1, max_size=3).map(b"".join),
)


@settings(max_examples=FUZZ_EXAMPLES // 5, suppress_health_check=[HealthCheck.too_slow])
@given(stream=STREAMS)
def test_any_request_stream_is_answered_as_the_protocol_says(stream: bytes) -> None:
    check_stream(stream)


def test_every_request_vector_is_answered_as_the_protocol_says() -> None:
    # The undamaged requests, pipelined: what the damaged ones are held to.
    for request in REQUESTS:
        check_stream(request + request)


def test_the_oracle_knows_the_framing_errors() -> None:
    # The oracle must not be trivially satisfied: each framing case once.
    check_stream(b"\x00\x00\x00\x00")  # no magic
    check_stream(UINT32.encode(MAGIC | 0x99))  # unknown opcode
    check_stream(UINT32.encode(MAGIC | 0x08) + b"\x07" + STRING.encode(b"k"))  # bad tag
    check_stream(UINT32.encode(MAGIC | 0x08) + b"\x00\x05\x00")  # incomplete
