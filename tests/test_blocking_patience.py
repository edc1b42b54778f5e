"""SocketClient.send with a patience: the reply read in the waits it answers,
against the canned peer of test_blocking (a thread on a loopback socket)."""

from __future__ import annotations

import contextlib
import itertools
import socket
import time

import pytest

from txarakoon import messages
from txarakoon.blocking import SocketClient
from txarakoon.codec import STRING
from txarakoon.consistency import Consistent
from txarakoon.errors import RequestTimeout
from txarakoon.messages import encode_success

from .test_blocking import CLUSTER, Peer, Step, connected_client, drain, read, send

REQUEST = messages.GET(Consistent, b"k")
REPLY = encode_success(STRING, b"a value")


def pause(seconds: float) -> Step:
    def step(conn: socket.socket, received: list[bytes]) -> None:
        time.sleep(seconds)

    return step


class Patience:
    """Waits ``wait`` seconds ``waits`` times, then gives up; records the
    silences it was asked about."""

    def __init__(self, wait: float, waits: int) -> None:
        self.wait = wait
        self.waits = waits
        self.silences: list[float] = []

    def __call__(self, silence: float) -> float | None:
        self.silences.append(silence)
        if len(self.silences) > self.waits:
            return None
        return self.wait


def until_closed(conn: socket.socket, received: list[bytes]) -> None:
    """Wait for the client to close, reset or not (it may leave bytes unread)."""
    with contextlib.suppress(ConnectionResetError):
        conn.recv(1)


def peer(*steps: Step) -> Peer:
    return Peer((read(len(REQUEST.serialize())), *steps))


def test_a_reply_within_the_patience_is_returned() -> None:
    served = peer(pause(0.2), send(REPLY, chunk=len(REPLY)))
    client = connected_client(served)
    assert client.send(REQUEST, Patience(0.05, 1000)) == b"a value"
    served.finish()


def test_the_patience_is_asked_again_after_each_silent_wait() -> None:
    served = peer(pause(0.2), send(REPLY, chunk=len(REPLY)))
    client = connected_client(served)
    patience = Patience(0.05, 1000)
    client.send(REQUEST, patience)
    assert len(patience.silences) > 1
    assert patience.silences == sorted(patience.silences)
    served.finish()


def test_giving_up_raises_request_timeout_and_closes() -> None:
    served = peer(drain())
    client = connected_client(served)
    patience = Patience(0.01, 3)
    with pytest.raises(RequestTimeout) as caught:
        client.send(REQUEST, patience)
    assert caught.value.applied is None
    assert len(patience.silences) == 4
    assert not client.connected
    served.finish()


def test_a_chunk_starts_a_new_silence() -> None:
    half = len(REPLY) // 2
    served = peer(
        pause(0.2), send(REPLY[:half], chunk=half), pause(0.2), send(REPLY[half:], chunk=half)
    )
    client = connected_client(served)
    silences: list[float] = []

    def patience(silence: float) -> float:
        silences.append(silence)
        return 0.05

    assert client.send(REQUEST, patience) == b"a value"
    restarts = [later < earlier for earlier, later in itertools.pairwise(silences)]
    assert any(restarts)
    served.finish()


def test_the_timeout_bounds_the_waits_again_after_a_patient_read() -> None:
    # Were the patience's last wait (60 s) left on the socket, the peer would
    # give up first and close: ConnectionLost, not RequestTimeout.
    served = peer(send(REPLY, chunk=len(REPLY)), read(len(REQUEST.serialize())), drain())
    client = connected_client(served, timeout=0.2)
    client.send(REQUEST, Patience(60.0, 1000))
    with pytest.raises(RequestTimeout):
        client.send(REQUEST)
    served.finish()


def test_bytes_sent_unasked_make_the_connection_readable() -> None:
    served = Peer((send(b"\x00"), until_closed))
    client = connected_client(served)
    deadline = time.monotonic() + 10
    while not client.readable():
        assert time.monotonic() < deadline, "the byte never came"
        time.sleep(0.01)
    client.close()
    served.finish()


def test_an_idle_connection_is_not_readable() -> None:
    served = Peer((drain(),))
    client = connected_client(served)
    assert not client.readable()
    client.close()
    served.finish()


def test_a_client_not_connected_is_not_readable() -> None:
    assert not SocketClient(("127.0.0.1", 4000), CLUSTER).readable()
