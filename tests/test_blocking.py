"""SocketClient against a canned peer: a thread with a loopback listening socket that
reads the prologue and the exact request bytes, and writes scripted replies.

Never against the in-process fake server: a blocking call inside a test run by
pytest-twisted would stop the reactor that has to answer it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from txarakoon import messages
from txarakoon.blocking import SocketClient
from txarakoon.codec import BOOL, STRING, UNIT
from txarakoon.consistency import AtLeast, Consistent, NoGuarantees
from txarakoon.errors import (
    AssertionFailed,
    CallbackError,
    ConnectionLost,
    NotConnectedError,
    NotFound,
    NotMaster,
    ProtocolViolation,
    RequestTimeout,
)
from txarakoon.messages import encode_error, encode_success, prologue
from txarakoon.sequence import Set

from .helpers import vectors

CLUSTER = b"arakoon"
PROLOGUE = prologue(CLUSTER)
#: How long the peer waits for the client before the test fails (never reached
#: by a passing test).
PEER_TIMEOUT = 10.0
#: The client's timeout in tests that are not about timeouts.
CLIENT_TIMEOUT = 10.0

REQUESTS = vectors.in_scope_requests()
RESPONSES = vectors.in_scope_responses()

Step = Callable[[socket.socket, list[bytes]], None]


# -- the canned peer -----------------------------------------------------------


def _recv_exactly(conn: socket.socket, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def read(count: int) -> Step:
    """Read exactly ``count`` bytes (fewer if the client closes) and record them."""

    def step(conn: socket.socket, received: list[bytes]) -> None:
        received.append(_recv_exactly(conn, count))

    return step


def send(data: bytes, chunk: int = 1) -> Step:
    """Write ``data`` in pieces of ``chunk`` bytes, each its own segment."""

    def step(conn: socket.socket, received: list[bytes]) -> None:
        for start in range(0, len(data), chunk):
            conn.sendall(data[start : start + chunk])

    return step


def drain() -> Step:
    """Read until the client closes the connection, and record what came."""

    def step(conn: socket.socket, received: list[bytes]) -> None:
        data = bytearray()
        while chunk := conn.recv(65536):
            data += chunk
        received.append(bytes(data))

    return step


class Peer:
    """A scripted Arakoon node in a thread: accepts one connection on 127.0.0.1,
    reads the prologue, then runs its steps and closes the connection."""

    def __init__(self, steps: tuple[Step, ...]) -> None:
        self.steps = steps
        self.prologue = b""
        self.received: list[bytes] = []
        self.error: BaseException | None = None
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(PEER_TIMEOUT)
        host, port = self.listener.getsockname()[:2]
        self.address: tuple[str, int] = (host, port)
        self.thread = threading.Thread(target=self._run, name="canned-peer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            conn, _ = self.listener.accept()
            with conn:
                conn.settimeout(PEER_TIMEOUT)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.prologue = _recv_exactly(conn, len(PROLOGUE))
                for step in self.steps:
                    step(conn, self.received)
        except BaseException as error:
            self.error = error
        finally:
            self.listener.close()

    def finish(self) -> list[bytes]:
        """Wait for the script to end; what each ``read``/``drain`` step received."""
        self.thread.join(PEER_TIMEOUT)
        assert not self.thread.is_alive(), "the canned peer is still running"
        if self.error is not None:
            raise self.error
        assert self.prologue == PROLOGUE
        return self.received


@pytest.fixture
def serve() -> Iterator[Callable[..., Peer]]:
    peers: list[Peer] = []

    def start(*steps: Step) -> Peer:
        peer = Peer(steps)
        peers.append(peer)
        return peer

    yield start
    for peer in peers:
        peer.listener.close()
        peer.thread.join(PEER_TIMEOUT)


def connected_client(peer: Peer, **settings: Any) -> SocketClient:
    settings.setdefault("timeout", CLIENT_TIMEOUT)
    client = SocketClient(peer.address, CLUSTER, **settings)
    client.connect()
    return client


# -- calling the public API for a vector ---------------------------------------

#: Vector command names whose API method has another name.
_METHODS = {"prefix_keys": "prefix", "assert": "assert_", "synced_sequence": "sequence"}


def call(client: SocketClient, vector: dict[str, Any], **extra: Any) -> Any:
    """Call the ClientMixin/AdminMixin method for a request vector, with its arguments
    passed by name as a user would (``allow_dirty`` or ``consistency=``)."""
    command = vectors.command_for(vector)
    assert command is not None
    given = vector["args"]
    kwargs: dict[str, Any] = {}
    for name, value in zip(command.argument_names, vectors.argument_values(vector), strict=True):
        if name == "consistency":
            if "allow_dirty" in given:
                kwargs["allow_dirty"] = given["allow_dirty"]
            else:
                kwargs["consistency"] = value
        else:
            kwargs[name] = value
    if command.name == "synced_sequence":
        kwargs["sync"] = True
    method = getattr(client, _METHODS.get(vector["command"], vector["command"]))
    return method(**kwargs, **extra)


def _success_reply(command: messages.Command[Any]) -> bytes:
    for vector in RESPONSES:
        if vectors.command_for(vector) is command and not vectors.is_error(vector):
            return bytes.fromhex(vector["response_hex"])
    assert command.result is UNIT, command
    return encode_success(UNIT, None)


def _request_for(command: messages.Command[Any]) -> dict[str, Any]:
    for vector in REQUESTS:
        if vectors.command_for(vector) is command:
            return vector
    raise AssertionError(f"no request vector for {command.name}")


def _id(vector: dict[str, Any]) -> str:
    return str(vector["id"])


# -- vectors ---------------------------------------------------------------------


def test_every_vector_in_scope_is_exercised() -> None:
    assert (len(REQUESTS), len(RESPONSES)) == (73, 55)


@pytest.mark.parametrize("vector", REQUESTS, ids=_id)
def test_request_vector_is_sent_exactly(serve: Callable[..., Peer], vector: dict[str, Any]) -> None:
    wire = bytes.fromhex(vector["request_hex"])
    command = vectors.command_for(vector)
    assert command is not None
    peer = serve(read(len(wire)), send(_success_reply(command)), drain())
    with connected_client(peer) as client:
        call(client, vector)
        assert client.connected
    assert peer.finish() == [wire, b""]


@pytest.mark.parametrize("vector", RESPONSES, ids=_id)
def test_response_vector_sent_one_byte_at_a_time_is_returned_or_raised(
    serve: Callable[..., Peer], vector: dict[str, Any]
) -> None:
    command = vectors.response_command(vector)
    request = _request_for(command)
    wire = bytes.fromhex(vector["response_hex"])
    peer = serve(read(len(bytes.fromhex(request["request_hex"]))), send(wire, chunk=1), drain())
    client = connected_client(peer)
    progress: list[int] = []
    extra = {"progress": progress.append} if command.name == "collapse_tlogs" else {}
    if vectors.is_error(vector):
        expected = vectors.expected_error(vector)
        with pytest.raises(vectors.expected_error_class(vector)) as caught:
            call(client, request, **extra)
        assert (caught.value.code, caught.value.message) == (expected.code, expected.message)
        assert client.connected is not expected.closes_connection
    else:
        result = call(client, request, **extra)
        if command.name == "collapse_tlogs":
            assert progress == vectors.expected_value(vector)
            assert result == len(progress)
        else:
            assert result == vectors.expected_value(vector)
        assert client.connected
    client.close()
    assert peer.finish()[-1] == b""


# -- connecting and closing -------------------------------------------------------


def test_connect_sends_the_prologue_and_sets_tcp_nodelay(serve: Callable[..., Peer]) -> None:
    peer = serve(drain())
    client = connected_client(peer)
    sock = client._socket
    assert sock is not None
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    client.close()
    assert peer.finish() == [b""]


def test_str_cluster_id_is_sent_as_utf8(serve: Callable[..., Peer]) -> None:
    peer = serve(drain())
    client = SocketClient(peer.address, "arakoon", timeout=CLIENT_TIMEOUT)
    client.connect()
    client.close()
    peer.finish()
    assert peer.prologue == prologue(b"arakoon")


def test_connect_when_connected_does_nothing(serve: Callable[..., Peer]) -> None:
    peer = serve(drain())
    client = connected_client(peer)
    sock = client._socket
    client.connect()
    assert client._socket is sock
    client.close()
    assert peer.finish() == [b""]


def test_connect_to_a_closed_port_raises_oserror() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        address = placeholder.getsockname()[:2]
    client = SocketClient(address, CLUSTER, timeout=CLIENT_TIMEOUT)
    with pytest.raises(OSError):
        client.connect()
    assert not client.connected


def test_call_before_connect_raises_not_connected() -> None:
    client = SocketClient(("127.0.0.1", 1), CLUSTER)
    assert not client.connected
    with pytest.raises(NotConnectedError):
        client.get(b"key")


def test_call_after_close_raises_not_connected(serve: Callable[..., Peer]) -> None:
    peer = serve(drain())
    client = connected_client(peer)
    client.close()
    assert not client.connected
    with pytest.raises(NotConnectedError):
        client.who_master()
    assert peer.finish() == [b""]


def test_close_twice_is_harmless(serve: Callable[..., Peer]) -> None:
    peer = serve(drain())
    client = connected_client(peer)
    client.close()
    client.close()
    assert not client.connected
    peer.finish()


def test_context_manager_connects_and_closes(serve: Callable[..., Peer]) -> None:
    request = messages.NOP().serialize()
    peer = serve(read(len(request)), send(encode_success(UNIT, None)), drain())
    client = SocketClient(peer.address, CLUSTER, timeout=CLIENT_TIMEOUT)
    with client as entered:
        assert entered is client
        assert client.connected
        client.nop()
    assert not client.connected
    assert peer.finish() == [request, b""]


def test_context_manager_closes_on_an_exception(serve: Callable[..., Peer]) -> None:
    peer = serve(drain())
    client = SocketClient(peer.address, CLUSTER, timeout=CLIENT_TIMEOUT)
    with pytest.raises(ZeroDivisionError), client:
        1 / 0  # noqa: B018
    assert not client.connected
    peer.finish()


def test_context_manager_keeps_an_existing_connection(serve: Callable[..., Peer]) -> None:
    peer = serve(drain())
    client = connected_client(peer)
    sock = client._socket
    with client:
        assert client._socket is sock
    assert not client.connected
    peer.finish()


def test_repr_names_the_address_and_state() -> None:
    client = SocketClient(("127.0.0.1", 4000), CLUSTER)
    assert repr(client) == "<SocketClient 127.0.0.1:4000 not connected>"


@pytest.mark.parametrize("timeout", [0, -1.0])
def test_timeout_must_be_positive(timeout: float) -> None:
    with pytest.raises(ValueError):
        SocketClient(("127.0.0.1", 4000), CLUSTER, timeout=timeout)


# -- error replies ------------------------------------------------------------------


def test_closing_code_closes_the_client(serve: Callable[..., Peer]) -> None:
    request = messages.SET(b"k", b"v").serialize()
    peer = serve(read(len(request)), send(encode_error(NotMaster(b"arakoon_1"))), drain())
    client = connected_client(peer)
    with pytest.raises(NotMaster) as caught:
        client.set(b"k", b"v")
    assert caught.value.master_hint == b"arakoon_1"
    assert not client.connected
    with pytest.raises(NotConnectedError):
        client.set(b"k", b"v")
    # The peer's drain() ends only when the client's socket is closed.
    assert peer.finish() == [request, b""]


def test_non_closing_code_leaves_the_client_usable(serve: Callable[..., Peer]) -> None:
    first = messages.GET(Consistent, b"missing").serialize()
    second = messages.GET(Consistent, b"present").serialize()
    peer = serve(
        read(len(first)),
        send(encode_error(NotFound(b"missing"))),
        read(len(second)),
        send(encode_success(STRING, b"value")),
        drain(),
    )
    client = connected_client(peer)
    with pytest.raises(NotFound):
        client.get(b"missing")
    assert client.connected
    assert client.get(b"present") == b"value"
    client.close()
    assert peer.finish() == [first, second, b""]


# -- connection failures -----------------------------------------------------------


def test_eof_mid_reply_raises_connection_lost(serve: Callable[..., Peer]) -> None:
    request = messages.GET(Consistent, b"k").serialize()
    reply = encode_success(STRING, b"a value cut short")
    peer = serve(read(len(request)), send(reply[:10]))
    client = connected_client(peer)
    with pytest.raises(ConnectionLost) as caught:
        client.get(b"k")
    assert caught.value.applied is None
    assert not client.connected
    assert peer.finish() == [request]


def test_eof_before_the_reply_raises_connection_lost(serve: Callable[..., Peer]) -> None:
    request = messages.DELETE(b"k").serialize()
    peer = serve(read(len(request)))
    client = connected_client(peer)
    with pytest.raises(ConnectionLost) as caught:
        client.delete(b"k")
    assert caught.value.applied is None
    assert not client.connected
    peer.finish()


def test_timeout_raises_request_timeout_and_closes(serve: Callable[..., Peer]) -> None:
    request = messages.SET(b"k", b"v").serialize()
    peer = serve(read(len(request)), drain())
    client = connected_client(peer, timeout=0.05)
    with pytest.raises(RequestTimeout) as caught:
        client.set(b"k", b"v")
    assert caught.value.applied is None
    assert isinstance(caught.value, TimeoutError)
    assert not client.connected
    # drain() returning proves the client closed its socket.
    assert peer.finish() == [request, b""]


def test_reply_beyond_max_reply_length_is_a_protocol_violation(
    serve: Callable[..., Peer],
) -> None:
    request = messages.GET(Consistent, b"k").serialize()
    reply = encode_success(STRING, b"x" * 11)
    peer = serve(read(len(request)), send(reply, chunk=len(reply)), drain())
    client = connected_client(peer, max_reply_length=10)
    with pytest.raises(ProtocolViolation):
        client.get(b"k")
    assert not client.connected
    peer.finish()


def test_undecodable_reply_is_a_protocol_violation(serve: Callable[..., Peer]) -> None:
    request = messages.GET_TXID().serialize()
    bad_consistency_tag = b"\x00\x00\x00\x00\x07"
    peer = serve(read(len(request)), send(bad_consistency_tag), drain())
    client = connected_client(peer)
    with pytest.raises(ProtocolViolation):
        client.get_txid()
    assert not client.connected
    peer.finish()


def test_bytes_after_the_reply_close_the_client_but_return_the_value(
    serve: Callable[..., Peer],
) -> None:
    request = messages.NOP().serialize()
    reply = encode_success(UNIT, None) + b"\x00\x00\x00\x00"
    peer = serve(read(len(request)), send(reply, chunk=len(reply)), drain())
    client = connected_client(peer)
    assert client.nop() is None
    assert not client.connected
    peer.finish()


# -- mapping aliases ------------------------------------------------------------------


def test_getitem_is_a_consistent_get(serve: Callable[..., Peer]) -> None:
    request = messages.GET(Consistent, b"k").serialize()
    peer = serve(read(len(request)), send(encode_success(STRING, b"v")), drain())
    with connected_client(peer) as client:
        assert client["k"] == b"v"
    assert peer.finish() == [request, b""]


def test_getitem_of_a_missing_key_raises_key_error(serve: Callable[..., Peer]) -> None:
    request = messages.GET(Consistent, b"k").serialize()
    peer = serve(read(len(request)), send(encode_error(NotFound(b"k"))), drain())
    with connected_client(peer) as client, pytest.raises(KeyError):
        client[b"k"]
    peer.finish()


def test_setitem_is_set(serve: Callable[..., Peer]) -> None:
    request = messages.SET(b"k", b"v").serialize()
    peer = serve(read(len(request)), send(encode_success(UNIT, None)), drain())
    with connected_client(peer) as client:
        client[b"k"] = "v"
    assert peer.finish() == [request, b""]


def test_delitem_is_delete(serve: Callable[..., Peer]) -> None:
    request = messages.DELETE(b"k").serialize()
    peer = serve(read(len(request)), send(encode_success(UNIT, None)), drain())
    with connected_client(peer) as client:
        del client[b"k"]
    assert peer.finish() == [request, b""]


@pytest.mark.parametrize("bound", [True, False])
def test_contains_is_a_consistent_exists(serve: Callable[..., Peer], bound: bool) -> None:
    request = messages.EXISTS(Consistent, b"k").serialize()
    peer = serve(read(len(request)), send(encode_success(BOOL, bound)), drain())
    with connected_client(peer) as client:
        assert (b"k" in client) is bound
    assert peer.finish() == [request, b""]


# -- bad input ------------------------------------------------------------------------

BAD_CALLS: dict[str, tuple[Callable[[SocketClient], object], type[Exception]]] = {
    "get_int_key": (lambda c: c.get(1), TypeError),  # type: ignore[arg-type]
    "get_allow_dirty_and_consistency": (
        lambda c: c.get(b"k", True, consistency=NoGuarantees),
        TypeError,
    ),
    "get_bad_consistency": (
        lambda c: c.get(b"k", consistency="dirty"),  # type: ignore[arg-type]
        TypeError,
    ),
    "exists_none_key": (lambda c: c.exists(None), TypeError),  # type: ignore[arg-type]
    "set_int_value": (lambda c: c.set(b"k", 5), TypeError),  # type: ignore[arg-type]
    "set_value_too_large": (
        lambda c: c.set(b"k", b"x" * messages.MAX_VALUE_SIZE),
        ValueError,
    ),
    "multi_get_int_key": (lambda c: c.multi_get([b"a", 2]), TypeError),  # type: ignore[list-item]
    "range_max_elements_out_of_int32": (
        lambda c: c.range(None, True, None, True, 2**31),
        ValueError,
    ),
    "range_entries_float_max_elements": (
        lambda c: c.range_entries(None, True, None, True, 1.5),  # type: ignore[arg-type]
        TypeError,
    ),
    "at_least_negative": (lambda c: c.get(b"k", consistency=AtLeast(-1)), ValueError),
    "sequence_bad_step": (lambda c: c.sequence([object()]), TypeError),  # type: ignore[list-item]
    "sequence_sync_not_bool": (
        lambda c: c.sequence([Set(b"k", b"v")], sync=1),  # type: ignore[arg-type]
        TypeError,
    ),
    "copy_db_to_head_zero": (lambda c: c.copy_db_to_head(0), ValueError),
    "collapse_tlogs_zero": (lambda c: c.collapse_tlogs(0), ValueError),
    "user_function_int_argument": (
        lambda c: c.user_function(b"f", 3),  # type: ignore[arg-type]
        TypeError,
    ),
    "setitem_int_value": (lambda c: c.__setitem__(b"k", 1), TypeError),  # type: ignore[assignment]
}


@pytest.mark.parametrize("name", sorted(BAD_CALLS))
def test_bad_input_raises_before_anything_is_sent(serve: Callable[..., Peer], name: str) -> None:
    bad_call, error = BAD_CALLS[name]
    peer = serve(drain())
    client = connected_client(peer)
    with pytest.raises(error):
        bad_call(client)
    assert client.connected
    client.close()
    assert peer.finish() == [b""]


# -- admin ------------------------------------------------------------------------------


def test_collapse_tlogs_reports_progress_and_returns_the_count(
    serve: Callable[..., Peer],
) -> None:
    request = messages.collapse_tlogs(2).serialize()
    reply = encode_success(messages.COLLAPSE_STREAM, [10, 20, 30, 40])
    peer = serve(read(len(request)), send(reply), drain())
    progress: list[int] = []
    with connected_client(peer) as client:
        assert client.collapse_tlogs(2, progress.append) == 4
    assert progress == [10, 20, 30, 40]
    assert peer.finish() == [request, b""]


def test_raising_progress_callback_is_not_a_protocol_violation(
    serve: Callable[..., Peer],
) -> None:
    collapse = messages.collapse_tlogs(1).serialize()
    get = messages.GET(Consistent, b"a").serialize()
    peer = serve(
        read(len(collapse)),
        send(encode_success(messages.COLLAPSE_STREAM, [7])),
        read(len(get)),
        send(encode_success(STRING, b"A")),
        drain(),
    )

    def progress(value: int) -> None:
        raise RuntimeError("caller bug")

    with connected_client(peer) as client:
        with pytest.raises(CallbackError) as caught:
            client.collapse_tlogs(1, progress)
        assert isinstance(caught.value.__cause__, RuntimeError)
        assert client.get(b"a") == b"A"


# -- large and many-field replies ---------------------------------------------------------


def test_large_value_is_read_completely(serve: Callable[..., Peer]) -> None:
    value = bytes(range(256)) * (5 * 1024 * 1024 // 256)
    request = messages.GET(Consistent, b"big").serialize()
    reply = encode_success(STRING, value)
    peer = serve(read(len(request)), send(reply, chunk=100_000), drain())
    with connected_client(peer) as client:
        assert client.get(b"big") == value
    peer.finish()


def test_reply_of_many_small_fields_is_read_completely(serve: Callable[..., Peer]) -> None:
    entries = [(b"key%06d" % i, b"value%d" % i) for i in range(20_000)]
    request = messages.RANGE_ENTRIES(Consistent, None, True, None, True, -1).serialize()
    reply = encode_success(messages.RANGE_ENTRIES.result, entries)
    peer = serve(read(len(request)), send(reply, chunk=7_001), drain())
    with connected_client(peer) as client:
        assert client.range_entries(None, True, None, True) == entries
    peer.finish()


def test_consecutive_replies_in_one_segment_are_kept_apart(
    serve: Callable[..., Peer],
) -> None:
    first = messages.GET(NoGuarantees, b"a").serialize()
    second = messages.GET(NoGuarantees, b"b").serialize()
    peer = serve(
        read(len(first)),
        send(encode_success(STRING, b"1")),
        read(len(second)),
        send(encode_success(STRING, b"2"), chunk=3),
        drain(),
    )
    with connected_client(peer) as client:
        assert client.get(b"a", True) == b"1"
        assert client.get(b"b", allow_dirty=True) == b"2"
    assert peer.finish() == [first, second, b""]


# -- deterministic short reads and send failures (no network) -------------------------------


class TrickleSocket:
    """Stands in for a connected socket: records what is sent, and hands out the
    canned reply one byte per ``recv``/``recv_into``, however much is asked."""

    def __init__(self, reply: bytes, send_error: OSError | None = None) -> None:
        self.reply = reply
        self.offset = 0
        self.send_error = send_error
        self.sent: list[bytes] = []
        self.recv_calls = 0
        self.closed = False

    def setsockopt(self, *args: object) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        if self.sent and self.send_error is not None:
            raise self.send_error
        self.sent.append(bytes(data))

    def recv(self, size: int) -> bytes:
        self.recv_calls += 1
        data = self.reply[self.offset : self.offset + 1]
        self.offset += len(data)
        return data

    def recv_into(self, view: memoryview) -> int:
        data = self.recv(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.closed = True


def _client_on(monkeypatch: pytest.MonkeyPatch, fake: TrickleSocket) -> SocketClient:
    monkeypatch.setattr(socket, "create_connection", lambda address, timeout: fake)
    client = SocketClient(("127.0.0.1", 4000), CLUSTER)
    client.connect()
    return client


def test_short_reads_are_completed(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = [(b"a", b"1"), (b"b", b"x" * 200_000)]
    fake = TrickleSocket(encode_success(messages.RANGE_ENTRIES.result, entries))
    client = _client_on(monkeypatch, fake)
    assert client.range_entries(b"a", True, b"c", False) == entries
    assert fake.recv_calls == len(fake.reply)
    assert fake.sent[0] == PROLOGUE


def test_send_failure_raises_connection_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = TrickleSocket(b"", send_error=BrokenPipeError())
    client = _client_on(monkeypatch, fake)
    with pytest.raises(ConnectionLost) as caught:
        client.set(b"k", b"v")
    assert caught.value.applied is None
    assert isinstance(caught.value.reason, BrokenPipeError)
    assert not client.connected
    assert fake.closed


def test_send_timeout_raises_request_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = TrickleSocket(b"", send_error=TimeoutError("timed out"))
    client = _client_on(monkeypatch, fake)
    with pytest.raises(RequestTimeout):
        client.set(b"k", b"v")
    assert not client.connected
    assert fake.closed


def test_interrupted_reply_closes_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = TrickleSocket(encode_error(AssertionFailed(b"k")))

    def interrupt(size: int) -> bytes:
        raise KeyboardInterrupt

    client = _client_on(monkeypatch, fake)
    monkeypatch.setattr(fake, "recv", interrupt)
    with pytest.raises(KeyboardInterrupt):
        client.assert_exists(b"k")
    assert not client.connected
    assert fake.closed
