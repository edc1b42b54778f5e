"""``txarakoon serve``: an in-memory Arakoon cluster on loopback, for
development (the cluster itself is :func:`txarakoon.demo.serve`'s)."""

from __future__ import annotations

import argparse
from typing import TextIO

from .exits import EXIT_CONFIG, EXIT_USAGE

__all__ = ["add_arguments", "run_serve"]


def _count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"must be a number of nodes, at least 1, not {text!r}")
    return count


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be a TCP port (0: any free one), not {text!r}")
    return port


def _cluster_id(text: str) -> str:
    if not text or not text.isprintable():
        raise argparse.ArgumentTypeError(f"must be printable text, not {text!r}")
    return text


class _NotNodes(argparse.Action):
    """``serve --nodes N`` counted nodes until 0.2; everywhere else ``--nodes``
    names a cluster. Rather than one option meaning two things, say which
    option counts."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        parser.error("serve counts nodes with --count N (--nodes names a cluster to talk to)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--count", type=_count, default=3, metavar="N", help="how many nodes (default: 3)"
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=0,
        metavar="P",
        help="the first node's client port, the next ones follow (default: free ports)",
    )
    parser.add_argument(
        "--cluster-id", type=_cluster_id, default="arakoon", metavar="ID", help="(default: arakoon)"
    )
    parser.add_argument(
        "--interface", default="127.0.0.1", metavar="ADDR", help="(default: 127.0.0.1)"
    )
    parser.add_argument("--nodes", action=_NotNodes, help=argparse.SUPPRESS)


def run_serve(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Serve until interrupted; the exit code."""
    from twisted.internet.error import CannotListenError

    from ..demo import serve

    if args.port and args.port + args.count - 1 > 65535:
        print(
            f"txarakoon: serve: --port {args.port} leaves no room for {args.count} nodes",
            file=stderr,
        )
        return EXIT_USAGE
    try:
        return serve(args.count, args.port, args.cluster_id, args.interface, stdout)
    except CannotListenError as error:
        reason = getattr(error.socketError, "strerror", None) or error.socketError
        print(
            f"txarakoon: serve: cannot listen on {error.interface}:{error.port}: {reason}",
            file=stderr,
        )
        return EXIT_CONFIG
