"""A canned-reply Arakoon server for the benchmarks, run in its own process.

It answers every ``get`` with the same pre-encoded reply (a value of
``--value-size`` bytes), every ``set`` and ``nop`` with a bare success, and a
few other commands the clients send on connecting, without storing anything.
It is cheap so that it is never the bottleneck: it reads in large pieces, and a
run of identical request frames, which is what a benchmark sends, is
recognised with one comparison and answered with one write.

Run ``python -m bench.canned_server [--port 0] [--value-size 100]``: it prints
``PORT <number>`` on a line of its own, then serves until stdin is closed or it
is killed. One thread per connection: the clients of a benchmark connect once.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import threading

from txarakoon.codec import STRING, Option
from txarakoon.messages import MAGIC, encode_success

_WORD = struct.Struct("<I")
_OK = b"\x00\x00\x00\x00"
READ_SIZE = 256 * 1024

GET, EXISTS, SET, NOP, WHO_MASTER, HELLO = 0x08, 0x07, 0x09, 0x41, 0x02, 0x01


class _Short(Exception):
    """The frame is not all there yet."""


def _string_end(data: bytearray, offset: int) -> int:
    if offset + 4 > len(data):
        raise _Short
    end = offset + 4 + _WORD.unpack_from(data, offset)[0]
    if end > len(data):
        raise _Short
    return end


class Replies:
    """The canned replies, by opcode."""

    def __init__(self, value_size: int) -> None:
        self.get = encode_success(STRING, b"v" * value_size)
        self.exists = _OK + b"\x01"
        self.who_master = encode_success(Option(STRING), b"canned")
        self.hello = encode_success(STRING, b"Arakoon 1.9.25")

    def frame(self, data: bytearray, offset: int) -> tuple[int, bytes] | None:
        """``(end of the frame, reply)`` for the frame at ``offset``; ``None``
        for a frame this server does not answer. Raises :class:`_Short`."""
        if offset + 4 > len(data):
            raise _Short
        word = _WORD.unpack_from(data, offset)[0]
        if word & MAGIC != MAGIC:
            return None
        opcode = word & 0xFFFF
        position = offset + 4
        if opcode in (GET, EXISTS):
            if position >= len(data):
                raise _Short
            position += 9 if data[position] == 2 else 1
            end = _string_end(data, position)
            return end, self.get if opcode == GET else self.exists
        if opcode == SET:
            return _string_end(data, _string_end(data, position)), _OK
        if opcode == NOP:
            return position, _OK
        if opcode == WHO_MASTER:
            return position, self.who_master
        if opcode == HELLO:
            return _string_end(data, _string_end(data, position)), self.hello
        return None


class Peer:
    """The server's side of one connection, without the socket: bytes in,
    reply bytes out (also used in memory, by :mod:`bench.round_trip`)."""

    def __init__(self, replies: Replies) -> None:
        self.replies = replies
        self.data = bytearray()
        self.greeted = False
        #: Set once a frame this server does not answer has arrived: the
        #: connection is to be closed.
        self.finished = False

    def receive(self, chunk: bytes) -> bytes:
        """The replies to the frames that ``chunk`` completes."""
        data = self.data
        data += chunk
        offset = 0
        out: list[bytes] = []
        replies = self.replies
        try:
            if not self.greeted:
                # magic, version, cluster id: no reply
                offset = _string_end(data, 8)
                self.greeted = True
            while offset < len(data):
                found = replies.frame(data, offset)
                if found is None:
                    self.finished = True
                    out.append(b"\xff\x00\x00\x00\x00\x00\x00\x00")
                    break
                end, reply = found
                size = end - offset
                # A run of frames identical to this one: one comparison,
                # one reply string.
                count = (len(data) - offset) // size
                if count > 1 and data[offset:end] * count == data[offset : offset + size * count]:
                    out.append(reply * count)
                    offset += size * count
                else:
                    out.append(reply)
                    offset = end
        except _Short:
            pass
        del data[:offset]
        return b"".join(out)


def serve_connection(connection: socket.socket, replies: Replies) -> None:
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    peer = Peer(replies)
    with connection:
        while not peer.finished:
            chunk = connection.recv(READ_SIZE)
            if not chunk:
                return
            out = peer.receive(chunk)
            if out:
                connection.sendall(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--value-size", type=int, default=100)
    options = parser.parse_args(argv)
    replies = Replies(options.value_size)
    listener = socket.create_server((options.host, options.port))
    print(f"PORT {listener.getsockname()[1]}", flush=True)

    def accept() -> None:
        while True:
            connection, _ = listener.accept()
            threading.Thread(
                target=serve_connection, args=(connection, replies), daemon=True
            ).start()

    threading.Thread(target=accept, daemon=True).start()
    # Serve until whoever started us closes our stdin (or kills us).
    sys.stdin.read()


if __name__ == "__main__":
    main()
