"""One declaration per Arakoon command: opcode, named typed arguments, result type.

A :class:`Command` builds :class:`Message` objects; a message offers
``serialize()`` (the request bytes) and ``reply``, the decoder of its reply (a
:class:`Reply`), which a :class:`~txarakoon.reader.Reader` reads: the result, or
the :class:`~txarakoon.errors.ArakoonError` that a non-zero return code means.
This is the contract of ``AbstractClient._process``. The in-memory server uses
the same declarations to decode requests (:attr:`Command.arguments_type`) and
encode replies (:func:`encode_success`, :func:`encode_error`).

>>> from txarakoon.consistency import Consistent
>>> from txarakoon.messages import GET
>>> GET(Consistent, b"key").serialize().hex()
'0800ffb100030000006b6579'
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, Final, Generic, NoReturn, TypeVar

from .codec import (
    BOOL,
    CONSISTENCY,
    DEFAULT_MAX_REPLY_LENGTH,
    FLOAT,
    INT32,
    INT64,
    STRING,
    UINT32,
    UNIT,
    Array,
    Incomplete,
    Option,
    Product,
    Receiver,
    RequestList,
    ResponseList,
    String,
    StringWrapped,
    Type,
)
from .consistency import Consistency
from .errors import ArakoonError, CallbackError, NoMagic, ProtocolViolation, error_for_code
from .sequence import SEQUENCE_PAYLOAD

__all__ = [
    "COMMANDS",
    "COMMANDS_BY_OPCODE",
    "MAGIC",
    "MAX_VALUE_SIZE",
    "PROTOCOL_VERSION",
    "Argument",
    "Command",
    "Int64",
    "Message",
    "Reply",
    "ReplyError",
    "encode_error",
    "encode_success",
    "prologue",
    "receive_response",
]

T = TypeVar("T")

#: The magic of every command word and of the prologue.
MAGIC: Final = 0xB1FF0000
#: The protocol version sent in the prologue.
PROTOCOL_VERSION: Final = 1
#: Arakoon refuses a value of this many bytes or more in set, confirm,
#: test_and_set and replace (``max_value_size``, PROTOCOL.md §6.3). The client
#: refuses it before sending, since the server would close the connection.
MAX_VALUE_SIZE: Final = 8 * 1024 * 1024

_WORD = struct.Struct("<I")


def prologue(cluster_id: bytes | str) -> bytes:
    """The bytes a client sends first on every connection (PROTOCOL.md §1.2)."""
    return (
        UINT32.encode(MAGIC)
        + UINT32.encode(PROTOCOL_VERSION)
        + STRING.encode(STRING.check(cluster_id))
    )


# ---------------------------------------------------------------------------
# Argument and result types that only commands need.

KEY: Final = STRING
OPTIONAL_KEY: Final = Option(STRING)
VALUE: Final = String("value", max_length=MAX_VALUE_SIZE - 1)
OPTIONAL_VALUE: Final = Option(VALUE)
KEYS: Final = RequestList(STRING)


class _PositiveInt32(Type[int]):
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
VERSION: Final = Product(INT32, INT32, INT32, STRING)


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
                raise (yield from _receive_error(code, limit))
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


# ---------------------------------------------------------------------------
# Replies.

#: The errors a reply decodes to, besides its result: the one the server
#: answered, or a :class:`~txarakoon.errors.CallbackError` for a
#: ``collapse_tlogs`` whose progress callback raised. They are values, not
#: raised: the reply was read whole, and the stream is still in sync.
ReplyError = ArakoonError | CallbackError


def _receive_error(code: int, limit: int) -> Receiver[ArakoonError]:
    """The error of a non-zero return code, after which its message follows
    (none for NoMagic)."""
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
        if code == NoMagic.CODE:
            return NoMagic(), start
        message, end = STRING.decode_from(buffer, start, limit)
        return error_for_code(code, message), end

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[T | ReplyError]:
        code = yield from UINT32.receive(limit)
        if code == 0:
            return (yield from self.result.receive(limit))
        return (yield from _receive_error(code, limit))


class _CollapseReply(Type["int | ReplyError"]):
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
            return (yield from _receive_error(code, limit))
        try:
            values = yield from COLLAPSE_STREAM.receive_with_progress(limit, self.progress)
        except (ArakoonError, CallbackError) as error:
            return error
        return len(values)


def _raising(reply: Receiver[T | ReplyError]) -> Receiver[T]:
    """``reply``, raising the error it decodes to instead of returning it."""
    outcome = yield from reply
    if isinstance(outcome, (ArakoonError, CallbackError)):
        raise outcome
    return outcome


def receive_response(result: Type[T], limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[T]:
    """Decode one reply: ``result``, or raise the error the server answered."""
    return _raising(Reply(result).receive(limit))


def encode_success(result: Type[T], value: T) -> bytes:
    """The reply bytes for a successful command (server side)."""
    return b"\x00\x00\x00\x00" + result.encode(value)


def encode_error(error: ArakoonError) -> bytes:
    """The reply bytes for an error (server side); NoMagic has no message."""
    if isinstance(error, NoMagic):
        return UINT32.encode(error.code)
    return UINT32.encode(error.code) + STRING.encode(error.message)


# ---------------------------------------------------------------------------
# Commands.

Values = tuple[Any, ...]


def _unrolled_checks(checks: tuple[Callable[[Any], Any], ...]) -> Callable[[Values], Values]:
    """A function applying ``checks`` to a tuple of values. Unrolled for the
    usual arities: on the path of every request, a loop costs as much as the
    checks themselves."""
    if not checks:
        return lambda values: ()
    if len(checks) == 1:
        (first,) = checks
        return lambda values: (first(values[0]),)
    if len(checks) == 2:
        first, second = checks
        return lambda values: (first(values[0]), second(values[1]))
    if len(checks) == 3:
        first, second, third = checks
        return lambda values: (first(values[0]), second(values[1]), third(values[2]))
    return lambda values: tuple([check(value) for check, value in zip(checks, values, strict=True)])


def _unrolled_encoders(
    word: bytes, encoders: tuple[Callable[[Any], bytes], ...]
) -> Callable[[Values], bytes]:
    """A function writing the command word and a tuple of checked values;
    unrolled as :func:`_unrolled_checks` is."""
    if not encoders:
        return lambda values: word
    if len(encoders) == 1:
        (first,) = encoders
        return lambda values: word + first(values[0])
    if len(encoders) == 2:
        first, second = encoders
        return lambda values: b"".join((word, first(values[0]), second(values[1])))
    return lambda values: (
        word + b"".join([encode(value) for encode, value in zip(encoders, values, strict=True)])
    )


class Argument:
    """A named, typed argument of a command, in wire order."""

    __slots__ = ("name", "type")

    def __init__(self, name: str, type: Type[Any]) -> None:
        self.name = name
        self.type = type

    def __repr__(self) -> str:
        return f"{self.name}: {self.type!r}"


class Command(Generic[T]):
    """The declaration of one command. Call it with argument values to get a
    :class:`Message` (the values are checked, and ``str`` keys encoded).

    Besides its wire form, it carries the facts about the command that the
    rest of the library derives its behaviour from:

    :ivar read_only: it changes nothing, so sending it again is always safe
        (the cluster client retries reads whatever the failure).
    :ivar idempotent: a write whose repetition has the effect of doing it
        once (``set``, ``confirm``, ``nop``): retried when its outcome is
        unknown only if the caller asked for it (``retry_idempotent``).
    :ivar admin: a maintenance command of one node, offered by
        :class:`~txarakoon.admin.AdminMixin` rather than by the cluster.
    :ivar answers_bad_arguments: the server reads its arguments inside its
        exception handler, so arguments it cannot decode are answered
        (``UnknownFailure``) rather than met with a silent close (§1.5).
    """

    def __init__(
        self,
        name: str,
        opcode: int,
        arguments: tuple[Argument, ...],
        result: Type[T],
        *,
        read_only: bool = False,
        idempotent: bool = False,
        admin: bool = False,
        answers_bad_arguments: bool = False,
    ) -> None:
        self.name = name
        self.opcode = opcode
        self.arguments = arguments
        self.result = result
        self.read_only = read_only
        self.idempotent = idempotent or read_only
        self.admin = admin
        self.answers_bad_arguments = answers_bad_arguments
        self.word = _WORD.pack(MAGIC | opcode)
        self.argument_names = tuple(argument.name for argument in arguments)
        self._checks = tuple(argument.type.check for argument in arguments)
        self._check_all = _unrolled_checks(self._checks)
        self._serialize = _unrolled_encoders(
            self.word, tuple(argument.type.encode for argument in arguments)
        )
        #: The arguments after the command word, as one type (server side).
        self.arguments_type: Product = Product(*(argument.type for argument in arguments))
        #: The decoder of this command's replies.
        self.reply: Reply[T] = Reply(result)

    def __repr__(self) -> str:
        return f"<Command {self.name} 0x{self.opcode:02x}>"

    def __call__(self, *values: Any) -> Message[T]:
        if len(values) != len(self.arguments):
            raise TypeError(
                f"{self.name} takes {len(self.arguments)} arguments "
                f"({', '.join(self.argument_names)}), not {len(values)}"
            )
        try:
            checked = self._check_all(values)
        except (TypeError, ValueError) as error:  # UnicodeEncodeError included
            self._explain(values, error)
        return Message(self, checked)

    def _explain(self, values: Values, error: TypeError | ValueError) -> NoReturn:
        """Raise ``error`` again, naming the argument at fault."""
        # The checks have no side effects: run them again one at a time.
        for name, check, value in zip(self.argument_names, self._checks, values, strict=True):
            try:
                check(value)
            except TypeError as again:
                raise TypeError(f"{self.name}: {name}: {again}") from None
            except ValueError as again:
                raise ValueError(f"{self.name}: {name}: {again}") from None
        # Only an iterator that the first run consumed passes the second time.
        if isinstance(error, TypeError):
            raise TypeError(f"{self.name}: {error}") from None
        raise ValueError(f"{self.name}: {error}") from None

    @property
    def takes_consistency(self) -> bool:
        """Whether the first argument is a consistency (a read that may go to a slave)."""
        return bool(self.arguments) and self.arguments[0].type is CONSISTENCY

    def receive_arguments(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[tuple[Any, ...]]:
        """Decode the arguments that follow the command word (server side)."""
        return self.arguments_type.receive(limit)


# How much of an argument the repr of a message shows.
_SHOWN_BYTES = 32
_SHOWN_CHARACTERS = 120


def _shown(value: Any) -> str:
    if isinstance(value, bytes) and len(value) > _SHOWN_BYTES:
        return f"{value[:_SHOWN_BYTES]!r}... ({len(value)} bytes)"
    text = repr(value)
    if len(text) > _SHOWN_CHARACTERS:
        return text[: _SHOWN_CHARACTERS - 3] + "..."
    return text


class Message(Generic[T]):
    """A request ready to send: a command and its checked argument values."""

    __slots__ = ("arguments", "command", "reply")

    def __init__(self, command: Command[T], arguments: tuple[Any, ...]) -> None:
        self.command = command
        self.arguments = arguments
        #: The decoder of the reply: a :class:`Reply`, read by a
        #: :class:`~txarakoon.reader.Reader`.
        self.reply: Type[T | ReplyError] = command.reply

    def __repr__(self) -> str:
        """``get(consistency=Consistent, key=b'k')``, with long values
        shortened: an error naming its request must not hold a copy of an
        8 MiB value."""
        shown = ", ".join(
            f"{name}={_shown(value)}"
            for name, value in zip(self.command.argument_names, self.arguments, strict=True)
        )
        return f"{self.command.name}({shown})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return self.command is other.command and self.arguments == other.arguments

    def __hash__(self) -> int:
        return hash((self.command.name, repr(self.arguments)))

    @property
    def consistency(self) -> Consistency | None:
        """The read consistency of this request, or ``None`` if it takes none."""
        if self.command.takes_consistency:
            value: Consistency = self.arguments[0]
            return value
        return None

    def serialize(self) -> bytes:
        """The request bytes: command word, then the arguments in wire order."""
        return self.command._serialize(self.arguments)

    def receive(self, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> Receiver[T]:
        """A coroutine decoding this request's reply: the result, or it raises
        the error the server answered. (Clients read :attr:`reply` instead,
        which returns the error.)"""
        return _raising(self.reply.receive(limit))


class CollapseMessage(Message[Any]):
    """``collapse_tlogs``: reports each progress value to ``progress`` as it
    arrives, and returns how many progress frames the server sent."""

    __slots__ = ("progress",)

    def __init__(
        self,
        command: Command[list[int]],
        arguments: tuple[Any, ...],
        progress: Callable[[int], object] | None = None,
    ) -> None:
        super().__init__(command, arguments)
        self.progress = progress
        self.reply = _CollapseReply(progress)


def _arg(name: str, type_: Type[Any]) -> Argument:
    return Argument(name, type_)


_CONSISTENCY = _arg("consistency", CONSISTENCY)
_KEY = _arg("key", KEY)
_RANGE_ARGUMENTS = (
    _CONSISTENCY,
    _arg("begin_key", OPTIONAL_KEY),
    _arg("begin_inclusive", BOOL),
    _arg("end_key", OPTIONAL_KEY),
    _arg("end_inclusive", BOOL),
    _arg("max_elements", INT32),
)
_ENTRIES = ResponseList(Product(STRING, STRING))

HELLO: Final = Command(
    "hello",
    0x01,
    (_arg("client_id", STRING), _arg("cluster_id", STRING)),
    STRING,
    read_only=True,
    answers_bad_arguments=True,
)
WHO_MASTER: Final = Command("who_master", 0x02, (), Option(STRING), read_only=True)
EXISTS: Final = Command("exists", 0x07, (_CONSISTENCY, _KEY), BOOL, read_only=True)
GET: Final = Command("get", 0x08, (_CONSISTENCY, _KEY), STRING, read_only=True)
SET: Final = Command("set", 0x09, (_KEY, _arg("value", VALUE)), UNIT, idempotent=True)
DELETE: Final = Command("delete", 0x0A, (_KEY,), UNIT)
RANGE: Final = Command("range", 0x0B, _RANGE_ARGUMENTS, ResponseList(STRING), read_only=True)
PREFIX_KEYS: Final = Command(
    "prefix_keys",
    0x0C,
    (_CONSISTENCY, _arg("prefix", KEY), _arg("max_elements", INT32)),
    ResponseList(STRING),
    read_only=True,
)
TEST_AND_SET: Final = Command(
    "test_and_set",
    0x0D,
    (_KEY, _arg("test_value", OPTIONAL_KEY), _arg("set_value", OPTIONAL_VALUE)),
    Option(STRING),
    answers_bad_arguments=True,
)
RANGE_ENTRIES: Final = Command("range_entries", 0x0F, _RANGE_ARGUMENTS, _ENTRIES, read_only=True)
SEQUENCE: Final = Command(
    "sequence", 0x10, (_arg("steps", SEQUENCE_PAYLOAD),), UNIT, answers_bad_arguments=True
)
MULTI_GET: Final = Command(
    "multi_get", 0x11, (_CONSISTENCY, _arg("keys", KEYS)), ResponseList(STRING), read_only=True
)
EXPECT_PROGRESS_POSSIBLE: Final = Command(
    "expect_progress_possible", 0x12, (), BOOL, read_only=True
)
STATISTICS_COMMAND: Final = Command("statistics", 0x13, (), STATISTICS, read_only=True)
COLLAPSE_TLOGS: Final = Command(
    "collapse_tlogs", 0x14, (_arg("count", _PositiveInt32("count")),), COLLAPSE_STREAM, admin=True
)
USER_FUNCTION: Final = Command(
    "user_function",
    0x15,
    (_arg("function", STRING), _arg("argument", Option(STRING))),
    Option(STRING),
)
ASSERT: Final = Command(
    "assert", 0x16, (_CONSISTENCY, _KEY, _arg("value", Option(STRING))), UNIT, read_only=True
)
GET_KEY_COUNT: Final = Command("get_key_count", 0x1A, (), INT64, read_only=True)
CONFIRM: Final = Command("confirm", 0x1C, (_KEY, _arg("value", VALUE)), UNIT, idempotent=True)
REV_RANGE_ENTRIES: Final = Command(
    "rev_range_entries", 0x23, _RANGE_ARGUMENTS, _ENTRIES, read_only=True
)
SYNCED_SEQUENCE: Final = Command(
    "synced_sequence", 0x24, (_arg("steps", SEQUENCE_PAYLOAD),), UNIT, answers_bad_arguments=True
)
OPTIMIZE_DB: Final = Command("optimize_db", 0x25, (), UNIT, admin=True)
DEFRAG_DB: Final = Command("defrag_db", 0x26, (), UNIT, admin=True)
DELETE_PREFIX: Final = Command(
    "delete_prefix", 0x27, (_arg("prefix", KEY),), INT32, answers_bad_arguments=True
)
VERSION_COMMAND: Final = Command("version", 0x28, (), VERSION, read_only=True)
ASSERT_EXISTS: Final = Command("assert_exists", 0x29, (_CONSISTENCY, _KEY), UNIT, read_only=True)
DROP_MASTER: Final = Command("drop_master", 0x30, (), UNIT, admin=True)
MULTI_GET_OPTION: Final = Command(
    "multi_get_option",
    0x31,
    (_CONSISTENCY, _arg("keys", KEYS)),
    Array(Option(STRING)),
    read_only=True,
)
CURRENT_STATE: Final = Command("current_state", 0x32, (), STRING, read_only=True)
REPLACE: Final = Command(
    "replace",
    0x33,
    (_KEY, _arg("value", OPTIONAL_VALUE)),
    Option(STRING),
    answers_bad_arguments=True,
)
NOP: Final = Command("nop", 0x41, (), UNIT, idempotent=True)
FLUSH_STORE: Final = Command("flush_store", 0x42, (), UNIT, admin=True)
GET_TXID: Final = Command("get_txid", 0x43, (), CONSISTENCY, read_only=True)
COPY_DB_TO_HEAD: Final = Command(
    "copy_db_to_head",
    0x44,
    (_arg("tlogs_to_keep", _PositiveInt32("tlogs_to_keep")),),
    UNIT,
    admin=True,
)

#: Every command this library speaks, by name.
COMMANDS: Final[dict[str, Command[Any]]] = {
    command.name: command
    for command in (
        HELLO,
        WHO_MASTER,
        EXISTS,
        GET,
        SET,
        DELETE,
        RANGE,
        PREFIX_KEYS,
        TEST_AND_SET,
        RANGE_ENTRIES,
        SEQUENCE,
        MULTI_GET,
        EXPECT_PROGRESS_POSSIBLE,
        STATISTICS_COMMAND,
        COLLAPSE_TLOGS,
        USER_FUNCTION,
        ASSERT,
        GET_KEY_COUNT,
        CONFIRM,
        REV_RANGE_ENTRIES,
        SYNCED_SEQUENCE,
        OPTIMIZE_DB,
        DEFRAG_DB,
        DELETE_PREFIX,
        VERSION_COMMAND,
        ASSERT_EXISTS,
        DROP_MASTER,
        MULTI_GET_OPTION,
        CURRENT_STATE,
        REPLACE,
        NOP,
        FLUSH_STORE,
        GET_TXID,
        COPY_DB_TO_HEAD,
    )
}

#: The same commands, by opcode (what a server looks up after the command word).
COMMANDS_BY_OPCODE: Final[dict[int, Command[Any]]] = {
    command.opcode: command for command in COMMANDS.values()
}

#: The names of the commands that change nothing (:attr:`Command.read_only`).
READ_ONLY_COMMANDS: Final = frozenset(
    command.name for command in COMMANDS.values() if command.read_only
)


def collapse_tlogs(count: int, progress: Callable[[int], object] | None = None) -> CollapseMessage:
    """A ``collapse_tlogs`` message reporting progress values to ``progress``."""
    if progress is not None and not callable(progress):
        raise TypeError(f"collapse_tlogs: progress must be callable, not {progress!r}")
    message = COLLAPSE_TLOGS(count)
    return CollapseMessage(COLLAPSE_TLOGS, message.arguments, progress)
