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
    "STRING",
    "UINT32",
    "UINT64",
    "UNIT",
    "Array",
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


class Type(Generic[T]):
    """A wire type. Subclasses implement :meth:`check`, :meth:`encode`, :meth:`receive`."""

    def check(self, value: Any) -> T:
        """Validate and normalise a caller's value; raise ``TypeError``/``ValueError``."""
        raise NotImplementedError

    def encode(self, value: T) -> bytes:
        """The wire bytes of ``value`` (which :meth:`check` accepted)."""
        raise NotImplementedError

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[T]:
        """A coroutine decoding one value (see the module documentation)."""
        raise NotImplementedError


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
        self.size = self._struct.size
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


UNIT: Final = _Unit()


class _Bool(Type[bool]):
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


BOOL: Final = _Bool()

_DOUBLE = struct.Struct("<d")


class _Float(Type[float]):
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


FLOAT: Final = _Float()


def _check_length(length: int, limit: int, what: str) -> None:
    if length > limit:
        raise ProtocolViolation(f"{what} {length} exceeds the limit of {limit}")


class String(Type[bytes]):
    """Length-prefixed bytes. Accepts ``bytes``-like values and ``str`` (UTF-8)."""

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


STRING: Final = String()


class Option(Type["T | None"]):
    """``None`` or a value of ``inner``: a bool flag, then the value if the flag is set."""

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


class Product(Type[tuple[Any, ...]]):
    """A tuple: the fields back to back, no header."""

    def __init__(self, *fields: Type[Any]) -> None:
        self.fields = fields

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


class _Collection(Type[list[T]]):
    """``u32 count`` then ``count`` elements; subclasses fix the wire order."""

    #: Whether the wire order is the reverse of the logical order.
    reversed_on_wire = False
    kind = "collection"

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
        append = items.append
        receive = self.element.receive
        for _ in range(count):
            append((yield from receive(limit)))
        if self.reversed_on_wire:
            items.reverse()
        return items


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


class _Consistency(Type[Consistency]):
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
        return bytes((value.TAG,))

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


CONSISTENCY: Final = _Consistency()
