"""The argument and result types that only commands need: keys and values
with their size limit, statistics, versions, counts that must be positive."""

from __future__ import annotations

from typing import Any, Final

from .codec import (
    DEFAULT_MAX_REPLY_LENGTH,
    FLOAT,
    INT32,
    INT64,
    STRING,
    Option,
    Product,
    RequestList,
    String,
    StringWrapped,
    Type,
)
from .errors import ProtocolViolation

__all__ = [
    "KEY",
    "KEYS",
    "MAX_VALUE_SIZE",
    "OPTIONAL_KEY",
    "OPTIONAL_VALUE",
    "STATISTICS",
    "VALUE",
    "VERSION",
    "Int64",
    "PositiveInt32",
    "Statistics",
    "Version",
]

#: Arakoon refuses a value of this many bytes or more in set, confirm,
#: test_and_set and replace (``max_value_size``, PROTOCOL.md §6.3). The client
#: refuses it before sending, since the server would close the connection.
MAX_VALUE_SIZE: Final = 8 * 1024 * 1024

KEY: Final = STRING
OPTIONAL_KEY: Final = Option(STRING)
VALUE: Final = String("value", max_length=MAX_VALUE_SIZE - 1)
OPTIONAL_VALUE: Final = Option(VALUE)
KEYS: Final = RequestList(STRING)


class PositiveInt32(Type[int]):
    """An int32 the client requires to be at least 1 (tlogs to keep). The server
    side decodes any int32, since it answers bad values itself."""

    min_size = 4

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return "int32"

    def check(self, value: Any) -> int:
        number = INT32.check(value)
        if number < 1:
            raise ValueError(f"{self.what} must be at least 1, not {number}")
        return number

    def encode(self, value: int) -> bytes:
        return INT32.encode(value)

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[int, int]:
        return INT32.decode_from(buffer, offset, limit)


class Int64(int):
    """An ``int`` that a statistics payload carries as int64 (type 2) rather than
    int32, so that it encodes back to the same bytes."""

    __slots__ = ()


Statistics = dict[str, Any]

_STAT_INT, _STAT_INT64, _STAT_FLOAT, _STAT_STRING, _STAT_LIST = 1, 2, 3, 4, 5


def _decode_named_field(buffer: bytes, offset: int, limit: int) -> tuple[tuple[str, Any], int]:
    kind, offset = INT32.decode_from(buffer, offset, limit)
    raw_name, offset = STRING.decode_from(buffer, offset, limit)
    name = raw_name.decode("utf-8", errors="surrogateescape")
    value: Any
    if kind == _STAT_INT:
        value, offset = INT32.decode_from(buffer, offset, limit)
    elif kind == _STAT_INT64:
        number, offset = INT64.decode_from(buffer, offset, limit)
        value = Int64(number)
    elif kind == _STAT_FLOAT:
        value, offset = FLOAT.decode_from(buffer, offset, limit)
    elif kind == _STAT_STRING:
        value, offset = STRING.decode_from(buffer, offset, limit)
    elif kind == _STAT_LIST:
        count, offset = INT32.decode_from(buffer, offset, limit)
        if not 0 <= count <= limit:
            raise ProtocolViolation(f"statistics list of {count} fields")
        value = {}
        for _ in range(count):
            (key, item), offset = _decode_named_field(buffer, offset, limit)
            value[key] = item
    else:
        raise ProtocolViolation(f"unknown statistics field type {kind}")
    return (name, value), offset


def _encode_named_field(name: str, value: Any) -> bytes:
    header = STRING.encode(name.encode("utf-8", errors="surrogateescape"))
    if isinstance(value, dict):
        body = b"".join(_encode_named_field(key, item) for key, item in value.items())
        return INT32.encode(_STAT_LIST) + header + INT32.encode(len(value)) + body
    if isinstance(value, Int64) or (
        isinstance(value, int) and not INT32.low <= value <= INT32.high
    ):
        return INT32.encode(_STAT_INT64) + header + INT64.encode(value)
    if isinstance(value, int):
        return INT32.encode(_STAT_INT) + header + INT32.encode(value)
    if isinstance(value, float):
        return INT32.encode(_STAT_FLOAT) + header + FLOAT.encode(value)
    if isinstance(value, bytes):
        return INT32.encode(_STAT_STRING) + header + STRING.encode(value)
    raise TypeError(f"cannot encode statistics field {name!r} of type {type(value).__name__}")


_STATISTICS_ROOT: Final = "arakoon_stats"


class _NamedFields(Type[Statistics]):
    """The tree of named fields inside a statistics string (PROTOCOL.md §8.1)."""

    def encode(self, value: Statistics) -> bytes:
        return _encode_named_field(_STATISTICS_ROOT, value)

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[Statistics, int]:
        (_, root), end = _decode_named_field(buffer, offset, limit)
        if not isinstance(root, dict):
            raise ProtocolViolation("statistics root is not a list of fields")
        return root, end


class _Statistics(StringWrapped[Statistics]):
    """A string wrapping one named-field tree (PROTOCOL.md §8.1), decoded as a
    nested dict: ints, floats, bytes, dicts. Field names are ``str``."""

    def __init__(self) -> None:
        super().__init__(_NamedFields())

    def __repr__(self) -> str:
        return "statistics"

    def check(self, value: Any) -> Statistics:
        if not isinstance(value, dict):
            raise TypeError(f"statistics must be a dict, not {type(value).__name__}")
        return value


STATISTICS: Final = _Statistics()

Version = tuple[int, int, int, bytes]
#: What range_entries and rev_range_entries answer: ``(key, value)`` pairs.
Entries = list[tuple[bytes, bytes]]
VERSION: Final = Product(INT32, INT32, INT32, STRING)


class _HookDefined(Type[None]):
    """What a user hook answers once the node has checked the consistency:
    the hook's own protocol (§6.2), which no declaration can decode."""

    def __repr__(self) -> str:
        return "hook-defined"

    def check(self, value: Any) -> None:
        raise TypeError("a user hook answers in its own protocol")

    def encode(self, value: None) -> bytes:
        raise TypeError("a user hook answers in its own protocol")

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[None, int]:
        raise ProtocolViolation("a user hook answers in its own protocol")


#: The reply of a user hook: no declaration can decode it.
HOOK_DEFINED: Final = _HookDefined()
