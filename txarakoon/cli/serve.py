"""``txarakoon serve``: an in-memory Arakoon cluster on loopback, for
development and for tests whose service runs in another process; with
``--control PORT``, its controls on a loopback line protocol
(:mod:`txarakoon.testing.channel`). What it prints is
:class:`txarakoon.testing.process.Served`'s."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any, TextIO

from .exits import EXIT_CONFIG, EXIT_USAGE

if TYPE_CHECKING:
    from ..testing.process import Served

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


def _seconds(text: str, *, zero: bool, none: bool = False) -> float | None:
    if none and text == "none":
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and (seconds > 0 or (zero and seconds == 0))):
        what = "0 or more" if zero else "positive"
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds, {what}{', or none' if none else ''}, not {text!r}"
        )
    return seconds


def _lease(text: str) -> float | None:
    return _seconds(text, zero=False)


def _election_delay(text: str) -> float | None:
    return _seconds(text, zero=True, none=True)


def _lag(text: str) -> int:
    try:
        lag = int(text)
    except ValueError:
        lag = -1
    if lag < 0:
        raise argparse.ArgumentTypeError(f"must be a number of updates, 0 or more, not {text!r}")
    return lag


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
    parser.add_argument(
        "--lease",
        type=_lease,
        default=10.0,
        metavar="SECONDS",
        help="the master lease: a dead master is named that long (default: 10)",
    )
    parser.add_argument(
        "--election-delay",
        type=_election_delay,
        default=1.0,
        metavar="SECONDS",
        help="without master, elect one after this long; none: only when told to "
        "through --control (default: 1)",
    )
    parser.add_argument(
        "--lag",
        type=_lag,
        default=1,
        metavar="N",
        help="how many updates slaves lag behind the master (default: 1, as Arakoon)",
    )
    parser.add_argument(
        "--control",
        type=_port,
        metavar="PORT",
        help="serve the cluster's controls (kill, elect, ...) on this 127.0.0.1 port "
        "(0: a free one, printed as TXARAKOON_CONTROL)",
    )
    parser.add_argument(
        "--nodes", action=_NotNodes, default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )


def run_serve(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Serve until interrupted; the exit code."""
    from twisted.internet import reactor
    from twisted.internet.error import CannotListenError

    if args.port and args.port + args.count - 1 > 65535:
        print(
            f"txarakoon: serve: --port {args.port} leaves no room for {args.count} nodes",
            file=stderr,
        )
        return EXIT_USAGE
    try:
        served = _listen(args, reactor)
    except CannotListenError as error:
        reason = getattr(error.socketError, "strerror", None) or error.socketError
        print(
            f"txarakoon: serve: cannot listen on {error.interface}:{error.port}: {reason}",
            file=stderr,
        )
        return EXIT_CONFIG
    stdout.write(served.text())
    stdout.flush()
    reactor.run()
    return 0


def _listen(args: argparse.Namespace, reactor: Any) -> Served:
    """Start the cluster (and its control channel) on its ports."""
    from twisted.internet.address import IPv4Address

    from ..testing import ArakoonCluster
    from ..testing.channel import listen_control
    from ..testing.process import Served

    cluster = ArakoonCluster(
        args.count,
        cluster_id=args.cluster_id,
        lag=args.lag,
        lease_period=args.lease,
        election_delay=args.election_delay,
    )
    control = None
    # The control port first: if it is busy, no node port is left open.
    if args.control is not None:
        address = listen_control(reactor, cluster, args.control).getHost()
        assert isinstance(address, IPv4Address)
        control = f"{address.host}:{address.port}"
    first = args.port
    ports = {name: first + index for index, name in enumerate(cluster.names)} if first else None
    cluster.listen(reactor, args.interface, ports)
    return Served(cluster.ini(), cluster.nodes_spec(), control)
