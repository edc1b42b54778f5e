"""What a command is: its declaration, the messages it builds, and the framing
every request shares (the magic of its first word, the connection's prologue)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, Final, Generic, NoReturn, TypeVar

from .codec import CONSISTENCY, DEFAULT_MAX_REPLY_LENGTH, STRING, UINT32, Product, Receiver, Type
from .consistency import Consistency
from .replies import CollapseReply, Reply, ReplyError, raising

__all__ = [
    "MAGIC",
    "PROTOCOL_VERSION",
    "Argument",
    "CollapseMessage",
    "Command",
    "Message",
    "prologue",
]

T = TypeVar("T")

#: The magic of every command word and of the prologue.
MAGIC: Final = 0xB1FF0000
#: The protocol version sent in the prologue.
PROTOCOL_VERSION: Final = 1

_WORD = struct.Struct("<I")


def prologue(cluster_id: bytes | str) -> bytes:
    """The bytes a client sends first on every connection (PROTOCOL.md §1.2)."""
    return (
        UINT32.encode(MAGIC)
        + UINT32.encode(PROTOCOL_VERSION)
        + STRING.encode(STRING.check(cluster_id))
    )


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
    :ivar offered: the library offers a call for it (a client method, a
        command-line sub-command). Only ``user_hook`` is not: a hook takes
        over the connection with a protocol of its own (§6.2).
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
        offered: bool = True,
    ) -> None:
        self.name = name
        self.opcode = opcode
        self.arguments = arguments
        self.result = result
        self.read_only = read_only
        self.idempotent = idempotent or read_only
        self.admin = admin
        self.answers_bad_arguments = answers_bad_arguments
        self.offered = offered
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
        return raising(self.reply.receive(limit))


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
        self.reply = CollapseReply(progress)
