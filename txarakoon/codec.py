"""Wire types: encode Python values to bytes, decode them with receive coroutines.

No I/O and no Twisted here. Every type has:

* ``check(value)`` — validate and normalise a caller's value (``str`` keys become
  UTF-8 ``bytes``), raising :class:`TypeError` / :class:`ValueError`;
* ``encode(value)`` — the wire bytes of an already checked value;
* ``receive(limit)`` — a generator that decodes one value: it yields the number
  of bytes it needs next, is sent exactly that many bytes, and returns the value
  (``data = yield n``). Composite types delegate with ``yield from``. ``limit``
  caps every string length and element count: a larger prefix raises
  :class:`~txarakoon.errors.ProtocolViolation` instead of allocating.

* ``decode_from(buffer, offset, limit)`` — the fast path: decode one value that
  is already all in ``buffer`` and return ``(value, end)``, or raise
  :class:`Incomplete` if the buffer ends first. It raises what ``receive`` would
  raise at the same bytes, and returns what it would return: a property test
  holds the two paths to that. A reply that arrives whole (the common case) is
  decoded without resuming a coroutine per field; the coroutines stay the
  general path, for replies that arrive in pieces.

Collections use the fast path inside their coroutine too: they ask for as many
bytes as the remaining elements certainly take (at most :data:`READ_AHEAD`) and
decode every complete element of what they get at once, so a reply of a
million entries costs hundreds of resumptions rather than millions.

The same types decode what they encode and encode what they decode, so the
in-memory server (:mod:`txarakoon.testing`) reads requests and writes replies with
them. :func:`decode` runs a receive coroutine over bytes already in memory.
"""

from __future__ import annotations

import struct
from collections.abc import Generator, Iterable, Sequence
from typing import Any, Final, Generic, TypeVar

from .consistency import AtLeast, Consistency, Consistent, NoGuarantees
from .errors import ProtocolViolation

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
    "Type",
    "decode",
]

T = TypeVar("T")

#: A receive coroutine: yields byte counts, is sent that many bytes, returns a T.
Receiver = Generator[int, bytes, T]

#: Default cap on any string length or element count in a reply: 64 MiB.
DEFAULT_MAX_REPLY_LENGTH: Final = 64 * 1024 * 1024

#: The most bytes a collection's coroutine asks for beyond the element it is
#: in: the bound on how long a malformed element can go unnoticed, and on what
#: a count prefix alone can make a reader wait for.
READ_AHEAD: Final = 64 * 1024


class Incomplete(Exception):
    """Raised by :meth:`Type.decode_from` when the buffer ends before the value.

    :ivar needed: how many more bytes, at least, the value needs past the end
        of the buffer (1 or more).
    """

    def __init__(self, needed: int) -> None:
        super().__init__(needed)
        self.needed = needed


class Type(Generic[T]):
    """A wire type. Subclasses implement :meth:`check`, :meth:`encode`, :meth:`receive`,
    and may override :meth:`decode_from` / :meth:`decode_many` for speed."""

    #: The fewest bytes a value of this type takes on the wire. Collections
    #: use it to read ahead, so it must never exceed the true minimum; 0 is
    #: always safe.
    min_size: int = 0

    def check(self, value: Any) -> T:
        """Validate and normalise a caller's value; raise ``TypeError``/``ValueError``."""
        raise NotImplementedError

    def encode(self, value: T) -> bytes:
        """The wire bytes of ``value`` (which :meth:`check` accepted)."""
        raise NotImplementedError

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[T]:
        """A coroutine decoding one value (see the module documentation)."""
        raise NotImplementedError

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[T, int]:
        """Decode the value at ``buffer[offset:]``: ``(value, offset after it)``.

        Raises :class:`Incomplete` if ``buffer`` ends before the value does, and
        otherwise exactly what :meth:`receive` raises on the same bytes. This
        default runs :meth:`receive`; types read in bulk override it.
        """
        receiver = self.receive(limit)
        size = len(buffer)
        try:
            wanted = next(receiver)
            while True:
                end = offset + wanted
                if end > size:
                    raise Incomplete(end - size)
                chunk = buffer[offset:end]
                offset = end
                wanted = receiver.send(chunk)
        except StopIteration as done:
            value: T = done.value
            return value, offset

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


def decode(receiver: Receiver[T], data: bytes) -> T:
    """Run ``receiver`` over ``data``, which must hold exactly one value.

    Raises :class:`~txarakoon.errors.ProtocolViolation` when ``data`` is short or
    has bytes left over.
    """
    view = memoryview(data)
    offset = 0
    try:
        wanted = next(receiver)
        while True:
            end = offset + wanted
            if end > len(view):
                raise ProtocolViolation(f"truncated: needed {end} bytes, have {len(view)}")
            chunk = bytes(view[offset:end])
            offset = end
            wanted = receiver.send(chunk)
    except StopIteration as done:
        if offset != len(view):
            raise ProtocolViolation(f"{len(view) - offset} bytes left over") from None
        value: T = done.value
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

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[int]:
        data = yield self.size
        value: int = self._struct.unpack(data)[0]
        return value

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

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[None]:
        return None
        yield 0  # pragma: no cover - makes this function a generator

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

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[bool]:
        data = yield 1
        if data == b"\x00":
            return False
        if data == b"\x01":
            return True
        raise ProtocolViolation(f"invalid bool byte {data.hex()}")

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

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[float]:
        data = yield 8
        value: float = _DOUBLE.unpack(data)[0]
        return value

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
        length = _LENGTH.unpack((yield 4))[0]
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
        # decode_from inlined: this loop reads the keys of range, prefix_keys
        # and multi_get replies, where a call per string would dominate.
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
        # String.decode_many's loop, two strings per element, checked in wire
        # order so that errors and Incomplete come at the same bytes.
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
            middle = start + length
            if middle + 4 > size:
                return offset, middle + 4 - size
            length = unpack(buffer, middle)[0]
            if length > limit:
                _check_length(length, limit, "string length")
            end = middle + 4 + length
            if end > size:
                return offset, end - size
            append((buffer[start:middle], buffer[middle + 4 : end]))
            offset = end
        return offset, 0


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

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[Consistency]:
        tag = (yield 1)[0]
        if tag == 2:
            i = yield from INT64.receive(limit)
            if i < 0:
                raise ProtocolViolation(f"AtLeast({i}) is negative")
            return AtLeast(i)
        try:
            return _CONSISTENCY_BY_TAG[tag]
        except KeyError:
            raise ProtocolViolation(f"invalid consistency tag {tag}") from None

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
