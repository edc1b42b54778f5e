"""A BlockingArakoonClient is for one thread at a time: a second thread's
call while one is in progress is refused at once, not queued behind it.
The first call is held by a canned peer (a loopback socket in a thread)
until the test has made the second."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from txarakoon import BlockingArakoonClient, ClusterConfig, messages
from txarakoon.codec import STRING, Option
from txarakoon.messages import encode_success, prologue

CLUSTER = b"arakoon"
PATIENCE = 10.0


class HeldPeer:
    """A node n0 that answers ``who_master`` with itself, then holds the next
    request (a ``get``) unanswered until :attr:`release` is set."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.holding = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(PATIENCE)
        connection, _ = self.listener.accept()
        with connection:
            connection.settimeout(PATIENCE)
            question = messages.WHO_MASTER().serialize()
            _read(connection, len(prologue(CLUSTER)) + len(question))
            connection.sendall(encode_success(Option(STRING), b"n0"))
            connection.recv(65536)  # the held request
            self.holding.set()
            self.release.wait(PATIENCE)
            connection.sendall(encode_success(STRING, b"held"))
            connection.recv(65536)  # until the client closes

    def close(self) -> None:
        self.release.set()
        self.thread.join(PATIENCE)
        self.listener.close()


def _read(connection: socket.socket, count: int) -> None:
    while count > 0:
        chunk = connection.recv(count)
        assert chunk, "the client closed the connection"
        count -= len(chunk)


@pytest.fixture
def peer() -> Iterator[HeldPeer]:
    made = HeldPeer()
    yield made
    made.close()


def test_a_call_from_a_second_thread_while_one_is_in_progress_is_refused(
    peer: HeldPeer,
) -> None:
    config = ClusterConfig(CLUSTER, {"n0": (["127.0.0.1"], peer.port)})
    client = BlockingArakoonClient(config, timeout=PATIENCE)
    outcome: list[object] = []

    def first() -> None:
        try:
            outcome.append(client.get(b"k"))
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=first, name="first-caller")
    thread.start()
    assert peer.holding.wait(PATIENCE)
    with pytest.raises(RuntimeError, match="in use by thread 'first-caller'") as raised:
        client.get(b"k")
    assert "one thread at a time" in str(raised.value)
    peer.release.set()
    thread.join(PATIENCE)
    assert outcome == [b"held"]  # the first call was not disturbed
    client.close()
