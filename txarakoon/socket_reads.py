"""Reading one reply from a blocking socket, for
:class:`~txarakoon.blocking.SocketClient`: under the socket's own timeout
for each wait, or in the waits a :data:`Patience` answers, which may do
something between two (the blocking cluster client asks the other nodes
whether a silent master stalled)."""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Callable
from typing import Final, TypeVar

from .reader import NEED_DATA, Decoder, NeedData, Reader

__all__ = ["READ_SIZE", "EndOfStream", "Patience", "read_reply", "readable_now"]

T = TypeVar("T")

#: How much a single ``recv`` asks for. Replies are read through a buffer, so a
#: reply of many small fields costs few system calls.
READ_SIZE: Final = 64 * 1024

#: How long a wait for reply bytes goes on: given the seconds the connection
#: has been silent (since its last byte, or since the request was written),
#: how many more seconds to wait before asking again, or ``None`` to give up.
Patience = Callable[[float], "float | None"]

#: A socket timeout of 0 would make it non-blocking, not a short wait.
_SHORTEST_WAIT: Final = 1e-3


class EndOfStream(EOFError):
    """The server closed the connection before the reply was complete."""


def readable_now(sock: socket.socket) -> bool:
    """Whether ``sock`` has something to read (bytes, or the end of the
    stream) at once."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    if hasattr(select, "poll"):  # select() cannot watch descriptors past 1023
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def read_reply(
    sock: socket.socket, reader: Reader, reply: Decoder[T], patience: Patience | None
) -> T:
    """Read from ``sock`` into ``reader`` until ``reply`` is complete; its
    outcome (:meth:`Reader.read`'s). Without ``patience`` each wait is bounded
    by the socket's timeout; with it, by what it answers, the socket's timeout
    restored afterwards. Raises :class:`EndOfStream`, :class:`TimeoutError`
    (``patience`` gave up, or the socket's timeout expired) or the socket's
    :class:`OSError`."""
    outcome = reader.read(reply)
    if outcome is NEED_DATA and patience is not None:
        timeout = sock.gettimeout()
        try:
            outcome = _read_patiently(sock, reader, reply, patience)
        finally:
            sock.settimeout(timeout)
    while outcome is NEED_DATA:
        chunk = sock.recv(READ_SIZE)
        if not chunk:
            raise EndOfStream(f"connection closed {len(reader)} bytes into a reply")
        if reader.feed(chunk):
            outcome = reader.read(reply)
    return outcome


def _read_patiently(
    sock: socket.socket, reader: Reader, reply: Decoder[T], patience: Patience
) -> T | NeedData:
    since = time.monotonic()
    outcome: T | NeedData = NEED_DATA
    while outcome is NEED_DATA:
        wait = patience(time.monotonic() - since)
        if wait is None:
            raise TimeoutError(f"no reply byte for {time.monotonic() - since:.3f} s")
        sock.settimeout(max(wait, _SHORTEST_WAIT))
        try:
            chunk = sock.recv(READ_SIZE)
        except TimeoutError:
            continue
        if not chunk:
            raise EndOfStream(f"connection closed {len(reader)} bytes into a reply")
        # A chunk ends the silence, however small: a reply that is arriving
        # is never given up.
        since = time.monotonic()
        if reader.feed(chunk):
            outcome = reader.read(reply)
    return outcome
