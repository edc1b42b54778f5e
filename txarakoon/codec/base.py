"""The wire type contract: :class:`Type`, and what every type shares."""

from __future__ import annotations

import struct
from typing import Any, Generic, TypeVar

from ..errors import ProtocolViolation
from ..reader import DEFAULT_MAX_REPLY_LENGTH, Incomplete, Receiver

T = TypeVar("T")

#: The layout of every length and count prefix.
LENGTH = struct.Struct("<I")


class Type(Generic[T]):
    """A wire type. Subclasses implement :meth:`check`, :meth:`encode` and
    :meth:`decode_from`; composites and collections also :meth:`receive`."""

    #: The fewest bytes a value of this type takes on the wire. Collections
    #: use it to read ahead, so it must never exceed the true minimum; 0 is
    #: always safe.
    min_size: int = 0

    #: Whether a value must be decoded as it arrives, by :meth:`receive`
    #: alone (see :class:`~txarakoon.reader.Reader`).
    streamed: bool = False

    def check(self, value: Any) -> T:
        """Validate and normalise a caller's value; raise ``TypeError``/``ValueError``."""
        raise NotImplementedError

    def encode(self, value: T) -> bytes:
        """The wire bytes of ``value`` (which :meth:`check` accepted)."""
        raise NotImplementedError

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[T, int]:
        """Decode the value at ``buffer[offset:]``: ``(value, offset after it)``.

        Raises :class:`Incomplete` if ``buffer`` ends before the value does,
        and :class:`~txarakoon.errors.ProtocolViolation` for bytes that break
        the protocol.
        """
        raise NotImplementedError

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[T]:
        """A coroutine decoding one value (see the module documentation).

        Derived from :meth:`decode_from`: it asks for the bytes the value
        lacks, then decodes again. Every ask is a lower bound, so it never
        asks for bytes past the value's end.
        """
        data = (yield self.min_size) if self.min_size else b""
        while True:
            try:
                value, _ = self.decode_from(data, 0, limit)
            except Incomplete as incomplete:
                data += yield incomplete.needed
            else:
                return value

    def decode_many(
        self, buffer: bytes, offset: int, count: int, limit: int, items: list[T]
    ) -> tuple[int, int]:
        """Decode up to ``count`` values from ``buffer[offset:]`` into ``items``.

        Returns ``(offset after the last complete value, needed)``: ``needed`` is
        0 once all ``count`` are decoded, otherwise how many more bytes the next
        value needs at least (as :class:`Incomplete` says). Raises what
        :meth:`decode_from` raises for a malformed value.
        """
        decode_from = self.decode_from
        append = items.append
        try:
            for _ in range(count):
                value, offset = decode_from(buffer, offset, limit)
                append(value)
        except Incomplete as incomplete:
            return offset, incomplete.needed
        return offset, 0

    def decode_whole(self, data: bytes, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> T:
        """The one value that ``data`` holds, all of it.

        Raises :class:`~txarakoon.errors.ProtocolViolation` when ``data`` is
        short or has bytes left over.
        """
        try:
            value, end = self.decode_from(data, 0, limit)
        except Incomplete as incomplete:
            raise ProtocolViolation(
                f"truncated: needed {len(data) + incomplete.needed} bytes, have {len(data)}"
            ) from None
        if end != len(data):
            raise ProtocolViolation(f"{len(data) - end} bytes left over")
        return value


def check_length(length: int, limit: int, what: str) -> None:
    """Refuse a length or count prefix above ``limit`` before allocating."""
    if length > limit:
        raise ProtocolViolation(f"{what} {length} exceeds the limit of {limit}")
