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

from collections.abc import Callable
from typing import Any, Final

from .codec import (
    BOOL,
    CONSISTENCY,
    INT32,
    INT64,
    STRING,
    UNIT,
    Array,
    Option,
    Product,
    ResponseList,
    Type,
)
from .command import (
    MAGIC,
    PROTOCOL_VERSION,
    Argument,
    CollapseMessage,
    Command,
    Message,
    prologue,
)
from .consistency import Consistency
from .payloads import (
    HOOK_DEFINED,
    KEY,
    KEYS,
    MAX_VALUE_SIZE,
    OPTIONAL_KEY,
    OPTIONAL_VALUE,
    STATISTICS,
    VALUE,
    VERSION,
    Entries,
    Int64,
    PositiveInt32,
    Statistics,
    Version,
)
from .replies import (
    COLLAPSE_STREAM,
    CollapseStream,
    Reply,
    ReplyError,
    encode_error,
    encode_success,
    receive_response,
)
from .sequence import SEQUENCE_PAYLOAD

__all__ = [
    "COLLAPSE_STREAM",
    "COMMANDS",
    "COMMANDS_BY_OPCODE",
    "DECLARED_COMMANDS",
    "KEY",
    "KEYS",
    "MAGIC",
    "MAX_VALUE_SIZE",
    "OPTIONAL_KEY",
    "OPTIONAL_VALUE",
    "PROTOCOL_VERSION",
    "READ_ONLY_COMMANDS",
    "STATISTICS",
    "VALUE",
    "VERSION",
    "Argument",
    "CollapseMessage",
    "CollapseStream",
    "Command",
    "Entries",
    "Int64",
    "Message",
    "Reply",
    "ReplyError",
    "Statistics",
    "Version",
    "collapse_tlogs",
    "encode_error",
    "encode_success",
    "prologue",
    "receive_response",
]


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

HELLO: Final[Command[bytes]] = Command(
    "hello",
    0x01,
    (_arg("client_id", STRING), _arg("cluster_id", STRING)),
    STRING,
    read_only=True,
    answers_bad_arguments=True,
)
WHO_MASTER: Final[Command[bytes | None]] = Command(
    "who_master", 0x02, (), Option(STRING), read_only=True
)
EXISTS: Final[Command[bool]] = Command("exists", 0x07, (_CONSISTENCY, _KEY), BOOL, read_only=True)
GET: Final[Command[bytes]] = Command("get", 0x08, (_CONSISTENCY, _KEY), STRING, read_only=True)
SET: Final[Command[None]] = Command(
    "set", 0x09, (_KEY, _arg("value", VALUE)), UNIT, idempotent=True
)
DELETE: Final[Command[None]] = Command("delete", 0x0A, (_KEY,), UNIT)
RANGE: Final[Command[list[bytes]]] = Command(
    "range", 0x0B, _RANGE_ARGUMENTS, ResponseList(STRING), read_only=True
)
PREFIX_KEYS: Final[Command[list[bytes]]] = Command(
    "prefix_keys",
    0x0C,
    (_CONSISTENCY, _arg("prefix", KEY), _arg("max_elements", INT32)),
    ResponseList(STRING),
    read_only=True,
)
TEST_AND_SET: Final[Command[bytes | None]] = Command(
    "test_and_set",
    0x0D,
    (_KEY, _arg("test_value", OPTIONAL_KEY), _arg("set_value", OPTIONAL_VALUE)),
    Option(STRING),
    answers_bad_arguments=True,
)
RANGE_ENTRIES: Final[Command[Entries]] = Command(
    "range_entries", 0x0F, _RANGE_ARGUMENTS, _ENTRIES, read_only=True
)
SEQUENCE: Final[Command[None]] = Command(
    "sequence", 0x10, (_arg("steps", SEQUENCE_PAYLOAD),), UNIT, answers_bad_arguments=True
)
MULTI_GET: Final[Command[list[bytes]]] = Command(
    "multi_get", 0x11, (_CONSISTENCY, _arg("keys", KEYS)), ResponseList(STRING), read_only=True
)
EXPECT_PROGRESS_POSSIBLE: Final[Command[bool]] = Command(
    "expect_progress_possible", 0x12, (), BOOL, read_only=True
)
STATISTICS_COMMAND: Final[Command[Statistics]] = Command(
    "statistics", 0x13, (), STATISTICS, read_only=True
)
COLLAPSE_TLOGS: Final[Command[list[int]]] = Command(
    "collapse_tlogs", 0x14, (_arg("count", PositiveInt32("count")),), COLLAPSE_STREAM, admin=True
)
USER_FUNCTION: Final[Command[bytes | None]] = Command(
    "user_function",
    0x15,
    (_arg("function", STRING), _arg("argument", Option(STRING))),
    Option(STRING),
)
ASSERT: Final[Command[None]] = Command(
    "assert", 0x16, (_CONSISTENCY, _KEY, _arg("value", Option(STRING))), UNIT, read_only=True
)
GET_KEY_COUNT: Final[Command[int]] = Command("get_key_count", 0x1A, (), INT64, read_only=True)
CONFIRM: Final[Command[None]] = Command(
    "confirm", 0x1C, (_KEY, _arg("value", VALUE)), UNIT, idempotent=True
)
REV_RANGE_ENTRIES: Final[Command[Entries]] = Command(
    "rev_range_entries", 0x23, _RANGE_ARGUMENTS, _ENTRIES, read_only=True
)
SYNCED_SEQUENCE: Final[Command[None]] = Command(
    "synced_sequence", 0x24, (_arg("steps", SEQUENCE_PAYLOAD),), UNIT, answers_bad_arguments=True
)
OPTIMIZE_DB: Final[Command[None]] = Command("optimize_db", 0x25, (), UNIT, admin=True)
DEFRAG_DB: Final[Command[None]] = Command("defrag_db", 0x26, (), UNIT, admin=True)
DELETE_PREFIX: Final[Command[int]] = Command(
    "delete_prefix", 0x27, (_arg("prefix", KEY),), INT32, answers_bad_arguments=True
)
VERSION_COMMAND: Final[Command[Version]] = Command("version", 0x28, (), VERSION, read_only=True)
ASSERT_EXISTS: Final[Command[None]] = Command(
    "assert_exists", 0x29, (_CONSISTENCY, _KEY), UNIT, read_only=True
)
DROP_MASTER: Final[Command[None]] = Command("drop_master", 0x30, (), UNIT, admin=True)
MULTI_GET_OPTION: Final[Command[list[bytes | None]]] = Command(
    "multi_get_option",
    0x31,
    (_CONSISTENCY, _arg("keys", KEYS)),
    Array(Option(STRING)),
    read_only=True,
)
CURRENT_STATE: Final[Command[bytes]] = Command("current_state", 0x32, (), STRING, read_only=True)
REPLACE: Final[Command[bytes | None]] = Command(
    "replace",
    0x33,
    (_KEY, _arg("value", OPTIONAL_VALUE)),
    Option(STRING),
    answers_bad_arguments=True,
)
NOP: Final[Command[None]] = Command("nop", 0x41, (), UNIT, idempotent=True)
FLUSH_STORE: Final[Command[None]] = Command("flush_store", 0x42, (), UNIT, admin=True)
GET_TXID: Final[Command[Consistency]] = Command("get_txid", 0x43, (), CONSISTENCY, read_only=True)
COPY_DB_TO_HEAD: Final[Command[None]] = Command(
    "copy_db_to_head",
    0x44,
    (_arg("tlogs_to_keep", PositiveInt32("tlogs_to_keep")),),
    UNIT,
    admin=True,
)


# Declared so that the in-memory server answers it as a real node does (D32);
# not offered, as a hook's reply is the hook's own business.
USER_HOOK: Final[Command[None]] = Command(
    "user_hook",
    0x45,
    (_CONSISTENCY, _arg("name", STRING)),
    HOOK_DEFINED,
    offered=False,
)

#: Every declared command, by name, offered (:attr:`Command.offered`) or not.
DECLARED_COMMANDS: Final[dict[str, Command[Any]]] = {
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
        USER_HOOK,
    )
}

#: Every command this library offers a call for, by name.
COMMANDS: Final[dict[str, Command[Any]]] = {
    name: command for name, command in DECLARED_COMMANDS.items() if command.offered
}

#: Every declared command by opcode (what a server looks up after the command word).
COMMANDS_BY_OPCODE: Final[dict[int, Command[Any]]] = {
    command.opcode: command for command in DECLARED_COMMANDS.values()
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
