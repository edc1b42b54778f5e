"""Raw bytes against the target, where no client would go: a wrong prologue,
a command word without magic, an unknown opcode, an oversized value, and
pipelined requests (PROTOCOL.md §1.2, §1.4, §1.5, §6.3)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from txarakoon import messages
from txarakoon.codec import STRING, UINT32
from txarakoon.consistency import Consistent
from txarakoon.errors import NoMagic, NotFound, UnknownFailure
from txarakoon.messages import MAX_VALUE_SIZE, Message, encode_error, prologue

from .support import TIMEOUT, Keys, Target


@pytest.fixture
def raw(target: Target) -> Iterator[socket.socket]:
    """A socket to the master (nothing sent yet)."""
    sock = socket.create_connection(target.address(target.master()), TIMEOUT)
    yield sock
    sock.close()


def _read_to_end(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = bytearray()
    while chunk := sock.recv(65536):
        data += chunk
    return bytes(data)


def test_a_wrong_cluster_id_in_the_prologue_closes_without_a_byte(raw: socket.socket) -> None:
    raw.sendall(prologue(b"not-this-cluster") + messages.WHO_MASTER().serialize())
    assert _read_to_end(raw) == b""


def test_a_wrong_magic_in_the_prologue_closes_without_a_byte(
    raw: socket.socket, target: Target
) -> None:
    wrong = bytearray(prologue(target.cluster_id))
    wrong[0] ^= 0xFF
    raw.sendall(bytes(wrong) + messages.WHO_MASTER().serialize())
    assert _read_to_end(raw) == b""


def test_a_command_word_without_magic_gets_no_magic_without_message(
    raw: socket.socket, target: Target
) -> None:
    raw.sendall(prologue(target.cluster_id) + UINT32.encode(messages.WHO_MASTER.opcode))
    assert _read_to_end(raw) == encode_error(NoMagic())


def test_an_unknown_opcode_gets_code_five_command_not_found_and_closes(
    raw: socket.socket, target: Target
) -> None:
    raw.sendall(prologue(target.cluster_id) + UINT32.encode(messages.MAGIC | 0x99))
    assert _read_to_end(raw) == encode_error(NotFound(b"99: command not found"))


def test_a_set_of_eight_mib_sent_anyway_gets_unknown_failure_and_closes(
    raw: socket.socket, target: Target, keys: Keys
) -> None:
    # D5; the clients refuse this value before sending it.
    request = messages.SET.word + STRING.encode(keys("big")) + STRING.encode(b"v" * MAX_VALUE_SIZE)
    raw.sendall(prologue(target.cluster_id) + request)
    assert _read_to_end(raw) == encode_error(UnknownFailure(b"unknown failure"))


def test_pipelined_requests_are_answered_in_order(
    raw: socket.socket, target: Target, keys: Keys
) -> None:
    requests: list[Message[Any]] = [
        messages.SET(keys("k"), b"v"),
        messages.EXISTS(Consistent, keys("k")),
        messages.DELETE(keys("missing")),
        messages.WHO_MASTER(),
    ]
    raw.sendall(prologue(target.cluster_id) + b"".join(r.serialize() for r in requests))
    expected = (
        messages.encode_success(messages.SET.result, None)
        + messages.encode_success(messages.EXISTS.result, True)
        + encode_error(NotFound(keys("missing")))
        + messages.encode_success(messages.WHO_MASTER.result, target.master().encode())
    )
    received = bytearray()
    while len(received) < len(expected):
        chunk = raw.recv(65536)
        assert chunk, f"closed after {bytes(received)!r}"
        received += chunk
    assert bytes(received) == expected
