"""Exceptions: what the server said, and what happened to the connection.

Three families, so that a caller knows at once what to do:

* :class:`ArakoonError` and its subclasses carry a return code the server sent
  (PROTOCOL.md §4.1). Each class knows whether the server closes the connection
  after sending it (:attr:`ArakoonError.closes_connection`).
* :class:`ConnectionFailure` subclasses say a request got no reply and whether
  it was applied: :class:`RequestNotProcessed` (no, always safe to retry),
  :class:`ConnectionLost` (unknown), :class:`OutcomeUnknown` (a write that may
  or may not have happened, raised by the cluster client instead of retrying).
* :class:`ProtocolViolation`: the server broke the wire protocol; the connection
  is closed. :class:`NotConnectedError`: the client is not connected.

Caller mistakes (a key of the wrong type, a negative tlog count) are plain
:class:`TypeError` / :class:`ValueError`, raised before anything is sent.
"""

from __future__ import annotations

import errno
from typing import ClassVar

__all__ = [
    "ArakoonError",
    "AssertionFailed",
    "BadInput",
    "CallbackError",
    "ConnectionFailure",
    "ConnectionLost",
    "GoingDown",
    "InconsistentRead",
    "MaxConnections",
    "NoHello",
    "NoLongerMaster",
    "NoMagic",
    "NoMasterError",
    "NotConnectedError",
    "NotFound",
    "NotMaster",
    "NotSupported",
    "OutcomeUnknown",
    "OutsideInterval",
    "ProtocolViolation",
    "ReadOnly",
    "RequestNotProcessed",
    "RequestTimeout",
    "TooManyDeadNodes",
    "UnknownFailure",
    "UnsupportedCommand",
    "UserFunctionFailure",
    "UserHookNotFound",
    "WrongCluster",
    "error_for_code",
    "explain",
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


class ProtocolViolation(Exception):
    """The server sent bytes that break the wire protocol (an impossible length,
    a bad tag, a reply nobody asked for). The connection is closed, and every
    request still pending on it fails with :class:`ConnectionLost` or
    :class:`RequestNotProcessed`; the request being decoded fails with this."""


class CallbackError(Exception):
    """A callback given with a request (``collapse_tlogs``'s ``progress``) raised.

    The reply was still read to its end, so the connection is in sync and stays
    open; ``__cause__`` is the callback's exception.
    """


class NotConnectedError(RuntimeError):
    """A call was made on a client that is not connected (or no longer)."""


def explain(reason: object) -> str:
    """``reason`` (an exception, or a text) as the cause of another failure: how
    the end of a :class:`ConnectionFailure`'s ``str()`` names it.

    A server error is named by its class (``the server answered NotMaster
    (n0)``), another exception by its type, and a connection failure by its own
    cause, without its request or its verdict (the failure it explains says
    those).
    """
    if isinstance(reason, ConnectionFailure):
        return reason._why()
    if isinstance(reason, ArakoonError):
        said = f" ({reason})" if reason.message else ""
        return f"the server answered {type(reason).__name__}{said}"
    if isinstance(reason, BaseException):
        text = str(reason)
        return f"{type(reason).__name__}: {text}" if text else type(reason).__name__
    return str(reason)


class ConnectionFailure(Exception):
    """A request got no reply. :attr:`applied` says whether it was applied:
    ``False`` (certainly not), ``None`` (unknown).

    :ivar reason: why (an exception or a text), or ``None``.
    :ivar request: the request, as text (``set(key=b'k', value=b'v')``), or
        ``None`` when the failure is not about one request.

    ``str()`` is one sentence: the request, whether it may have been applied
    (so whether to retry it), and the reason.
    """

    applied: bool | None = None

    def __init__(self, reason: object = None, request: str | None = None) -> None:
        self.reason = reason
        self.request = request
        super().__init__(reason, request)

    def __str__(self) -> str:
        verdict = self._verdict(self.request or "the request")
        return verdict if self.reason is None else f"{verdict}: {explain(self.reason)}"

    def _verdict(self, request: str) -> str:
        """What happened to ``request``, and what that means for the caller."""
        return f"{request} got no reply"

    def _why(self) -> str:
        """The failure as the reason of another one about the same request."""
        return "no reason given" if self.reason is None else explain(self.reason)


class RequestNotProcessed(ConnectionFailure):
    """The server never read this request; it was not applied. Safe to retry."""

    applied = False

    def _verdict(self, request: str) -> str:
        return f"{request} was not applied, so it is safe to retry"


class ConnectionLost(ConnectionFailure):
    """The connection was lost after this request was sent: it may have been applied."""

    applied = None

    def _verdict(self, request: str) -> str:
        return (
            f"the connection was lost after {request} was sent, "
            "so it may or may not have been applied"
        )

    def _why(self) -> str:
        return f"the connection was lost after it was sent ({super()._why()})"


class OutcomeUnknown(ConnectionFailure):
    """A write may or may not have been applied; it was not retried.

    :attr:`reason` is the underlying failure (``NoLongerMaster``,
    ``ConnectionLost``, ``GoingDown``, a timeout) and :attr:`request` names the
    request. Read the key back before deciding what to do.
    """

    applied = None

    def _verdict(self, request: str) -> str:
        return (
            f"{request} may or may not have been applied and was not retried "
            "(check the keys it writes before repeating it)"
        )


class NoMasterError(ConnectionFailure):
    """No node could be confirmed as master before the call's deadline (an
    election in progress, or too many nodes down). The request was not sent."""

    applied = False

    def _verdict(self, request: str) -> str:
        return (
            f"no node could be confirmed as master, so {request} was not sent and is "
            "safe to retry (an election may be under way, or too few nodes are up)"
        )

    def _why(self) -> str:
        return f"no node could be confirmed as master ({super()._why()})"


class RequestTimeout(ConnectionFailure, TimeoutError):
    """A request's time ran out: the cluster client's call deadline, or the
    blocking client's socket timeout (which also closes its connection, since a
    late reply would be taken for the answer to the next request).

    :attr:`applied` is ``False`` when the request was never sent, ``None`` when
    it was (a cluster-client write then raises :class:`OutcomeUnknown` wrapping
    this instead). Also a :class:`TimeoutError`.
    """

    def __init__(
        self, reason: object = None, request: str | None = None, applied: bool | None = None
    ) -> None:
        super().__init__(reason, request)
        self.applied = applied
        # OSError's constructor took the first two arguments as errno and strerror.
        self.errno = errno.ETIMEDOUT
        self.strerror = str(self)

    def _verdict(self, request: str) -> str:
        if self.applied is False:
            return f"{request} was not sent before its deadline, so it is safe to retry"
        return f"{request} got no reply in time, so it may or may not have been applied"
