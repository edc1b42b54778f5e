"""Replies: a return code, then the command's result or the server's error.

A :class:`Reply` decodes to the result, or to the error the code means (a
value, not raised: the reply was read whole and the stream is in sync). The
``collapse_tlogs`` stream, which reports progress frame by frame, is decoded as
it arrives. The server side encodes replies with :func:`encode_success` and
:func:`encode_error`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, Final, TypeVar

from .codec import (
    DEFAULT_MAX_REPLY_LENGTH,
    INT32,
    INT64,
    STRING,
    UINT32,
    Incomplete,
    Receiver,
    Type,
)
from .errors import ArakoonError, CallbackError, NoMagic, ProtocolViolation, error_for_code

__all__ = [
    "COLLAPSE_STREAM",
    "CollapseReply",
    "CollapseStream",
    "Reply",
    "ReplyError",
    "encode_error",
    "encode_success",
    "raising",
    "receive_response",
]

T = TypeVar("T")

_WORD = struct.Struct("<I")

#: The errors a reply decodes to, besides its result: the one the server
#: answered, or a :class:`~txarakoon.errors.CallbackError` for a
#: ``collapse_tlogs`` whose progress callback raised. They are values, not
#: raised: the reply was read whole, and the stream is still in sync.
ReplyError = ArakoonError | CallbackError


#: The largest return code Arakoon sends (UnknownFailure's).
MAX_CODE = 0xFF
# The first bytes of a TLS record: an alert (0x15) or a handshake (0x16), 3.x.
_TLS_RECORDS = (b"\x15\x03", b"\x16\x03")


def not_arakoon(code: int) -> ProtocolViolation:
    """What a reply starting with ``code`` (above :data:`MAX_CODE`) says of
    the peer: it is not an Arakoon node, or speaks TLS to a plain client."""
    first = _WORD.pack(code)
    if first.startswith(_TLS_RECORDS):
        return ProtocolViolation(
            f"not an Arakoon reply: the peer answered with a TLS record ({first.hex(' ')} ...): "
            "its port speaks TLS, so configure TLS for it"
        )
    return ProtocolViolation(
        f"not an Arakoon node: its reply starts with {first.hex(' ')}, which is no return "
        f"code (at most 0x{MAX_CODE:02x}): check the address and port"
    )


def receive_error(code: int, limit: int) -> Receiver[ArakoonError]:
    """The error of a non-zero return code, after which its message follows
    (none for NoMagic)."""
    if code > MAX_CODE:
        raise not_arakoon(code)
    if code == NoMagic.CODE:
        return NoMagic()
    message = yield from STRING.receive(limit)
    return error_for_code(code, message)


class Reply(Type["T | ReplyError"]):
    """A reply: a return code, then the command's ``result`` (code 0) or the
    server's error message. Decodes to the result, or to the
    :class:`~txarakoon.errors.ArakoonError` the code means (see
    :data:`ReplyError`)."""

    min_size = 4

    def __init__(self, result: Type[T]) -> None:
        self.result = result
        self.streamed = result.streamed

    def __repr__(self) -> str:
        return f"reply<{self.result!r}>"

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[T | ReplyError, int]:
        start = offset + 4
        if start > len(buffer):
            raise Incomplete(start - len(buffer))
        code = _WORD.unpack_from(buffer, offset)[0]
        if code == 0:
            return self.result.decode_from(buffer, start, limit)
        if code > MAX_CODE:
            raise not_arakoon(code)
        if code == NoMagic.CODE:
            return NoMagic(), start
        message, end = STRING.decode_from(buffer, start, limit)
        return error_for_code(code, message), end

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[T | ReplyError]:
        code = yield from UINT32.receive(limit)
        if code == 0:
            return (yield from self.result.receive(limit))
        return (yield from receive_error(code, limit))


class CollapseReply(Type["int | ReplyError"]):
    """The reply of one ``collapse_tlogs`` request: a return code, then the
    stream, reporting each progress value to ``progress`` as it arrives;
    decodes to how many frames there were."""

    min_size = 4
    streamed = True

    def __init__(self, progress: Callable[[int], object] | None) -> None:
        self.progress = progress

    def __repr__(self) -> str:
        return "reply<collapse stream>"

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[int | ReplyError, int]:
        """Not offered: the stream is decoded as it arrives (:attr:`streamed`)."""
        raise NotImplementedError("a collapse_tlogs reply is decoded as it arrives: use receive()")

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[int | ReplyError]:
        code = yield from UINT32.receive(limit)
        if code != 0:
            return (yield from receive_error(code, limit))
        try:
            values = yield from COLLAPSE_STREAM.receive_with_progress(limit, self.progress)
        except (ArakoonError, CallbackError) as error:
            return error
        return len(values)


def raising(reply: Receiver[T | ReplyError]) -> Receiver[T]:
    """``reply``, raising the error it decodes to instead of returning it."""
    outcome = yield from reply
    if isinstance(outcome, (ArakoonError, CallbackError)):
        raise outcome
    return outcome


def receive_response(result: Type[T], limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[T]:
    """Decode one reply: ``result``, or raise the error the server answered."""
    return raising(Reply(result).receive(limit))


def encode_success(result: Type[T], value: T) -> bytes:
    """The reply bytes for a successful command (server side)."""
    return b"\x00\x00\x00\x00" + result.encode(value)


def encode_error(error: ArakoonError) -> bytes:
    """The reply bytes for an error (server side); NoMagic has no message."""
    if isinstance(error, NoMagic):
        return UINT32.encode(error.code)
    return UINT32.encode(error.code) + STRING.encode(error.message)


class CollapseStream(Type[list[int]]):
    """The streamed reply of ``collapse_tlogs`` (§8.6) after its leading return
    code: ``i32 N``, then N frames, each ``rc 0 + i64`` (an opaque progress
    value) or ``rc ≠ 0 + message`` (the collapse failed; the stream ends)."""

    min_size = 4
    streamed = True

    def __repr__(self) -> str:
        return "collapse stream"

    def check(self, value: Any) -> list[int]:
        return [INT64.check(item) for item in value]

    def encode(self, value: list[int]) -> bytes:
        frame = UINT32.encode(0)
        return INT32.encode(len(value)) + b"".join(frame + INT64.encode(v) for v in value)

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[list[int], int]:
        """Not offered: progress is reported frame by frame as the stream
        arrives, so only :meth:`receive` decodes it (see :attr:`streamed`)."""
        raise NotImplementedError("a collapse_tlogs stream is decoded as it arrives: use receive()")

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[list[int]]:
        return self.receive_with_progress(limit, None)

    def receive_with_progress(
        self, limit: int, progress: Callable[[int], object] | None
    ) -> Receiver[list[int]]:
        """Decode the stream, passing each progress value to ``progress`` as it
        arrives. Raises the :class:`~txarakoon.errors.ArakoonError` of an
        error frame, or :class:`~txarakoon.errors.CallbackError` (at the end of
        the stream) if ``progress`` raised."""
        count = yield from INT32.receive(limit)
        if not 0 <= count <= limit:
            raise ProtocolViolation(f"collapse stream announces {count} frames")
        values = []
        callback_error: Exception | None = None
        for _ in range(count):
            code = yield from UINT32.receive(limit)
            if code != 0:
                raise (yield from receive_error(code, limit))
            value = yield from INT64.receive(limit)
            values.append(value)
            if progress is not None and callback_error is None:
                try:
                    progress(value)
                except Exception as error:
                    # Read the stream to its end all the same: the connection
                    # stays in sync, and the caller learns of its own mistake.
                    callback_error = error
        if callback_error is not None:
            raise CallbackError(f"progress callback raised {callback_error!r}") from callback_error
        return values


COLLAPSE_STREAM: Final = CollapseStream()
