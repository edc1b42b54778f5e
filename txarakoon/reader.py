"""The one reader of the wire: bytes in, decoded values out. No I/O, no Twisted.

A :class:`Reader` is fed bytes as they arrive (:meth:`Reader.feed`) and asked
for the next value with a decoder (:meth:`Reader.read`): it returns the value,
or :data:`NEED_DATA` until enough bytes are there, and raises what the decoder
raises on bytes that break the protocol. Every driver uses it: the Twisted
protocol and the blocking client to read replies, the in-memory server to read
requests, :func:`decode` and the tests to read bytes already in memory.

A decoder (:class:`Decoder`, in practice a :class:`~txarakoon.codec.Type`) has
two ways to read one value, and the reader picks between them:

* ``decode_from(buffer, offset, limit)``, the fast path: the value is decoded
  in one go from bytes already in memory, or :class:`Incomplete` says how many
  more bytes it needs at least. Tried first, at the start of every value.
* ``receive(limit)``, the incremental path: a coroutine that asks for exactly
  the bytes it needs next (``data = yield n``) and returns the value. Used for
  a value that has not arrived whole; it resumes where it stopped each time
  more bytes come, so a value costs the same however it is cut.

Reads are linear, whatever the chunking (after h11's ``ReceiveBuffer``): the
unread bytes are an immutable ``bytes`` consumed through an offset, and what
arrives while a value is still short is kept as a list of pieces, joined once
when the coroutine's request can be met. A value of megabytes arriving in
kilobytes is copied once, not once per piece.
"""

from __future__ import annotations

import enum
from collections.abc import Generator
from typing import Final, Protocol, TypeVar

from .errors import ProtocolViolation

__all__ = [
    "DEFAULT_MAX_REPLY_LENGTH",
    "NEED_DATA",
    "Decoder",
    "Incomplete",
    "NeedData",
    "Reader",
    "Receiver",
    "decode",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

#: A receive coroutine: yields byte counts, is sent that many bytes, returns a T.
Receiver = Generator[int, bytes, T]

#: Default cap on any string length or element count in a reply: 64 MiB.
DEFAULT_MAX_REPLY_LENGTH: Final = 64 * 1024 * 1024


class Incomplete(Exception):
    """Raised by a decoder's ``decode_from`` when the buffer ends before the value.

    :ivar needed: how many more bytes, at least, the value needs past the end
        of the buffer (1 or more).
    """

    def __init__(self, needed: int) -> None:
        super().__init__(needed)
        self.needed = needed


class Decoder(Protocol[T_co]):
    """What :meth:`Reader.read` needs of a decoder (see the module documentation)."""

    #: The fewest bytes a value takes: 0 if it may take none.
    @property
    def min_size(self) -> int: ...

    #: Whether the value must be decoded as it arrives, by ``receive`` alone
    #: (``collapse_tlogs`` reports progress frame by frame).
    @property
    def streamed(self) -> bool: ...

    def decode_from(self, buffer: bytes, offset: int, limit: int) -> tuple[T_co, int]: ...

    def receive(self, limit: int) -> Receiver[T_co]: ...


class NeedData(enum.Enum):
    """The type of :data:`NEED_DATA` (an enum, so that ``value is NEED_DATA``
    narrows types)."""

    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return "NEED_DATA"


#: What :meth:`Reader.read` returns while the value has not all arrived.
NEED_DATA: Final = NeedData.NEED_DATA


class Reader:
    """Buffers bytes and decodes values from them (see the module documentation).

    :param limit: the largest string length or element count a decoder
        accepts (``max_reply_length``); a larger one is a protocol violation,
        raised before anything is allocated for it.
    """

    __slots__ = (
        "_data",
        "_missing",
        "_offset",
        "_pieces",
        "_pieces_size",
        "_receiver",
        "_wanted",
        "limit",
    )

    def __init__(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> None:
        self.limit = limit
        # Unread bytes: `_data[_offset:]`, then each of `_pieces`, in order.
        self._data = b""
        self._offset = 0
        self._pieces: list[bytes] = []
        self._pieces_size = 0
        # The value being read incrementally, and how many bytes it wants next.
        self._receiver: Receiver[object] | None = None
        self._wanted = 0
        # While it waits: how many of those bytes have not arrived yet.
        self._missing = 0

    def __len__(self) -> int:
        """How many bytes have been fed and not yet consumed by a decoder."""
        return len(self._data) - self._offset + self._pieces_size

    def __repr__(self) -> str:
        state = f", reading (wants {self._wanted})" if self._receiver is not None else ""
        return f"<Reader {len(self)} bytes unread{state}>"

    @property
    def reading(self) -> bool:
        """Whether a value is partly read: the next :meth:`read` resumes it."""
        return self._receiver is not None

    @property
    def wanted(self) -> int:
        """While :attr:`reading`, how many bytes the value needs next (the
        bytes already unread count towards them); otherwise 0."""
        return self._wanted if self._receiver is not None else 0

    def feed(self, data: bytes | bytearray | memoryview) -> bool:
        """Add bytes that arrived. Returns whether :meth:`read` may now make
        progress: false only while a value in progress still lacks bytes, so
        that a driver fed a large value in small pieces need not ask after
        each."""
        size = len(data)
        if size:
            if type(data) is not bytes:
                data = bytes(data)
            pieces = self._pieces
            if pieces or self._offset != len(self._data):
                pieces.append(data)
                self._pieces_size += size
            else:
                self._data = data
                self._offset = 0
            self._missing -= size
        return self._missing <= 0 or self._receiver is None

    def clear(self) -> None:
        """Drop every unread byte and the value in progress (the stream is
        finished, or no longer in sync)."""
        self._data = b""
        self._offset = 0
        self._pieces = []
        self._pieces_size = 0
        self._receiver = None
        self._wanted = 0
        self._missing = 0

    def read(self, decoder: Decoder[T]) -> T | NeedData:
        """The next value, decoded by ``decoder``, or :data:`NEED_DATA`.

        While a value is partly read (:attr:`reading`), this resumes it: pass
        the same decoder until it is done. An exception raised by the decoder
        (the bytes break the protocol) ends the value; what it consumed stays
        consumed.
        """
        if self._receiver is not None:
            return self.resume()  # type: ignore[return-value]
        if self._offset == len(self._data) and not self._pieces:
            if decoder.min_size:
                # Nothing to read yet: the coroutine is not started, so that
                # the value may still come whole, for the fast path.
                return NEED_DATA
        elif not decoder.streamed:
            if self._pieces:
                self._join()
            try:
                value, end = decoder.decode_from(self._data, self._offset, self.limit)
            except Incomplete:
                pass  # Not all here: the coroutine reads it as it comes.
            else:
                if end == len(self._data):
                    # All read: let go of the bytes (values are copies).
                    self._data = b""
                    self._offset = 0
                else:
                    self._offset = end
                return value
        return self.start(decoder.receive(self.limit))

    def start(self, receiver: Receiver[T]) -> T | NeedData:
        """Read one value with the coroutine ``receiver`` alone (no fast
        path): its value, or :data:`NEED_DATA`, after which :meth:`read`
        resumes it."""
        if self._receiver is not None:
            raise RuntimeError("a value is already being read")
        try:
            self._wanted = next(receiver)
        except StopIteration as done:
            value: T = done.value
            return value
        self._receiver = receiver
        return self.resume()  # type: ignore[return-value]

    def resume(self) -> object:
        """Resume the value in progress (:attr:`reading`) with the bytes fed
        since: its value, or :data:`NEED_DATA`."""
        receiver = self._receiver
        if receiver is None:
            raise RuntimeError("no value is being read")
        wanted = self._wanted
        try:
            while True:
                chunk = self._take(wanted)
                if chunk is None:
                    self._wanted = wanted
                    self._missing = wanted - len(self)
                    return NEED_DATA
                wanted = receiver.send(chunk)
        except StopIteration as done:
            self._receiver = None
            self._wanted = 0
            return done.value
        except BaseException:
            self._receiver = None
            self._wanted = 0
            raise

    def _take(self, count: int) -> bytes | None:
        """Consume exactly ``count`` bytes, or nothing if fewer are unread."""
        data = self._data
        start = self._offset
        end = start + count
        if end < len(data):
            self._offset = end
            return data[start:end]
        if end == len(data):
            self._data = b""
            self._offset = 0
            return data if start == 0 else data[start:end]
        available = len(data) - start
        if available + self._pieces_size < count:
            return None
        # Join the unread bytes and as many pieces as make up `count`, once;
        # the unread part of the last piece stays where it is.
        parts: list[bytes | memoryview] = [memoryview(data)[start:]] if available else []
        pieces = self._pieces
        if available + self._pieces_size - len(pieces[-1]) < count:
            # Usually: the value ends in the last piece (that one made it
            # whole), so every piece is taken.
            size = available + self._pieces_size
            parts += pieces
            self._pieces = []
            self._pieces_size = 0
        else:
            size = available
            taken = 0
            while size < count:
                piece = pieces[taken]
                taken += 1
                size += len(piece)
                self._pieces_size -= len(piece)
                parts.append(piece)
            del pieces[:taken]
        last = parts[-1]
        beyond = size - count
        if beyond:
            assert isinstance(last, bytes)  # a piece: the loop took at least one
            parts[-1] = memoryview(last)[: len(last) - beyond]
            self._data = last
            self._offset = len(last) - beyond
        else:
            self._data = b""
            self._offset = 0
        if len(parts) == 1:
            return bytes(parts[0])
        return b"".join(parts)

    def _join(self) -> None:
        """Make every unread byte one ``bytes``, for the fast path."""
        self._data = b"".join([memoryview(self._data)[self._offset :], *self._pieces])
        self._offset = 0
        self._pieces = []
        self._pieces_size = 0


def decode(receiver: Receiver[T], data: bytes) -> T:
    """Run ``receiver`` over ``data``, which must hold exactly one value.

    Raises :class:`~txarakoon.errors.ProtocolViolation` when ``data`` is short or
    has bytes left over.
    """
    reader = Reader()
    reader.feed(data)
    value = reader.start(receiver)
    if value is NEED_DATA:
        needed = len(data) - len(reader) + reader.wanted
        raise ProtocolViolation(f"truncated: needed {needed} bytes, have {len(data)}")
    if len(reader):
        raise ProtocolViolation(f"{len(reader)} bytes left over")
    return value
