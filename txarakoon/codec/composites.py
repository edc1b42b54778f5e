"""Composite types: options, tuples, and collections (read in bulk)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final, TypeVar

from ..reader import DEFAULT_MAX_REPLY_LENGTH, Incomplete, Receiver
from .base import LENGTH, Type, check_length
from .scalars import BOOL, decode_flag
from .strings import STRING, String

T = TypeVar("T")

#: The most bytes a collection's coroutine asks for beyond the element it is
#: in: the bound on how long a malformed element can go unnoticed, and on what
#: a count prefix alone can make a reader wait for.
READ_AHEAD: Final = 64 * 1024


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
        if not decode_flag(buffer, offset):
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
        return LENGTH.pack(len(value)) + b"".join(encode(item) for item in items)

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[list[T]]:
        count = LENGTH.unpack((yield 4))[0]
        check_length(count, limit, "element count")
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
        count = LENGTH.unpack_from(buffer, offset)[0]
        check_length(count, limit, "element count")
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
