"""The ``txarakoon`` command line (also ``python -m txarakoon``).

Talks to a cluster named by ``--config FILE.ini`` (an Arakoon cluster
config), ``--nodes CLUSTER@name=host:port,...`` or ``$TXARAKOON_NODES``;
``serve`` and ``demo`` run the in-memory Arakoon of :mod:`txarakoon.testing`.
Run ``txarakoon --help`` and ``txarakoon COMMAND --help``; :doc:`/cli` has
the whole story.

:func:`main` is the console script. :func:`run` runs one command under a
reactor you give it, so that a test can run the command line in its own
process against the in-memory cluster.

Exit codes: 0 success; 1 key not found, assertion failed or the answer is no;
2 usage error; 3 no master; 4 a node could not be reached; 5 outcome unknown
(a write may or may not have been applied); 6 timeout; 7 any other Arakoon
error; 8 bad configuration. A mistake (2, 8) is one line on standard error,
never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from .. import errors
from ..config import ConfigError
from .commands import CommandFailed, SubCommand, UsageError
from .configuration import cluster_config
from .exits import EXIT_ARAKOON_ERROR, EXIT_CONFIG, EXIT_OK, EXIT_USAGE, describe, exit_code
from .options import ParserExit, parser
from .output import Output
from .serve import run_serve

if TYPE_CHECKING:
    from ..cluster import EndpointFactory

__all__ = ["main", "run"]


def _parse(argv: Sequence[str] | None, stdout: TextIO, stderr: TextIO) -> argparse.Namespace | int:
    """The parsed command line, or the exit code if the parser is done."""
    try:
        parsed: argparse.Namespace = parser(stdout, stderr).parse_args(argv)
        return parsed
    except ParserExit as done:
        return done.status


def _output(args: argparse.Namespace, subcommand: SubCommand, stdout: TextIO) -> Output:
    hex_out = args.hex or args.hex_out
    if args.raw and (args.json or hex_out):
        raise UsageError("--raw goes with neither --json nor --hex-out")
    if args.raw and not subcommand.prints_bytes:
        raise UsageError(
            f"{subcommand.name} prints more than one value: use --json or --hex-out, not --raw"
        )
    return Output(stdout, as_json=args.json, hex=hex_out, raw=args.raw)


async def _send(
    args: argparse.Namespace,
    reactor: Any,
    stdout: TextIO,
    stderr: TextIO,
    environ: Mapping[str, str],
    endpoint_factory: EndpointFactory | None,
) -> int:
    from ..cluster import ArakoonClient

    subcommand: SubCommand = args.subcommand
    try:
        out = _output(args, subcommand, stdout)
    except UsageError as error:
        print(f"txarakoon: {error}", file=stderr)
        return EXIT_USAGE
    try:
        config = cluster_config(args, environ)
        # Building the client reads the TLS files: a missing one is named here.
        client = ArakoonClient(
            config, reactor, timeout=args.timeout, endpoint_factory=endpoint_factory
        )
    except ConfigError as error:
        print(f"txarakoon: bad configuration: {error}", file=stderr)
        return EXIT_CONFIG
    try:
        return await subcommand.run(client, args, out)
    except CommandFailed as failed:
        print(f"txarakoon: {failed}", file=stderr)
        return failed.code
    except BrokenPipeError:
        # Whoever reads the output has all they wanted (``| head``).
        _discard(stdout)
        return EXIT_OK
    except UsageError as error:
        print(f"txarakoon: {error}", file=stderr)
        return EXIT_USAGE
    except (errors.ArakoonError, errors.ConnectionFailure) as error:
        print(f"txarakoon: {describe(error, out)}", file=stderr)
        return exit_code(error)
    finally:
        await client.disconnect()


def _discard(stream: TextIO) -> None:
    """Send what is left of ``stream`` nowhere, so that flushing it at exit
    does not fail again on the closed pipe."""
    try:
        fileno = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a file (a test's buffer): nothing flushes it at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fileno)
    finally:
        os.close(devnull)


async def run(
    argv: Sequence[str],
    reactor: Any,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    endpoint_factory: EndpointFactory | None = None,
) -> int:
    """Run the command ``argv`` (without the program name) under ``reactor``,
    which must be running, or be the clock of an in-memory cluster that
    ``endpoint_factory`` connects to (see
    :func:`txarakoon.testing.trial.memory_cluster_client`); returns the exit
    code. ``environ`` stands for ``os.environ``. ``serve`` and ``demo`` run
    their own reactor: use :func:`main` for them."""
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    args = _parse(argv, stdout, stderr)
    if isinstance(args, int):
        return args
    if args.command in ("serve", "demo"):
        print(f"txarakoon: {args.command} runs its own reactor: use main()", file=stderr)
        return EXIT_USAGE
    environ = os.environ if environ is None else environ
    return await _send(args, reactor, stdout, stderr, environ, endpoint_factory)


def _react(send: Callable[[Any], Coroutine[Any, Any, int]]) -> int:
    """Run ``send(reactor)`` under the global reactor; its exit code."""
    from twisted.internet import task
    from twisted.internet.defer import Deferred

    codes: list[int] = []

    async def record(reactor: Any) -> None:
        codes.append(await send(reactor))

    # react() always exits; the command chose its own code.
    with contextlib.suppress(SystemExit):
        task.react(lambda reactor: Deferred.fromCoroutine(record(reactor)))
    # No code: the command raised something unexpected, which react() logged.
    return codes[0] if codes else EXIT_ARAKOON_ERROR


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the command line (``argv``: default ``sys.argv[1:]``); returns the
    exit code."""
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    args = _parse(argv, stdout, stderr)
    if isinstance(args, int):
        return args
    if args.command == "serve":
        return run_serve(args, stdout, stderr)
    if args.command == "demo":
        from ..demo import demo

        return demo(stdout)
    return _react(lambda reactor: _send(args, reactor, stdout, stderr, os.environ, None))
