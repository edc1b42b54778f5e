"""The command line's parser: its options and sub-commands."""

from __future__ import annotations

import argparse
import difflib
import math
import re
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from .. import __version__
from .catalogue import SUBCOMMANDS
from .configuration import NODES_VARIABLE
from .serve import add_arguments as add_serve_arguments

if TYPE_CHECKING:
    from _typeshed import SupportsWrite


# The commands that run their own in-memory cluster.
_OWN_CLUSTER = ("serve", "demo")

_UNKNOWN_COMMAND = re.compile(r"argument COMMAND: invalid choice: (\S+)")


class ParserExit(Exception):
    """The parser is done: it printed help or a usage error; exit with ``status``."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class Parser(argparse.ArgumentParser):
    """An argument parser that prints to the given streams and raises
    :class:`ParserExit` instead of exiting, so that the command line can run
    inside a test's process."""

    def __init__(self, *args: Any, stdout: TextIO, stderr: TextIO, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stdout = stdout
        self.stderr = stderr

    def print_help(self, file: SupportsWrite[str] | None = None) -> None:
        super().print_help(file or self.stdout)

    def print_usage(self, file: SupportsWrite[str] | None = None) -> None:
        super().print_usage(file or self.stdout)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self.stderr.write(message)
        raise ParserExit(status)

    def error(self, message: str) -> NoReturn:
        # argparse prints its whole usage first; one line says what is wrong
        # and where to look.
        unknown = _UNKNOWN_COMMAND.match(message)
        if unknown:
            # argparse lists every command: too long for one line.
            name = unknown[1].strip("'")
            close = difflib.get_close_matches(name, self._commands(), n=1)
            message = f"unknown command {name!r}" + (f": did you mean {close[0]}?" if close else "")
        self.exit(2, f"txarakoon: {message} (see {self.prog} --help)\n")

    def _commands(self) -> list[str]:
        return [
            name
            for action in self._actions
            if isinstance(action, argparse._SubParsersAction)
            for name in action.choices
        ]

    def parse_args(self, *args: Any, **kwargs: Any) -> Any:
        parsed: argparse.Namespace = super().parse_args(*args, **kwargs)
        if getattr(parsed, "command", None) in _OWN_CLUSTER:
            self._refuse_cluster_options(parsed)
        return parsed

    def _refuse_cluster_options(self, parsed: argparse.Namespace) -> None:
        """``txarakoon --nodes 3 serve`` would otherwise serve one node, silently."""
        for action in self._actions:
            given = getattr(parsed, action.dest, action.default) != action.default
            if given and action.option_strings and action.dest not in ("help", "version"):
                option = action.option_strings[0]
                hint = " (its size: serve --count N)" if option == "--nodes" else ""
                self.error(
                    f"{option} is for the commands that talk to a "
                    f"cluster; {parsed.command} runs its own{hint}"
                )


class _Version(argparse.Action):
    """``--version``, printed to the parser's stream (argparse's own action
    writes to ``sys.stdout``)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        assert isinstance(parser, Parser)
        parser.stdout.write(f"txarakoon {__version__}\n")
        parser.exit()


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return seconds


def _txid(text: str) -> int:
    try:
        txid = int(text)
    except ValueError:
        txid = -1
    if txid < 0:
        raise argparse.ArgumentTypeError(f"must be an update number (0 or more), not {text!r}")
    return txid


def _add_common_options(parser: Parser, suppress: bool) -> None:
    where = parser.add_argument_group("cluster")
    where.add_argument("--config", metavar="FILE.ini", help="an Arakoon cluster configuration")
    where.add_argument(
        "--nodes",
        metavar="CLUSTER@name=host:port,...",
        help=f"the cluster id and its nodes (default: ${NODES_VARIABLE})",
    )
    where.add_argument(
        "--timeout",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="the deadline of each call, retries included (default: 30)",
    )
    tls = parser.add_argument_group("TLS")
    tls.add_argument("--tls-ca", metavar="PEM", help="CA certificate: turns TLS on")
    tls.add_argument("--tls-cert", metavar="PEM", help="client certificate (with --tls-key)")
    tls.add_argument("--tls-key", metavar="PEM", help="client certificate's key")
    tls.add_argument(
        "--tls-version", choices=("1.0", "1.1", "1.2", "1.3"), help="minimum (default: 1.2)"
    )
    tls.add_argument("--tls-verify-hostname", action="store_true", help="check host names")
    tls.add_argument("--no-tls", action="store_true", help="no TLS, whatever the .ini says")
    output = parser.add_argument_group("input and output")
    output.add_argument(
        "--hex-in", action="store_true", help="keys and values given in hexadecimal"
    )
    output.add_argument(
        "--hex-out", action="store_true", help="keys and values printed in hexadecimal"
    )
    output.add_argument("--hex", action="store_true", help="both --hex-in and --hex-out")
    output.add_argument("--json", action="store_true", help="print JSON for scripts")
    output.add_argument(
        "--raw", action="store_true", help="print a value's exact bytes, and nothing else"
    )
    if suppress:
        for action in parser._actions:
            action.default = argparse.SUPPRESS


def parser(stdout: TextIO, stderr: TextIO) -> Parser:
    """The parser of the whole command line, printing to these streams."""
    parser = Parser(
        stdout=stdout,
        stderr=stderr,
        prog="txarakoon",
        description="Talk to an Arakoon cluster, or run an in-memory one.",
        epilog="Exit codes: 0 ok, 1 not found or no, 2 usage, 3 no master (or no node "
        "reachable), 4 the node named unreachable, 5 outcome unknown, 6 timeout, "
        "7 other Arakoon error, 8 bad configuration.",
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    _add_common_options(parser, suppress=False)
    # Sub-commands accept the same options after their name; SUPPRESS keeps a
    # value given before the name from being reset by the sub-command's default.
    common = Parser(
        stdout=stdout, stderr=stderr, add_help=False, argument_default=argparse.SUPPRESS
    )
    _add_common_options(common, suppress=True)

    reads = Parser(stdout=stdout, stderr=stderr, add_help=False)
    consistency = reads.add_mutually_exclusive_group()
    consistency.add_argument(
        "--dirty", action="store_true", help="allow a stale read from any node"
    )
    consistency.add_argument(
        "--at-least", type=_txid, metavar="TXID", help="from a node that applied this update"
    )

    per_node = Parser(stdout=stdout, stderr=stderr, add_help=False)
    per_node.add_argument("--node", help="ask this node (default: the cluster / its master)")

    admin_node = Parser(stdout=stdout, stderr=stderr, add_help=False)
    admin_node.add_argument("--node", required=True, help="the node to act on")

    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parents = {
        "cluster": [common],
        "optional": [common, per_node],
        "required": [common, admin_node],
    }
    for sub in SUBCOMMANDS:
        command = subparsers.add_parser(
            sub.name,
            stdout=stdout,
            stderr=stderr,
            help=sub.help,
            description=sub.help,
            parents=[*parents[sub.node], *([reads] if sub.reads else [])],
        )
        sub.add_arguments(command)
        command.set_defaults(subcommand=sub)

    add_serve_arguments(
        subparsers.add_parser(
            "serve",
            stdout=stdout,
            stderr=stderr,
            help="run an in-memory Arakoon cluster for development",
            description="Run an in-memory Arakoon cluster on loopback ports, print its "
            f".ini and a line that sets {NODES_VARIABLE}, and serve until interrupted.",
        )
    )
    subparsers.add_parser(
        "demo",
        stdout=stdout,
        stderr=stderr,
        help="tour the API against an embedded in-memory cluster",
        description="Start an in-memory 3-node Arakoon and tour the API against it.",
    )
    return parser
