"""What the server answered: one exception class per return code
(PROTOCOL.md §4.1), each knowing whether the server closes the connection
after it. Importable from :mod:`txarakoon.errors`, where the client's own
failures live too."""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ArakoonError",
    "AssertionFailed",
    "BadInput",
    "GoingDown",
    "InconsistentRead",
    "MaxConnections",
    "NoHello",
    "NoLongerMaster",
    "NoMagic",
    "NotFound",
    "NotMaster",
    "NotSupported",
    "OutsideInterval",
    "ReadOnly",
    "TooManyDeadNodes",
    "UnknownFailure",
    "UnsupportedCommand",
    "UserFunctionFailure",
    "UserHookNotFound",
    "WrongCluster",
    "error_for_code",
]


def _readable(message: bytes) -> str:
    return message.decode("utf-8", errors="backslashreplace")


class ArakoonError(Exception):
    """A non-zero return code sent by the server.

    :ivar code: the return code as sent on the wire.
    :ivar message: the server's message, as bytes (``b""`` when none was sent).
    """

    #: The return code this class stands for (``None`` on the base class).
    CODE: ClassVar[int | None] = None
    #: Whether the server closes the connection after sending this code.
    closes_connection: ClassVar[bool] = True

    code: int
    message: bytes

    def __init__(self, message: bytes = b"", code: int | None = None) -> None:
        if code is None:
            if self.CODE is None:
                raise TypeError(f"{type(self).__name__} needs an explicit code")
            code = self.CODE
        self.code = code
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return _readable(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code=0x{self.code:02x}, message={self.message!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_error, (type(self), self.message, self.code))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, ArakoonError)
        return (self.code, self.message) == (other.code, other.message)

    def __hash__(self) -> int:
        return hash((type(self), self.code, self.message))


def _rebuild_error(cls: type[ArakoonError], message: bytes, code: int) -> ArakoonError:
    return cls(message, code)


class NoMagic(ArakoonError):
    """0x01: the command word lacked the magic. The server sends no message."""

    CODE = 0x01


class TooManyDeadNodes(ArakoonError):
    """0x02: legacy code of servers older than 1.9."""

    CODE = 0x02


class NoHello(ArakoonError):
    """0x03: defined by the protocol, never sent by the 1.9 server."""

    CODE = 0x03


class NotMaster(ArakoonError):
    """0x04: the node is not the master. The message names the node it believes is
    master, or is ``b"None"``; it is a hint only. The connection is closed."""

    CODE = 0x04

    @property
    def master_hint(self) -> bytes | None:
        """The master named by the server, or ``None`` when it knew none."""
        if self.message in (b"None", b"Not_Master", b""):
            return None
        return self.message


class NotFound(ArakoonError, KeyError):
    """0x05: a key was missing. The message is ``Not_found`` or the key itself.

    Also a :class:`KeyError`, so ``except KeyError`` works as with a dict.
    """

    CODE = 0x05
    closes_connection = False

    def __str__(self) -> str:
        return _readable(self.message)


class UnsupportedCommand(ArakoonError):
    """0x05 with ``<opcode>: command not found``: the server does not know the
    opcode (an older server, or a newer client). Not a :class:`NotFound`; the
    server closes the connection (PROTOCOL.md D7)."""

    CODE = 0x05


class WrongCluster(ArakoonError, ValueError):
    """0x06: defined by the protocol, never sent by the 1.9 server, which closes
    the connection silently on a wrong cluster id instead."""

    CODE = 0x06


class AssertionFailed(ArakoonError):
    """0x07: an assertion (``assert_``, ``assert_exists``, a sequence step) failed.
    The message is the key, or for a range assertion a description."""

    CODE = 0x07
    closes_connection = False


class ReadOnly(ArakoonError):
    """0x08: a write was sent to a node started read-only."""

    CODE = 0x08


class OutsideInterval(ArakoonError, ValueError):
    """0x09: the key is outside the node's public interval (nursery set-ups)."""

    CODE = 0x09


class GoingDown(ArakoonError):
    """0x10: the node is shutting down."""

    CODE = 0x10


class NotSupported(ArakoonError):
    """0x20: the operation is not supported on this node (e.g. ``optimize_db`` on
    the master, ``drop_master`` on a single node)."""

    CODE = 0x20


class NoLongerMaster(ArakoonError):
    """0x21: the node lost mastership while handling the request. A write may or
    may not have been applied. The connection stays open."""

    CODE = 0x21
    closes_connection = False


class BadInput(ArakoonError):
    """0x26: the request was refused as invalid (unknown user function, update
    too large). The connection stays open."""

    CODE = 0x26
    closes_connection = False


class InconsistentRead(ArakoonError):
    """0x80: an ``AtLeast(i)`` read reached a node that has not applied ``i`` yet.
    The connection stays open; retry later or elsewhere."""

    CODE = 0x80
    closes_connection = False


class UserFunctionFailure(ArakoonError):
    """0x81: the user function raised. The message is its error text."""

    CODE = 0x81


class UserHookNotFound(ArakoonError):
    """0x82: no user hook of that name is registered."""

    CODE = 0x82


class MaxConnections(ArakoonError):
    """0xfe: the node refused the connection (too many clients), before reading
    anything: whatever was sent on it was not applied."""

    CODE = 0xFE


class UnknownFailure(ArakoonError):
    """0xff, or any code this client does not know (:attr:`code` keeps the raw
    value). The server closes the connection."""

    CODE = 0xFF


_BY_CODE: dict[int, type[ArakoonError]] = {
    cls.CODE: cls
    for cls in (
        NoMagic,
        TooManyDeadNodes,
        NoHello,
        NotMaster,
        NotFound,
        WrongCluster,
        AssertionFailed,
        ReadOnly,
        OutsideInterval,
        GoingDown,
        NotSupported,
        NoLongerMaster,
        BadInput,
        InconsistentRead,
        UserFunctionFailure,
        UserHookNotFound,
        MaxConnections,
        UnknownFailure,
    )
    if cls.CODE is not None
}

_COMMAND_NOT_FOUND = b": command not found"


def error_for_code(code: int, message: bytes = b"") -> ArakoonError:
    """The exception for a return code and message received from the server."""
    if code == NotFound.CODE and message.endswith(_COMMAND_NOT_FOUND):
        return UnsupportedCommand(message)
    cls = _BY_CODE.get(code)
    if cls is None:
        return UnknownFailure(message, code)
    return cls(message)
