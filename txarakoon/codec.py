"""Wire types: encode Python values to bytes, and decode them. No I/O, no Twisted.

Every type has:

* ``check(value)`` — validate and normalise a caller's value (``str`` keys become
  UTF-8 ``bytes``), raising :class:`TypeError` / :class:`ValueError`;
* ``encode(value)`` — the wire bytes of an already checked value;
* ``decode_from(buffer, offset, limit)`` — its one decoder: the value at
  ``buffer[offset:]`` and the offset after it, or :class:`Incomplete` saying
  how many more bytes it needs at least. ``limit`` caps every string length and
  element count: a larger prefix raises
  :class:`~txarakoon.errors.ProtocolViolation` instead of allocating.

The incremental decoder, ``receive(limit)`` — a coroutine that asks for the
bytes it needs next (``data = yield n``) and returns the value — is derived
from ``decode_from`` once, here in :class:`Type`: a value whose bytes are not
all there yet is decoded again once the bytes it said it lacks have come, which
for a leaf (a number, a flag, a consistency) happens at most twice. Composites
chain their parts' coroutines instead, so that each part is read once:
:class:`Option`, :class:`Product` and the string-wrapped values; a string waits
for its length, then for its bytes, and is handed them without a copy. Only
collections stream by hand: they ask for as many bytes as their remaining
elements certainly take (at most :data:`READ_AHEAD`) and decode every complete
element of them at once with ``decode_many``, so a reply of a million entries
costs hundreds of resumptions, not millions.

:class:`~txarakoon.reader.Reader` chooses between the two paths: ``decode_from``
for a value already whole in memory (the common case), the coroutine for one
arriving in pieces. A property test holds them to the same values, consumed
bytes and errors.

The same types decode what they encode and encode what they decode, so the
in-memory server (:mod:`txarakoon.testing`) reads requests and writes replies with
them.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import Any, Final, Generic, TypeVar

from .consistency import AtLeast, Consistency, Consistent, NoGuarantees
from .errors import ProtocolViolation
from .reader import DEFAULT_MAX_REPLY_LENGTH, Incomplete, Receiver, decode

__all__ = [
    "BOOL",
    "CONSISTENCY",
    "DEFAULT_MAX_REPLY_LENGTH",
    "FLOAT",
    "INT32",
    "INT64",
    "READ_AHEAD",
    "STRING",
    "UINT32",
    "UINT64",
    "UNIT",
    "Array",
    "Incomplete",
    "Option",
    "Product",
    "Receiver",
    "RequestList",
    "ResponseList",
    "String",
    "StringWrapped",
    "Type",
    "decode",
]

T = TypeVar("T")

#: The most bytes a collection's coroutine asks for beyond the element it is
#: in: the bound on how long a malformed element can go unnoticed, and on what
#: a count prefix alone can make a reader wait for.
READ_AHEAD: Final = 64 * 1024


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


def _int_type_name(value: Any) -> str:
    return type(value).__name__


class _Integer(Type[int]):
    def __init__(self, name: str, fmt: str, low: int, high: int) -> None:
        self.name = name
        self._struct = struct.Struct(fmt)
        self.size = self.min_size = self._struct.size
        self.low = low
        self.high = high

    def __repr__(self) -> str:
        return self.name

    def check(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected an int, not {_int_type_name(value)}")
        if not self.low <= value <= self.high:
            raise ValueError(f"{value} is out of range for {self.name} ({self.low}..{self.high})")
        return value

    def encode(self, value: int) -> bytes:
        return self._struct.pack(value)

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[int, int]:
        end = offset + self.size
        if end > len(buffer):
            raise Incomplete(end - len(buffer))
        value: int = self._struct.unpack_from(buffer, offset)[0]
        return value, end


UINT32: Final = _Integer("uint32", "<I", 0, 2**32 - 1)
INT32: Final = _Integer("int32", "<i", -(2**31), 2**31 - 1)
UINT64: Final = _Integer("uint64", "<Q", 0, 2**64 - 1)
INT64: Final = _Integer("int64", "<q", -(2**63), 2**63 - 1)

_LENGTH = struct.Struct("<I")


class _Unit(Type[None]):
    def __repr__(self) -> str:
        return "unit"

    def check(self, value: Any) -> None:
        if value is not None:
            raise TypeError("unit takes no value")

    def encode(self, value: None) -> bytes:
        return b""

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[None, int]:
        return None, offset


UNIT: Final = _Unit()


class _Bool(Type[bool]):
    min_size = 1

    def __repr__(self) -> str:
        return "bool"

    def check(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise TypeError(f"expected a bool, not {type(value).__name__}")
        return value

    def encode(self, value: bool) -> bytes:
        return b"\x01" if value else b"\x00"

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[bool, int]:
        return _decode_flag(buffer, offset), offset + 1


def _decode_flag(buffer: bytes, offset: int) -> bool:
    """The bool at ``buffer[offset]`` (shared by :class:`Option`)."""
    if offset >= len(buffer):
        raise Incomplete(1)
    byte = buffer[offset]
    if byte > 1:
        raise ProtocolViolation(f"invalid bool byte {byte:02x}")
    return byte == 1


BOOL: Final = _Bool()

_DOUBLE = struct.Struct("<d")


class _Float(Type[float]):
    min_size = 8

    def __repr__(self) -> str:
        return "float"

    def check(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"expected a float, not {type(value).__name__}")
        try:
            return float(value)
        except OverflowError:
            raise ValueError(f"{value} is too large for a double") from None

    def encode(self, value: float) -> bytes:
        return _DOUBLE.pack(value)

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[float, int]:
        end = offset + 8
        if end > len(buffer):
            raise Incomplete(end - len(buffer))
        value: float = _DOUBLE.unpack_from(buffer, offset)[0]
        return value, end


FLOAT: Final = _Float()


def _check_length(length: int, limit: int, what: str) -> None:
    if length > limit:
        raise ProtocolViolation(f"{what} {length} exceeds the limit of {limit}")


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
        return _LENGTH.pack(len(value)) + value

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[bytes]:
        # A composite of a length and that many bytes: each is waited for
        # once, and the bytes are the value as they come (decoding them
        # again, as Type.receive would, would copy a large value twice).
        length = yield from UINT32.receive(limit)
        _check_length(length, limit, "string length")
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
        length = _LENGTH.unpack_from(buffer, offset)[0]
        _check_length(length, limit, "string length")
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
        unpack = _LENGTH.unpack_from
        append = items.append
        size = len(buffer)
        for _ in range(count):
            start = offset + 4
            if start > size:
                return offset, start - size
            length = unpack(buffer, offset)[0]
            if length > limit:
                _check_length(length, limit, "string length")
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


class Option(Type["T | None"]):
    """``None`` or a value of ``inner``: a bool flag, then the value if the flag is set."""

    min_size = 1

    def __init__(self, inner: Type[T]) -> None:
        self.inner = inner

    def __repr__(self) -> str:
        return f"option<{self.inner!r}>"

    def check(self, value: Any) -> T | None:
        return None if value is None else self.inner.check(value)

    def encode(self, value: T | None) -> bytes:
        if value is None:
            return b"\x00"
        return b"\x01" + self.inner.encode(value)

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[T | None]:
        present = yield from BOOL.receive(limit)
        if not present:
            return None
        value = yield from self.inner.receive(limit)
        return value

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[T | None, int]:
        if not _decode_flag(buffer, offset):
            return None, offset + 1
        return self.inner.decode_from(buffer, offset + 1, limit)


class Product(Type[tuple[Any, ...]]):
    """A tuple: the fields back to back, no header."""

    def __init__(self, *fields: Type[Any]) -> None:
        self.fields = fields
        self.min_size = sum(field.min_size for field in fields)
        # (string, string) is the element of range_entries replies: worth a
        # loop of its own in decode_many.
        self._string_pair = len(fields) == 2 and all(type(f) is String for f in fields)

    def __repr__(self) -> str:
        return "(" + ", ".join(map(repr, self.fields)) + ")"

    def check(self, value: Any) -> tuple[Any, ...]:
        if not isinstance(value, tuple) or len(value) != len(self.fields):
            raise TypeError(f"expected a tuple of {len(self.fields)} items, not {value!r}")
        return tuple(field.check(item) for field, item in zip(self.fields, value, strict=True))

    def encode(self, value: tuple[Any, ...]) -> bytes:
        return b"".join(field.encode(item) for field, item in zip(self.fields, value, strict=True))

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[tuple[Any, ...]]:
        items = []
        for field in self.fields:
            items.append((yield from field.receive(limit)))
        return tuple(items)

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[tuple[Any, ...], int]:
        items = []
        for field in self.fields:
            value, offset = field.decode_from(buffer, offset, limit)
            items.append(value)
        return tuple(items), offset

    def decode_many(
        self, buffer: bytes, offset: int, count: int, limit: int, items: list[tuple[Any, ...]]
    ) -> tuple[int, int]:
        if not self._string_pair:
            return super().decode_many(buffer, offset, count, limit, items)
        # The entries of range_entries replies: twice as many strings in
        # String's bulk loop, then paired. A pair cut in two is given back
        # whole: its first string is not taken.
        strings: list[bytes] = []
        end, needed = STRING.decode_many(buffer, offset, 2 * count, limit, strings)
        if len(strings) % 2:
            end -= 4 + len(strings.pop())
        pairs = iter(strings)
        items.extend(zip(pairs, pairs, strict=True))
        return end, needed


class _Collection(Type[list[T]]):
    """``u32 count`` then ``count`` elements; subclasses fix the wire order."""

    #: Whether the wire order is the reverse of the logical order.
    reversed_on_wire = False
    kind = "collection"
    min_size = 4

    def __init__(self, element: Type[T]) -> None:
        self.element = element

    def __repr__(self) -> str:
        return f"{self.kind}<{self.element!r}>"

    def check(self, value: Any) -> list[T]:
        if isinstance(value, (str, bytes, bytearray, memoryview)) or not isinstance(
            value, Iterable
        ):
            raise TypeError(f"expected an iterable of items, not {type(value).__name__}")
        return [self.element.check(item) for item in value]

    def encode(self, value: Sequence[T]) -> bytes:
        items = reversed(value) if self.reversed_on_wire else value
        encode = self.element.encode
        return _LENGTH.pack(len(value)) + b"".join(encode(item) for item in items)

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[list[T]]:
        count = _LENGTH.unpack((yield 4))[0]
        _check_length(count, limit, "element count")
        items: list[T] = []
        element = self.element
        # Not a coroutine per element: ask for what the remaining elements
        # certainly take (never more, so a reader never waits for bytes that
        # are not part of this value), then decode every complete element of
        # it at once. `pending` holds the start of an element cut in two.
        pending = b""
        while True:
            used, needed = element.decode_many(pending, 0, count - len(items), limit, items)
            if not needed:
                break
            pending = pending[used:]
            ahead = (count - len(items)) * element.min_size - len(pending)
            pending += yield max(needed, min(ahead, READ_AHEAD))
        if self.reversed_on_wire:
            items.reverse()
        return items

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[list[T], int]:
        start = offset + 4
        if start > len(buffer):
            raise Incomplete(start - len(buffer))
        count = _LENGTH.unpack_from(buffer, offset)[0]
        _check_length(count, limit, "element count")
        items: list[T] = []
        end, needed = self.element.decode_many(buffer, start, count, limit, items)
        if needed:
            raise Incomplete(needed)
        if self.reversed_on_wire:
            items.reverse()
        return items, end


class ResponseList(_Collection[T]):
    """A server "list": on the wire in the reverse of the logical order (§3.2)."""

    reversed_on_wire = True
    kind = "list"


class Array(_Collection[T]):
    """A server "array" (``multi_get_option``): wire order is logical order."""

    kind = "array"


class RequestList(_Collection[T]):
    """A list in a request, written in the caller's order (pyrakoon's convention)."""

    kind = "request list"


_CONSISTENCY_BY_TAG: dict[int, Consistency] = {0: Consistent, 1: NoGuarantees}


_CONSISTENCY_BYTES: dict[int, bytes] = {0: b"\x00", 1: b"\x01"}


class _Consistency(Type[Consistency]):
    min_size = 1

    def __repr__(self) -> str:
        return "consistency"

    def check(self, value: Any) -> Consistency:
        if not isinstance(value, Consistency) or value.TAG < 0:
            raise TypeError(
                f"expected a consistency (Consistent, NoGuarantees or AtLeast(i)), not {value!r}"
            )
        return value

    def encode(self, value: Consistency) -> bytes:
        if isinstance(value, AtLeast):
            return b"\x02" + INT64.encode(value.i)
        return _CONSISTENCY_BYTES[value.TAG]

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[Consistency, int]:
        if offset >= len(buffer):
            raise Incomplete(1)
        tag = buffer[offset]
        if tag == 2:
            i, end = INT64.decode_from(buffer, offset + 1, limit)
            if i < 0:
                raise ProtocolViolation(f"AtLeast({i}) is negative")
            return AtLeast(i), end
        try:
            return _CONSISTENCY_BY_TAG[tag], offset + 1
        except KeyError:
            raise ProtocolViolation(f"invalid consistency tag {tag}") from None


CONSISTENCY: Final = _Consistency()
