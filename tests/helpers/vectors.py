"""The golden vectors of ``shared/vectors.json`` (a copy lives in ``tests/data``),
turned into messages and expected values.

Byte strings in the file are JSON strings whose code points are bytes (latin-1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from txarakoon import errors
from txarakoon.consistency import AtLeast, Consistency, Consistent, NoGuarantees
from txarakoon.messages import COMMANDS, Command, Message, collapse_tlogs
from txarakoon.sequence import (
    Assert,
    AssertExists,
    AssertRange,
    Delete,
    DeletePrefix,
    Replace,
    Sequence,
    Set,
    Step,
)

_PATH = Path(__file__).parent.parent / "data" / "vectors.json"
ALL: list[dict[str, Any]] = json.loads(_PATH.read_text())

#: Vector command names that differ from our command names.
_ALIASES = {"get_current_state": "current_state"}

#: Encoding reference only: it holds steps txarakoon deliberately does not offer
#: (UserFunction, AdminSet, TestAndSet) and AssertRange keys in ascending wire order.
SKIPPED_REQUESTS = {"req_sequence_every_step"}


def b(text: str) -> bytes:
    return text.encode("latin-1")


def command_for(vector: dict[str, Any]) -> Command[Any] | None:
    return COMMANDS.get(_ALIASES.get(vector["command"], vector["command"]))


def consistency(args: dict[str, Any]) -> Consistency:
    if "allow_dirty" in args:
        return NoGuarantees if args["allow_dirty"] else Consistent
    value = args["consistency"]
    if value == "Consistent":
        return Consistent
    if value == "NoGuarantees":
        return NoGuarantees
    return AtLeast(value["AtLeast"])


def step(spec: dict[str, Any]) -> Step:
    kind = spec["step"]
    if kind == "Set":
        return Set(b(spec["key"]), b(spec["value"]))
    if kind == "Delete":
        return Delete(b(spec["key"]))
    if kind == "Assert":
        return Assert(b(spec["key"]), _opt(spec["value"]))
    if kind == "AssertExists":
        return AssertExists(b(spec["key"]))
    if kind == "Replace":
        return Replace(b(spec["key"]), _opt(spec["wanted"]))
    if kind == "DeletePrefix":
        return DeletePrefix(b(spec["prefix"]))
    if kind == "AssertRange":
        return AssertRange(b(spec["prefix"]), [b(k) for k in spec["assertion"]["ContainsExactly"]])
    if kind == "Sequence":
        return Sequence([step(s) for s in spec["steps"]])
    raise ValueError(f"txarakoon offers no {kind} step")


def _opt(value: str | None) -> bytes | None:
    return None if value is None else b(value)


def argument_values(vector: dict[str, Any]) -> tuple[Any, ...]:
    """The argument values of a request vector, in wire order."""
    command = command_for(vector)
    assert command is not None
    args = vector["args"]
    values: list[Any] = []
    for name in command.argument_names:
        if name == "consistency":
            values.append(consistency(args))
        elif name == "steps":
            values.append([step(s) for s in args["steps"]])
        elif name == "keys":
            values.append([b(k) for k in args["keys"]])
        elif name == "prefix" and "prefix" not in args:
            values.append(b(args["key"]))
        else:
            value = args[name]
            values.append(b(value) if isinstance(value, str) else value)
    return tuple(values)


def message_for(vector: dict[str, Any]) -> Message[Any]:
    command = command_for(vector)
    assert command is not None
    values = argument_values(vector)
    if command.name == "collapse_tlogs":
        return collapse_tlogs(*values)
    return command(*values)


def in_scope_requests() -> list[dict[str, Any]]:
    return [
        v
        for v in ALL
        if v["kind"] == "request" and command_for(v) is not None and v["id"] not in SKIPPED_REQUESTS
    ]


def out_of_scope_requests() -> list[dict[str, Any]]:
    return [v for v in ALL if v["kind"] == "request" and v not in in_scope_requests()]


def in_scope_responses() -> list[dict[str, Any]]:
    """Responses of commands we speak, plus the error frames valid for any command."""
    return [
        v
        for v in ALL
        if v["kind"] == "response" and (v["command"] == "*" or command_for(v) is not None)
    ]


def response_command(vector: dict[str, Any]) -> Command[Any]:
    """The command whose reply a response vector is (``get`` for error frames)."""
    return command_for(vector) or COMMANDS["get"]


def is_error(vector: dict[str, Any]) -> bool:
    decoded = vector["decoded"]
    return isinstance(decoded, dict) and "error" in decoded


def expected_value(vector: dict[str, Any]) -> Any:
    """The Python value a client returns for a success response vector."""
    return _value(vector["response_type"], vector["decoded"])


def _value(kind: str, decoded: Any) -> Any:
    if decoded is None:
        return None
    if kind == "consistency":
        return consistency({"consistency": decoded})
    if kind in ("string", "option<string>"):
        return b(decoded)
    if kind in ("list<string>",):
        return [b(x) for x in decoded]
    if kind == "array<option<string>>":
        return [_opt(x) for x in decoded]
    if kind == "list<(string, string)>":
        return [(b(k), b(v)) for k, v in decoded]
    if kind.startswith("(int32"):
        major, minor, patch, info = decoded
        return (major, minor, patch, b(info))
    if kind == "statistics":
        return _statistics(decoded)
    return decoded


def _statistics(decoded: Any) -> Any:
    if isinstance(decoded, dict):
        return {k: _statistics(v) for k, v in decoded.items()}
    if isinstance(decoded, str):
        return b(decoded)
    return decoded


def expected_error(vector: dict[str, Any]) -> errors.ArakoonError:
    decoded = vector["decoded"]
    message = b"" if decoded["message"] is None else b(decoded["message"])
    return errors.error_for_code(decoded["code"], message)


def expected_error_class(vector: dict[str, Any]) -> type[errors.ArakoonError]:
    decoded = vector["decoded"]
    if decoded["error"] == "NotFound" and decoded["message"].endswith("command not found"):
        return errors.UnsupportedCommand
    cls: type[errors.ArakoonError] = getattr(errors, decoded["error"])
    return cls
