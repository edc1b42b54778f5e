"""Numbers, flags, unit, and the read consistency: values of a fixed layout."""

from __future__ import annotations

import struct
from typing import Any, Final

from ..consistency import AtLeast, Consistency, Consistent, NoGuarantees
from ..errors import ProtocolViolation
from ..reader import DEFAULT_MAX_REPLY_LENGTH, Incomplete
from .base import Type


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
        return decode_flag(buffer, offset), offset + 1


def decode_flag(buffer: bytes, offset: int) -> bool:
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
