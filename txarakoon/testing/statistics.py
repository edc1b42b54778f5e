"""A node's statistics, in the real server's field layout (PROTOCOL.md §8.1).

Requests run synchronously on the cluster clock, so every recorded duration
is 0; the counts and the average sizes are real. ``node_is`` lists the nodes
a node has heard from, as a real one does (:func:`node_is`, D30).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, Final

from ..messages import Int64, Statistics

__all__ = ["NodeStatistics", "node_is"]

_SERIES: Final = (
    "harvest_stats",
    "set_info",
    "get_info",
    "del_info",
    "seq_info",
    "mget_info",
    "mget_option_info",
    "tas_info",
    "replace_info",
    "range_info",
    "range_entries_info",
    "rev_range_entries_info",
    "prefix_info",
    "delete_prefix_info",
    "op_info",
)
_SIZES: Final = (
    "avg_set_size",
    "avg_get_size",
    "avg_range_size",
    "avg_range_entries_size",
    "avg_rev_range_entries_size",
    "avg_prefix_size",
    "avg_del_prefix_size",
)


def node_is(
    name: str, master: str | None, cluster_size: int, txids: Mapping[str, int]
) -> dict[str, int]:
    """What ``node_is`` lists on node ``name`` (D30), from ``txids``: how many
    updates each live node has applied, by name, in cluster order.

    A real node lists the nodes whose Paxos messages it has received: a
    node of a 1-node cluster receives none, so it lists nothing; a master
    hears from every slave, a slave from the master; and a node counts
    itself once it has applied an update. (A real slave sometimes lists
    the other slaves too; this one never does.)
    """
    if cluster_size == 1:
        return {}
    heard = {other for other in txids if other != name} if name == master else {master}
    if txids.get(name, 0) > 0:
        heard.add(name)
    return {other: txid for other, txid in txids.items() if other in heard}


class _Series:
    """Running n/min/max/m2/avg/var of one operation's durations."""

    def __init__(self) -> None:
        self.n = 0
        self.min = sys.float_info.max
        self.max = 0.0
        self.m2 = 0.0
        self.avg = 0.0

    def add(self, value: float) -> None:
        self.n += 1
        delta = value - self.avg
        self.avg += delta / self.n
        self.m2 += delta * (value - self.avg)
        self.min = min(self.min, value)
        self.max = max(self.max, value)

    def as_dict(self) -> dict[str, Any]:
        var = self.m2 / self.n if self.n else 0.0
        return {
            "n": self.n,
            "min": self.min,
            "max": self.max,
            "m2": self.m2,
            "avg": self.avg,
            "var": var,
        }


class NodeStatistics:
    """What one node counts, from ``start`` (seconds on the cluster clock)."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.series = {name: _Series() for name in _SERIES}
        self.sizes = {name: _Series() for name in _SIZES}

    def record(self, series: str, size_field: str | None = None, size: int = 0) -> None:
        """Count one operation of ``series`` (and its size, for ``size_field``)."""
        # Requests run synchronously, so every duration is 0 on the clock.
        self.series[series].add(0.0)
        self.series["op_info"].add(0.0)
        if size_field is not None:
            self.sizes[size_field].add(float(size))

    def report(self, now: float, node_is: Mapping[str, int]) -> Statistics:
        """What ``statistics`` answers at ``now``; ``node_is``: the nodes to
        list and their txids (see :func:`node_is`)."""
        result: Statistics = {"start": self.start, "last": now}
        for name in _SIZES:
            result[name] = self.sizes[name].avg
        for name in _SERIES:
            result[name] = self.series[name].as_dict()
        result["mem_allocated"] = 0.0
        result["mem_maxrss"] = 0
        result["mem_minor_collections"] = 0
        result["mem_major_collections"] = 0
        result["mem_compactions"] = 0
        result["node_is"] = {name: Int64(txid) for name, txid in node_is.items()}
        return result
