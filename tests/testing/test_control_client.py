"""The control channel's grammar and its two clients: the blocking
ControlClient and the Twisted ControlProtocol."""

from __future__ import annotations

import socket
import threading
from collections.abc import Generator, Iterator
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from txarakoon.protocol import ArakoonProtocol, connect
from txarakoon.testing import ArakoonCluster
from txarakoon.testing.channel import ControlChannelFactory, listen_control
from txarakoon.testing.control import ControlClient, ControlError, ControlProtocol, connect_control
from txarakoon.testing.control_grammar import decode_reply, encode_request, parse_address

# -- the grammar ----------------------------------------------------------------


def test_a_request_is_the_command_and_its_words_on_one_line() -> None:
    assert encode_request("no_longer_master", "n1", 2, False) == b"no_longer_master n1 2 false\n"
    assert encode_request("election_delay", None) == b"election_delay none\n"
    assert encode_request("delay_replies", "n1", 0.5) == b"delay_replies n1 0.5\n"


@pytest.mark.parametrize("argument", ["", "two words", "tab\there", "new\nline", "bell\a"])
def test_an_argument_that_is_not_one_printable_word_is_refused(argument: str) -> None:
    with pytest.raises(ValueError, match="one printable word"):
        encode_request("kill", argument)


def test_an_argument_of_another_type_is_refused() -> None:
    with pytest.raises(TypeError, match="not bytes"):
        encode_request("kill", b"n1")


def test_an_ok_reply_gives_its_text() -> None:
    assert decode_reply(b"ok") == ""
    assert decode_reply(b'ok {"master": "n0"}\r') == '{"master": "n0"}'


def test_an_error_reply_raises_its_message() -> None:
    with pytest.raises(ControlError, match=r"^kill NODE: no node 'n9'$"):
        decode_reply(b"error kill NODE: no node 'n9'")


def test_a_line_that_is_no_reply_raises() -> None:
    with pytest.raises(ControlError, match="not a control channel reply"):
        decode_reply(b"HTTP/1.1 400 Bad Request")


def test_an_address_is_a_pair_or_host_colon_port() -> None:
    assert parse_address("127.0.0.1:7000") == ("127.0.0.1", 7000)
    assert parse_address(("localhost", 7000)) == ("localhost", 7000)
    for bad in ("127.0.0.1", "127.0.0.1:x", ":7000", "host:0", "host:70000"):
        with pytest.raises(ValueError, match="host:port"):
            parse_address(bad)


# -- the blocking client ------------------------------------------------------------


@pytest.fixture
def closing_peer() -> Iterator[tuple[str, int]]:
    """A TCP peer that accepts one connection and closes it unanswered."""
    server = socket.create_server(("127.0.0.1", 0))

    def accept_and_close() -> None:
        connection, _ = server.accept()
        connection.recv(100)
        connection.close()

    thread = threading.Thread(target=accept_and_close, daemon=True)
    thread.start()
    yield server.getsockname()
    thread.join(timeout=10)
    server.close()


def test_a_bad_argument_is_refused_before_connecting() -> None:
    client = ControlClient("127.0.0.1:1")
    with pytest.raises(ValueError):
        client.kill("two words")
    assert repr(client) == "<ControlClient 127.0.0.1:1 not connected>"


def test_a_connection_closed_without_reply_is_a_connection_error(
    closing_peer: tuple[str, int],
) -> None:
    with ControlClient(closing_peer, timeout=10) as client:
        with pytest.raises(ConnectionError, match="closed the connection"):
            client.kill("n1")
        assert repr(client).endswith("not connected>")


def test_from_environ_reads_the_variable_serve_prints() -> None:
    client = ControlClient.from_environ({"TXARAKOON_CONTROL": "127.0.0.1:7000"})
    assert client.address == ("127.0.0.1", 7000)
    with pytest.raises(LookupError, match=r"\$TXARAKOON_CONTROL is not set"):
        ControlClient.from_environ({})


# -- the Twisted client ---------------------------------------------------------------


def _connected() -> tuple[ControlProtocol, StringTransport]:
    protocol, transport = ControlProtocol(), StringTransport()
    protocol.makeConnection(transport)
    return protocol, transport


def test_the_twisted_client_writes_a_line_and_fires_with_the_reply() -> None:
    protocol, transport = _connected()
    elected = protocol.elect("n1")
    assert transport.value() == b"elect n1\n"
    protocol.dataReceived(b"ok\n")
    assert elected.result == ""


def test_the_twisted_client_fails_an_error_reply_with_control_error() -> None:
    protocol, _ = _connected()
    killed = protocol.kill("n9")
    protocol.dataReceived(b"error kill NODE: no node 'n9'\n")
    failure = killed.result
    assert isinstance(failure, Failure)
    assert failure.check(ControlError)
    assert str(failure.value) == "kill NODE: no node 'n9'"
    killed.addErrback(lambda _: None)


def test_the_twisted_client_answers_pipelined_calls_in_order() -> None:
    protocol, transport = _connected()
    state, stall = protocol.state(), protocol.stall("n1")
    assert transport.value() == b"state\nstall n1\n"
    protocol.dataReceived(b'ok {"master": "n0"}\nok\n')
    assert (state.result, stall.result) == ({"master": "n0"}, "")


def test_the_twisted_client_fails_pending_calls_when_the_connection_is_lost() -> None:
    protocol, _ = _connected()
    killed = protocol.kill("n1")
    protocol.connectionLost(Failure(ConnectionError("gone")))
    assert killed.result.check(ConnectionError)
    killed.addErrback(lambda _: None)
    later = protocol.kill("n1")
    assert later.result.check(ConnectionError)
    later.addErrback(lambda _: None)


def test_closing_the_twisted_client_fires_once_the_connection_is_closed() -> None:
    protocol, transport = _connected()
    closed = protocol.close()
    assert transport.disconnecting
    assert not closed.called
    protocol.connectionLost(Failure(ConnectionDone()))
    assert closed.called and closed.result is None


def test_closing_the_twisted_client_fails_the_calls_waiting_for_replies() -> None:
    protocol, _ = _connected()
    killed = protocol.kill("n1")
    protocol.close()
    protocol.connectionLost(Failure(ConnectionDone()))
    assert killed.result.check(ConnectionError)
    killed.addErrback(lambda _: None)


def test_closing_a_closed_twisted_client_fires_at_once() -> None:
    protocol, _ = _connected()
    protocol.connectionLost(Failure(ConnectionDone()))
    closed = protocol.close()
    assert closed.called and closed.result is None


def test_the_twisted_client_drives_the_channel() -> None:
    cluster = ArakoonCluster(3, clock=Clock())
    server = ControlChannelFactory(cluster).buildProtocol(None)
    server_side, client_side = StringTransport(), StringTransport()
    server.makeConnection(server_side)
    client = ControlProtocol()
    client.makeConnection(client_side)
    elected = client.elect("n2")
    server.dataReceived(client_side.value())
    client.dataReceived(server_side.value())
    assert elected.result == ""
    assert cluster.master == "n2"


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


@pytest_twisted.inlineCallbacks  # type: ignore[untyped-decorator]
def test_the_twisted_client_fails_over_a_cluster_over_tcp() -> Generator[Any, Any, None]:
    reactor = _reactor()
    cluster = ArakoonCluster(3)
    cluster.listen(reactor)
    port = listen_control(reactor, cluster)
    control: ControlProtocol = yield connect_control(reactor, ("127.0.0.1", port.getHost().port))
    try:
        yield control.kill("n0")
        yield control.elect("n1")
        arakoon: ArakoonProtocol = yield connect(reactor, cluster.endpoint("n2"), b"arakoon")
        assert (yield arakoon.who_master()) == b"n1"
        yield arakoon.close()
    finally:
        assert control.transport is not None
        yield control.close()
        yield port.stopListening()
        yield cluster.stop()
