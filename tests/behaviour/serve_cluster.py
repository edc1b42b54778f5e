"""Serve an in-memory Arakoon cluster on loopback from a separate process.

The behaviour suite runs this script so that the blocking ``SocketClient``
talks to a server outside the test process: a blocking call inside a test run
by pytest-twisted would otherwise hold up the very reactor that must answer it.

Usage: ``python serve_cluster.py [--nodes N] [--cluster-id ID]``. It prints the
cluster's node spec (``ID@n0=127.0.0.1:port,...``, the
``TXARAKOON_TEST_NODES`` format) as one line on stdout, then serves until its
stdin is closed or it is killed. The nodes know two user functions: ``echo``
returns its argument, ``fail`` raises ``RuntimeError("boom")``.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from twisted.internet import reactor

from txarakoon.testing import ArakoonCluster, Transaction

#: The user functions every node of the served cluster knows.
FAILURE_TEXT = "boom"


def echo(transaction: Transaction, argument: bytes | None) -> bytes | None:
    return argument


def fail(transaction: Transaction, argument: bytes | None) -> bytes | None:
    raise RuntimeError(FAILURE_TEXT)


def _stop_on_eof(reactor: Any) -> None:
    # The parent closes our stdin to stop us; it also closes if the parent dies.
    sys.stdin.buffer.read()
    reactor.callFromThread(reactor.stop)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--cluster-id", default="arakoon")
    args = parser.parse_args(argv)
    # The suite's tests count updates (confirm writes nothing, a slave lags one
    # update) on wall-clock time: a lease renewal landing mid-test would make
    # them flaky. Renewals are tested on a Clock (test_time.py).
    cluster = ArakoonCluster(
        args.nodes,
        cluster_id=args.cluster_id,
        user_functions={"echo": echo, "fail": fail},
        lease_renewals=False,
    )
    cluster.listen(reactor)
    sys.stdout.write(cluster.nodes_spec() + "\n")
    sys.stdout.flush()
    threading.Thread(target=_stop_on_eof, args=(reactor,), daemon=True).start()
    reactor.run()


if __name__ == "__main__":
    main()
