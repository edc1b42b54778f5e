"""The ``txarakoon`` command line (also ``python -m txarakoon``).

Talks to a cluster named by ``--config FILE.ini`` (an Arakoon cluster config)
or ``--nodes CLUSTER@name=host:port,...``; ``serve`` and ``demo`` run the
in-memory Arakoon of :mod:`txarakoon.testing`. Run ``txarakoon --help`` and
``txarakoon COMMAND --help``.

Exit codes: 0 success; 1 key not found or assertion failed; 2 usage error;
3 no master; 4 a node could not be reached; 5 outcome unknown (a write may or
may not have been applied); 6 timeout; 7 any other Arakoon error; 8 bad
configuration.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from .. import errors
from ..config import ConfigError
from .commands import Runner
from .exits import EXIT_ARAKOON_ERROR, EXIT_CONFIG, describe, exit_code
from .options import cluster_config, parser
from .output import Output

__all__ = ["main"]


def _run_client(args: argparse.Namespace, runner: Runner, stream: TextIO) -> int:
    from twisted.internet import task

    from ..cluster import ArakoonClient

    try:
        config = cluster_config(args)
    except (ConfigError, OSError) as error:
        print(f"txarakoon: bad configuration: {error}", file=sys.stderr)
        return EXIT_CONFIG
    out = Output(args.json, args.hex, stream)
    status: list[int] = []

    async def run(reactor: Any) -> None:
        client = ArakoonClient(config, reactor, timeout=args.timeout)
        try:
            status.append(await runner(client, args, out))
        except (errors.ArakoonError, errors.ConnectionFailure) as error:
            print(f"txarakoon: {describe(error)}", file=sys.stderr)
            status.append(exit_code(error))
        finally:
            await client.disconnect()

    from twisted.internet.defer import Deferred

    def start(reactor: Any) -> Deferred[None]:
        return Deferred.fromCoroutine(run(reactor))

    try:
        task.react(start)
    except SystemExit as stop:
        if stop.code not in (0, None):
            return int(stop.code) if isinstance(stop.code, int) else EXIT_ARAKOON_ERROR
    return status[0] if status else EXIT_ARAKOON_ERROR


def main(argv: Sequence[str] | None = None, stream: TextIO | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = parser().parse_args(argv)
    out = stream or sys.stdout
    if args.command == "serve":
        from ..demo import serve

        return serve(args.nodes, args.port, args.cluster_id, args.interface, out)
    if args.command == "demo":
        from ..demo import demo

        return demo(out)
    runner: Runner = args.runner
    return _run_client(args, runner, out)
