"""The sub-commands that talk to a cluster.

Most are derived from the command declarations (:data:`txarakoon.messages.COMMANDS`):
a declaration's arguments become the sub-command's arguments, its facts say
whether it reads (``--dirty``, ``--at-least``) and which node it may or must
go to (``--node``), and its result type says what is printed and what the exit
code means. Only what does not map one to one is written by hand, in
:mod:`txarakoon.cli.special`.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from .. import errors
from ..codec import BOOL, CONSISTENCY, UNIT, Option, RequestList, String
from ..consistency import AtLeast, Consistency, Consistent, NoGuarantees
from ..messages import Argument, Command
from .exits import EXIT_NOT_FOUND, EXIT_OK
from .output import Output

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

    from ..client import Async, ClientMixin
    from ..cluster import ArakoonClient, NodeClient

__all__ = ["CommandFailed", "Runner", "SubCommand", "UsageError", "derive"]

T = TypeVar("T")

#: Runs a sub-command: sends what it sends, prints, returns the exit code.
Runner = Callable[["ArakoonClient", argparse.Namespace, Output], Coroutine[Any, Any, int]]

#: Where a command goes: anywhere the cluster sends it, optionally to one
#: node (``--node``), or to the one node it must name.
NodeRule = Literal["cluster", "optional", "required"]


class UsageError(Exception):
    """A mistake on the command line that the parser could not see (exit code 2)."""


class CommandFailed(Exception):
    """A sub-command's own failure: one line on standard error, and ``code``."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _nothing(parser: argparse.ArgumentParser) -> None:
    pass


@dataclass(frozen=True)
class SubCommand:
    """One sub-command: its name, the declarations it sends, its own
    arguments and how it runs."""

    name: str
    help: str
    sends: tuple[Command[Any], ...]
    run: Runner
    add_arguments: Callable[[argparse.ArgumentParser], None] = _nothing

    @property
    def reads(self) -> bool:
        """Whether it takes ``--dirty`` and ``--at-least``."""
        return self.sends[0].takes_consistency

    @property
    def node(self) -> NodeRule:
        return node_rule(self.sends[0])

    @property
    def prints_bytes(self) -> bool:
        """Whether it prints one byte string at most (so ``--raw`` fits)."""
        result = self.sends[0].result
        if isinstance(result, Option):
            result = result.inner
        return isinstance(result, String) or result is UNIT


def node_rule(command: Command[Any]) -> NodeRule:
    """Admin commands act on the node named; the other reads without a
    consistency (statistics, version, ...) describe one node, by default the
    one the cluster sends them to."""
    if command.admin:
        return "required"
    if command.read_only and not command.takes_consistency:
        return "optional"
    return "cluster"


def data(args: argparse.Namespace, text: str) -> bytes:
    """A key or value from the command line: the bytes the shell passed
    (Python decodes argv with ``surrogateescape``, which ``os.fsencode``
    undoes), or hexadecimal with ``--hex-in``."""
    if args.hex or args.hex_in:
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise UsageError(f"not hexadecimal: {text!r}") from None
    return os.fsencode(text)


def consistency(args: argparse.Namespace) -> Consistency:
    if getattr(args, "at_least", None) is not None:
        try:
            return AtLeast(args.at_least)
        except ValueError as error:
            raise UsageError(f"--at-least: {error}") from None
    return NoGuarantees if getattr(args, "dirty", False) else Consistent


def checked(method: Callable[..., Deferred[T]], *args: Any, **kwargs: Any) -> Deferred[T]:
    """``method(*args, **kwargs)``: a client method checks its arguments
    before sending anything, so the ValueError it raises then (a number out of
    range, a value too long) is the user's mistake."""
    try:
        return method(*args, **kwargs)
    except ValueError as error:
        raise UsageError(_in_options(str(error))) from None


# "copy_db_to_head: tlogs_to_keep: ...": the library names the argument at fault.
_ARGUMENT_AT_FAULT = re.compile(r"\w+: (\w+): (.*)", re.DOTALL)


def _in_options(message: str) -> str:
    """``message`` naming the option the user typed, not the argument."""
    match = _ARGUMENT_AT_FAULT.fullmatch(message)
    option = _OPTIONS.get(match[1]) if match else None
    if match is None or option is None:
        return message
    rest = match[2].replace(match[1], option)
    return rest if rest.startswith(option) else f"{option}: {rest}"


def node(client: ArakoonClient, args: argparse.Namespace) -> NodeClient:
    """The node ``--node`` names."""
    try:
        return client.node(args.node)
    except KeyError:
        names = ", ".join(client.config.node_names)
        raise UsageError(f"--node: no node {args.node!r} in the cluster ({names})") from None


def target(client: ArakoonClient, args: argparse.Namespace) -> ClientMixin[Async]:
    """The cluster, or the node ``--node`` names."""
    return node(client, args) if getattr(args, "node", None) else client


# -- derivation ---------------------------------------------------------------

#: The sub-command names that differ from their declaration's (as released).
_NAMES = {"prefix_keys": "prefix", "get_txid": "txid"}
#: The client methods whose names differ from their declaration's.
_METHODS = {"prefix_keys": "prefix", "current_state": "get_current_state", "assert": "assert_"}
#: Integer arguments, by declared name: their option, default (``None``:
#: required) and help. An integer's meaning is not in its wire type, so each
#: needs a line here.
_INTEGERS: dict[str, tuple[str, int | None, str]] = {
    "max_elements": ("--max", -1, "at most this many (default: all)"),
    "tlogs_to_keep": ("--keep", None, "tlogs to keep (at least 1)"),
}
#: The option of each argument the command line takes as one, by declared
#: name (collapse_tlogs' count is written by hand, in special).
_OPTIONS = {name: option for name, (option, _, _) in _INTEGERS.items()} | {"count": "--keep"}


@dataclass(frozen=True)
class _Parameter:
    """A declared argument on the command line: a positional for a byte
    string (several for a list), an option for an optional one or an integer."""

    argument: Argument
    kind: Literal["bytes", "optional", "list", "integer"]

    @property
    def dest(self) -> str:
        # Prefixed, so that no declared name can collide with an option's.
        return f"arg_{self.argument.name}"

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        name = self.argument.name
        metavar = name.upper()
        if self.kind == "bytes":
            parser.add_argument(self.dest, metavar=metavar)
        elif self.kind == "list":
            parser.add_argument(self.dest, metavar=metavar.rstrip("S"), nargs="+")
        elif self.kind == "optional":
            option = "--" + name.replace("_", "-")
            # What "none" means differs (not bound, delete it): the
            # sub-command's own help says.
            parser.add_argument(option, dest=self.dest, metavar="VALUE", help="omitted: none")
        else:
            option, default, help_text = _INTEGERS[name]
            parser.add_argument(
                option,
                dest=self.dest,
                type=int,
                metavar="N",
                default=default,
                required=default is None,
                help=help_text,
            )

    def value(self, args: argparse.Namespace, out: Output) -> Any:
        given = getattr(args, self.dest)
        if self.kind in ("bytes", "optional"):
            return None if given is None else data(args, given)
        if self.kind == "list":
            return [data(args, item) for item in given]
        return given


def _parameter(command: Command[Any], argument: Argument) -> _Parameter:
    kind: Literal["bytes", "optional", "list", "integer"]
    type_ = argument.type
    if isinstance(type_, String):
        kind = "bytes"
    elif isinstance(type_, Option) and isinstance(type_.inner, String):
        kind = "optional"
    elif isinstance(type_, RequestList) and isinstance(type_.element, String):
        kind = "list"
    elif argument.name in _INTEGERS:
        kind = "integer"
    else:
        raise TypeError(
            f"{command.name}: argument {argument.name} ({type_!r}) has no command-line "
            "form: write the sub-command by hand, or list the command as not offered"
        )
    return _Parameter(argument, kind)


def derive(command: Command[Any], help_text: str) -> SubCommand:
    """The sub-command of a declaration that maps one to one onto the
    command line: it calls the client method of the same name with the
    declared arguments, by name."""
    parameters = tuple(
        _parameter(command, argument)
        for argument in command.arguments
        if argument.type is not CONSISTENCY
    )
    method_name = _METHODS.get(command.name, command.name)
    rule = node_rule(command)

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        for parameter in parameters:
            parameter.add_to(parser)

    async def run(client: ArakoonClient, args: argparse.Namespace, out: Output) -> int:
        values = {p.argument.name: p.value(args, out) for p in parameters}
        if command.takes_consistency:
            values["consistency"] = consistency(args)
        where = node(client, args) if rule == "required" else target(client, args)
        try:
            result = await checked(getattr(where, method_name), **values)
        except errors.NotFound:
            if "key" not in values:
                raise  # multi_get: the server names the missing key itself
            # Arakoon answers get with "Not_found" but delete with the key:
            # name the key the user gave, whichever it was.
            raise errors.NotFound(values["key"]) from None
        if command.result is UNIT:
            return EXIT_OK
        out.emit(result)
        # A yes-or-no answer is also the exit code, for shell conditions.
        if command.result is BOOL and not result:
            return EXIT_NOT_FOUND
        return EXIT_OK

    name = _NAMES.get(command.name, command.name).replace("_", "-")
    return SubCommand(name, help_text, (command,), run, add_arguments)
