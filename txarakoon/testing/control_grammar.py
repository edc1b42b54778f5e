"""The control channel's grammar: one request a line, one reply a line
(see :mod:`txarakoon.testing.control`). Shared by the channel and its
clients."""

from __future__ import annotations

from typing import Final

__all__ = [
    "CONTROL_VARIABLE",
    "ControlError",
    "decode_reply",
    "decode_request",
    "encode_error",
    "encode_ok",
    "encode_request",
    "parse_address",
]

#: The environment variable ``txarakoon serve`` prints the control address in.
CONTROL_VARIABLE: Final = "TXARAKOON_CONTROL"
#: What ends every request and reply.
DELIMITER: Final = b"\n"
#: The longest request or reply line, in bytes (a ``state`` reply is the longest).
MAX_LINE: Final = 1 << 20
#: The words standing for ``None``, ``True`` and ``False``.
NONE: Final = "none"
TRUE: Final = "true"
FALSE: Final = "false"

_OK: Final = "ok"
_ERROR: Final = "error"


class ControlError(Exception):
    """The control channel refused a command; ``str(error)`` says why."""


# -- the grammar ----------------------------------------------------------------


def _word(value: object) -> str:
    """An argument as the channel reads it."""
    if value is None:
        return NONE
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, (int, float)):
        return repr(value)
    if not isinstance(value, str):
        raise TypeError(f"a control argument is text or a number, not {type(value).__name__}")
    if not value or any(character.isspace() or not character.isprintable() for character in value):
        raise ValueError(f"a control argument is one printable word, not {value!r}")
    return value


def encode_request(command: str, *arguments: object) -> bytes:
    """The line asking for ``command`` with ``arguments``; ``ValueError`` or
    ``TypeError`` for an argument that is not one word."""
    words = [_word(command), *(_word(argument) for argument in arguments)]
    return " ".join(words).encode("utf-8") + DELIMITER


def decode_request(line: bytes) -> list[str]:
    """A request line (without its delimiter) as its words; :class:`ControlError`
    if it is not UTF-8 or holds no command."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise ControlError("a request is UTF-8 text") from None
    words = text.removesuffix("\r").split()
    if not words:
        raise ControlError("empty request: give a command")
    return words


def encode_ok(text: str | None = None) -> bytes:
    """A success reply, with ``text`` if any (one line)."""
    reply = _OK if not text else f"{_OK} {_one_line(text)}"
    return reply.encode("utf-8") + DELIMITER


def encode_error(message: str) -> bytes:
    """A failure reply."""
    return f"{_ERROR} {_one_line(message) or 'failed'}".encode() + DELIMITER


def decode_reply(line: bytes) -> str:
    """A reply line's text (``""`` for a bare ``ok``); raises
    :class:`ControlError` with the message of an ``error`` reply."""
    text = line.decode("utf-8", "replace").removesuffix("\r")
    word, _, rest = text.partition(" ")
    if word == _OK:
        return rest
    if word == _ERROR:
        raise ControlError(rest)
    raise ControlError(f"not a control channel reply: {text[:80]!r}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def parse_address(address: str | tuple[str, int]) -> tuple[str, int]:
    """``(host, port)`` from a pair or from ``"host:port"`` (what ``serve``
    prints); ``ValueError`` for anything else."""
    if isinstance(address, tuple):
        host, port = address
    else:
        host, _, text = str(address).rpartition(":")
        try:
            port = int(text)
        except ValueError:
            raise ValueError(f"a control address is host:port, not {address!r}") from None
    if not host or not isinstance(port, int) or not 0 < port <= 65535:
        raise ValueError(f"a control address is host:port, not {address!r}")
    return host, port
