"""What a pipelined ``get`` costs, reply included, through ``ArakoonProtocol``
and through ``ArakoonClient``'s hot path, without I/O: the connection's
transport is in memory and the canned replies of :mod:`bench.canned_server`
answer what it writes, so only the client's CPU is measured (and the same
canned server's for both). As in ``python -m bench``, each reply's callback
sends the next request, keeping 1, 10, 100 or 1,000 in flight.

Run from the repository root::

    python -m bench.round_trip                    # this checkout
    python -m bench.round_trip --against main     # and another commit, interleaved

With ``--against``, that commit's ``txarakoon`` is exported (as
:mod:`bench.call_cost` does) and measured in the same process, alternating
with this checkout's, so that load that comes and goes on a shared machine
weighs on both alike. Each figure is the best of ``--repeat`` runs of
``--requests`` requests, in CPU time. The cluster client's timers (deadlines,
silence) are the reactor's, which is not running: the pump cleans its queue
of cancelled timers as a reactor's turn does.

A second table times the cluster client of a three-node cluster, with its
stall check (:mod:`txarakoon.cluster.stalls`: made only when there is more
than one node) and without it (``stall_interval=math.inf``). For counting
instructions, ``--only LABEL --in-flight N --repeat 1`` runs one pipeline.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import math
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred, succeed
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from bench import loopback
from bench.call_cost import ROOT, export
from bench.canned_server import Peer, Replies

KEY = b"key"
IN_FLIGHT = (1, 10, 100, 1000)
#: The canned server names "canned" master, so the other two answer as its
#: slaves would; they are asked only when the master falls silent.
THREE_NODES = ("canned", "canned-b", "canned-c")
#: The labels of the three-node cases, in the second table.
WITH_CHECK, WITHOUT_CHECK = "3 nodes, stall check", "3 nodes, no stall check"


class _Wire(StringTransport):
    """A transport whose bytes the canned server's peer answers on :meth:`pump`."""

    def __init__(self, protocol: Any) -> None:
        super().__init__()
        self.protocol = protocol
        self.peer = Peer(Replies(100))

    def pump(self) -> bool:
        """Deliver the replies to what was written; whether there were any."""
        data = self.value()
        if not data:
            return False
        self.clear()
        replies = self.peer.receive(data)
        if replies:
            self.protocol.dataReceived(replies)
        return True


class _Endpoint:
    """Connects a protocol of the given factory to a :class:`_Wire` at once."""

    def __init__(self) -> None:
        self.wires: list[_Wire] = []

    def connect(self, factory: Any) -> Deferred[Any]:
        protocol = factory.buildProtocol(None)
        wire = _Wire(protocol)
        self.wires.append(wire)
        protocol.makeConnection(wire)
        return succeed(protocol)

    def pump(self) -> None:
        while any([wire.pump() for wire in self.wires]):
            pass
        reactor.runUntilCurrent()  # type: ignore[attr-defined]  # (no call is due)


def pipeline(
    call: Callable[[], Deferred[Any]], pump: Callable[[], None], in_flight: int, total: int
) -> float:
    """CPU seconds (of this process: the time it waits for a shared CPU is not
    counted) to get ``total`` replies with ``in_flight`` requests outstanding:
    :func:`bench.loopback.pipeline`, pumped."""
    gc.collect()
    outcome: list[Any] = []
    loopback.pipeline(call, in_flight, total, time.process_time).addBoth(outcome.append)
    while not outcome:
        pump()
    if isinstance(outcome[0], Failure):
        raise RuntimeError(f"a request failed: {outcome[0].value!r}")
    seconds: float = outcome[0]
    return seconds


def cases(package: str) -> dict[str, Callable[[int, int], float]]:
    """The pipelines to time with ``package`` (``txarakoon`` or an export),
    each a function of (in flight, requests)."""
    protocol_module = importlib.import_module(f"{package}.protocol")
    cluster_module = importlib.import_module(f"{package}.cluster")
    config_module = importlib.import_module(f"{package}.config")

    endpoint = _Endpoint()
    protocol = protocol_module.ArakoonProtocol(b"arakoon")
    endpoint.connect(_Factory(protocol))
    config = config_module.ClusterConfig(b"arakoon", {"canned": (["127.0.0.1"], 1)})
    client = cluster_module.ArakoonClient(
        config, reactor, endpoint_factory=lambda node, host: endpoint
    )
    first = client.get(KEY)  # the master found and connected before timing
    endpoint.pump()
    assert first.called and first.result == b"v" * 100, first.result

    # Each on wires of its own, and both finding the master in the same order.
    checked, checked_pump = _three_node_client(cluster_module, config_module)
    unchecked, unchecked_pump = _three_node_client(
        cluster_module, config_module, stall_interval=math.inf
    )

    return {
        "ArakoonProtocol": lambda in_flight, total: pipeline(
            lambda: protocol.get(KEY), endpoint.pump, in_flight, total
        ),
        "ArakoonClient": lambda in_flight, total: pipeline(
            lambda: client.get(KEY), endpoint.pump, in_flight, total
        ),
        WITH_CHECK: lambda in_flight, total: pipeline(
            lambda: checked.get(KEY), checked_pump, in_flight, total
        ),
        WITHOUT_CHECK: lambda in_flight, total: pipeline(
            lambda: unchecked.get(KEY), unchecked_pump, in_flight, total
        ),
    }


def _three_node_client(
    cluster_module: Any, config_module: Any, **settings: Any
) -> tuple[Any, Callable[[], None]]:
    """A cluster client of :data:`THREE_NODES` with its master found and
    connected, and the pump of its wires."""
    endpoint = _Endpoint()
    nodes = {name: (["127.0.0.1"], index + 1) for index, name in enumerate(THREE_NODES)}
    client = cluster_module.ArakoonClient(
        config_module.ClusterConfig(b"arakoon", nodes),
        reactor,
        endpoint_factory=lambda node, host: endpoint,
        random=random.Random(0),
        **settings,
    )
    first = client.get(KEY)
    endpoint.pump()
    assert first.called and first.result == b"v" * 100, first.result
    assert client.master == "canned", client.master
    return client, endpoint.pump


class _Factory:
    """A factory handing out one protocol built already."""

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol

    def buildProtocol(self, addr: object) -> Any:
        return self.protocol


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV", help="also measure this commit")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--only", metavar="LABEL", help="time only this case (e.g. for callgrind)")
    parser.add_argument("--in-flight", type=int, choices=IN_FLIGHT, help="only this many in flight")
    options = parser.parse_args()
    in_flights = IN_FLIGHT if options.in_flight is None else (options.in_flight,)
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        variants = {"this checkout": cases("txarakoon")}
        if options.against:
            sys.path.insert(0, tmp)
            variants = {options.against: cases(export(options.against, Path(tmp))), **variants}
        best: dict[tuple[str, str, int], float] = {}
        for _ in range(options.repeat):
            for in_flight in in_flights:
                for variant, runs in variants.items():
                    for label, run in runs.items():
                        if options.only not in (None, label):
                            continue
                        seconds = run(in_flight, options.requests) / options.requests
                        key = (variant, label, in_flight)
                        best[key] = min(best.get(key, seconds), seconds)
    if options.only is not None or options.in_flight is not None:
        for (variant, label, in_flight), seconds in best.items():
            print(f"{variant}, {label}, {in_flight} in flight: {seconds * 1e6:.2f} µs per get")
        return
    _table(
        f"µs per get (reply included), best of {options.repeat}",
        variants,
        best,
        ("ArakoonProtocol", "protocol"),
        ("ArakoonClient", "client"),
        "protocol's time / client's: the client's throughput over the protocol's",
    )
    print()
    _table(
        f"µs per get of the cluster client of three nodes, best of {options.repeat}",
        variants,
        best,
        (WITHOUT_CHECK, "no check"),
        (WITH_CHECK, "check"),
        "time without the stall check / with it",
    )


def _table(
    title: str,
    variants: Iterable[str],
    best: Mapping[tuple[str, str, int], float],
    base: tuple[str, str],
    other: tuple[str, str],
    ratio: str,
) -> None:
    """Print ``base`` beside ``other`` (case label, column title) per variant
    and in-flight count, in µs, with their ratio."""
    variants = list(variants)
    print(title)
    header = f"{'in flight':>9}"
    for variant in variants:
        header += f"  {variant + ': ' + base[1]:>24} {other[1]:>8} {'ratio':>6}"
    print(header)
    for in_flight in IN_FLIGHT:
        row = f"{in_flight:>9}"
        for variant in variants:
            first = best[variant, base[0], in_flight] * 1e6
            second = best[variant, other[0], in_flight] * 1e6
            row += f"  {first:>24.2f} {second:>8.2f} {first / second:>6.2f}"
        print(row)
    print(f"(ratio = {ratio})")


if __name__ == "__main__":
    main()
