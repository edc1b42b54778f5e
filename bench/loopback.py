"""Pipelines under the reactor, and the cluster client side by side with the
protocol on one server.

The side-by-side comparison alternates short batches of each client, all
connected at once, and takes the median of the ratios of neighbouring
batches: on a shared machine whose speed moves from second to second (the
development VM's protocol alone ran at 65,000 to 172,000 ``get`` per second
from one run of 100,000 to the next), two clients timed one after the other
in long runs compare the machine's moments more than the clients, while two
batches a few tens of milliseconds apart run under the same conditions.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred

from txarakoon.cluster import ArakoonClient
from txarakoon.config import ClusterConfig
from txarakoon.protocol import connect

__all__ = [
    "KEY",
    "ONE_NODE",
    "PROTOCOL",
    "THREE_NODES",
    "Comparison",
    "pipeline",
    "side_by_side",
    "three_nodes",
]

#: The key every ``get`` reads (the canned server answers any key; on a real
#: cluster it is set first).
KEY = b"bench/key"

#: The clients compared, by label.
PROTOCOL, ONE_NODE, THREE_NODES = "ArakoonProtocol", "ArakoonClient", "ArakoonClient, 3 nodes"


def pipeline(
    call: Callable[[], Deferred[Any]],
    in_flight: int,
    total: int,
    clock: Callable[[], float] = time.perf_counter,
) -> Deferred[float]:
    """Keep ``in_flight`` calls outstanding until ``total`` are answered; the
    Deferred fires with the time taken, on ``clock``."""
    done: Deferred[float] = Deferred()
    issued = completed = 0
    start = clock()

    def on_reply(_: Any) -> None:
        nonlocal issued, completed
        completed += 1
        if issued < total:
            issued += 1
            call().addCallbacks(on_reply, on_error)
        elif completed == total:
            done.callback(clock() - start)

    def on_error(failure: Any) -> None:
        if not done.called:
            done.errback(failure)

    for _ in range(min(in_flight, total)):
        issued += 1
        call().addCallbacks(on_reply, on_error)
    return done


def three_nodes(cluster: ClusterConfig) -> ClusterConfig:
    """``cluster``'s one node and two more on the same server, so that the
    cluster client has its stall check (made only with more than one node).
    The canned server names its node master: the two others answer as its
    slaves would, and they are asked only when the master falls silent."""
    ((name, node),) = cluster.nodes.items()
    nodes = {other: (list(node.hosts), node.port) for other in (name, f"{name}-b", f"{name}-c")}
    return ClusterConfig(cluster.cluster_id, nodes)


class Comparison:
    """The seconds of each batch of each client, in the order they ran."""

    def __init__(self, batch: int, seconds: dict[str, list[float]]) -> None:
        self.batch = batch
        self.seconds = seconds

    def rate(self, label: str) -> float:
        """Requests per second of ``label``'s median batch."""
        return self.batch / statistics.median(self.seconds[label])

    def ratio(self, label: str, over: str) -> float:
        """``label``'s throughput over ``over``'s: the median, over the rounds,
        of ``over``'s batch time divided by ``label``'s."""
        return statistics.median(
            base / other
            for base, other in zip(self.seconds[over], self.seconds[label], strict=True)
        )


async def side_by_side(
    reactor: Any,
    address: tuple[str, int],
    cluster: ClusterConfig,
    in_flight: int,
    batch: int,
    rounds: int,
) -> Comparison:
    """``get`` through an ``ArakoonProtocol`` and an ``ArakoonClient`` of
    ``cluster`` (and, for a one-node cluster, one of :func:`three_nodes`),
    connected to the master first, in ``rounds`` rounds of one batch of
    ``batch`` requests each, in alternating order (A B C, then C B A)."""
    protocol = await connect(
        reactor, f"tcp:host={address[0]}:port={address[1]}", cluster.cluster_id
    )
    configs = {ONE_NODE: cluster}
    if len(cluster.nodes) == 1:
        configs[THREE_NODES] = three_nodes(cluster)
    clients = {label: ArakoonClient(config, reactor) for label, config in configs.items()}
    calls: dict[str, Callable[[], Deferred[Any]]] = {PROTOCOL: functools.partial(protocol.get, KEY)}
    try:
        await protocol.get(KEY)
        for label, client in clients.items():
            await client.get(KEY)  # the master found and connected before timing
            calls[label] = functools.partial(client.get, KEY)
        seconds: dict[str, list[float]] = {label: [] for label in calls}
        for index in range(rounds):
            labels = list(calls) if index % 2 == 0 else list(reversed(calls))
            for label in labels:
                seconds[label].append(await pipeline(calls[label], in_flight, batch))
    finally:
        await protocol.close()
        for client in clients.values():
            await client.disconnect()
    return Comparison(batch, seconds)
