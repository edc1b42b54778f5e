"""Length-prefixed bytes, and values carried inside them."""

from __future__ import annotations

from typing import Any, Final, TypeVar

from ..reader import DEFAULT_MAX_REPLY_LENGTH, Incomplete, Receiver
from .base import LENGTH, Type, check_length
from .scalars import UINT32

T = TypeVar("T")


class String(Type[bytes]):
    """Length-prefixed bytes. Accepts ``bytes``-like values and ``str`` (UTF-8)."""

    min_size = 4

    def __init__(self, name: str = "string", max_length: int = 2**31 - 1) -> None:
        self.name = name
        self.max_length = max_length

    def __repr__(self) -> str:
        return self.name

    def check(self, value: Any) -> bytes:
        data: bytes
        if isinstance(value, bytes):
            data = value
        elif isinstance(value, str):
            data = value.encode("utf-8")
        elif isinstance(value, (bytearray, memoryview)):
            data = bytes(value)
        else:
            raise TypeError(f"expected bytes or str, not {type(value).__name__}")
        if len(data) > self.max_length:
            raise ValueError(
                f"{self.name} of {len(data)} bytes exceeds the limit of {self.max_length} bytes"
            )
        return data

    def encode(self, value: bytes) -> bytes:
        return LENGTH.pack(len(value)) + value

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[bytes]:
        # A composite of a length and that many bytes: each is waited for
        # once, and the bytes are the value as they come (decoding them
        # again, as Type.receive would, would copy a large value twice).
        length = yield from UINT32.receive(limit)
        check_length(length, limit, "string length")
        if length == 0:
            return b""
        data = yield length
        return data

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[bytes, int]:
        start = offset + 4
        size = len(buffer)
        if start > size:
            raise Incomplete(start - size)
        length = LENGTH.unpack_from(buffer, offset)[0]
        check_length(length, limit, "string length")
        end = start + length
        if end > size:
            raise Incomplete(end - size)
        return buffer[start:end], end

    def decode_many(
        self, buffer: bytes, offset: int, count: int, limit: int, items: list[bytes]
    ) -> tuple[int, int]:
        # decode_from inlined: this loop reads the keys and values of range,
        # range_entries, prefix_keys and multi_get replies, where a call per
        # string would cost half the time.
        unpack = LENGTH.unpack_from
        append = items.append
        size = len(buffer)
        for _ in range(count):
            start = offset + 4
            if start > size:
                return offset, start - size
            length = unpack(buffer, offset)[0]
            if length > limit:
                check_length(length, limit, "string length")
            end = start + length
            if end > size:
                return offset, end - size
            append(buffer[start:end])
            offset = end
        return offset, 0


STRING: Final = String()


class StringWrapped(Type[T]):
    """A value carried as the bytes of a string (statistics, the steps of a
    sequence): the string is read whole, then its bytes decoded by
    :attr:`content`, which must take all of them."""

    min_size = 4

    def __init__(self, content: Type[Any]) -> None:
        self.content = content

    def encode(self, value: T) -> bytes:
        return STRING.encode(self.content.encode(value))

    def unwrap(self, value: Any) -> T:
        """The decoded content as this type's value; raise
        :class:`~txarakoon.errors.ProtocolViolation` if it cannot be one."""
        result: T = value
        return result

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[T, int]:
        payload, end = STRING.decode_from(buffer, offset, limit)
        return self.unwrap(self.content.decode_whole(payload, limit)), end

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[T]:
        payload = yield from STRING.receive(limit)
        return self.unwrap(self.content.decode_whole(payload, limit))
