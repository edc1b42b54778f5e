"""Static checks of the two client flavours' result types; never run, only read by mypy.

CI runs ``mypy --strict`` on this directory (see ``.ci/run``); pytest does not collect
it. Each ``assert_type`` fails the type check if a method's declared result drifts,
in particular if the Deferred flavour and the blocking flavour ever collapse into
``Deferred[T] | T`` (DESIGN.md, Typing): ``await proto.get(k)`` and
``SocketClient(...).get(k)`` must both be plain ``bytes``. Each ``# type: ignore[...]``
marks a call that must stay an error: ``--strict`` turns on ``warn_unused_ignores``,
so the check fails if mypy ever accepts it.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import Any

from twisted.internet.defer import Deferred

from txarakoon import BlockingArakoonClient, ClusterConfig, Consistency, NoGuarantees, SocketClient
from txarakoon.blocking_cluster import NodeClient as BlockingNodeClient
from txarakoon.cluster import ArakoonClient, NodeClient
from txarakoon.messages import Statistics, Version
from txarakoon.paging import iter_range, iter_range_entries, iter_rev_range_entries
from txarakoon.protocol import ArakoonProtocol
from txarakoon.recipes import increment, update
from txarakoon.sequence import Set

if sys.version_info >= (3, 11):
    from typing import assert_type
else:  # Twisted depends on typing_extensions
    from typing_extensions import assert_type

Entries = list[tuple[bytes, bytes]]


def _progress(value: int) -> None:
    pass


async def awaited_results(proto: ArakoonProtocol, key: bytes) -> None:
    """Awaiting the Deferred flavour gives the value type."""
    assert_type(await proto.get(key), bytes)
    assert_type(await proto.get("text key", consistency=NoGuarantees), bytes)
    assert_type(await proto.exists(key), bool)
    assert_type(await proto.set(key, b"value"), None)
    assert_type(await proto.range(None, True, None, True), list[bytes])
    assert_type(await proto.range_entries(key, True, None, False, 10), Entries)
    assert_type(await proto.multi_get_option([key, "other"]), list[bytes | None])
    assert_type(await proto.test_and_set(key, None, b"v"), bytes | None)
    assert_type(await proto.who_master(), bytes | None)
    assert_type(await proto.version(), Version)
    assert_type(await proto.version(), tuple[int, int, int, bytes])
    assert_type(await proto.statistics(), Statistics)
    assert_type(await proto.statistics(), dict[str, Any])
    assert_type(await proto.get_txid(), Consistency)
    assert_type(await proto.get_key_count(), int)
    assert_type(await proto.delete_prefix(key), int)
    assert_type(await proto.collapse_tlogs(2, _progress), int)
    assert_type(await proto.optimize_db(), None)


def deferred_results(proto: ArakoonProtocol, key: bytes) -> None:
    """Without ``await``, the Deferred flavour returns typed Deferreds."""
    assert_type(proto.get(key), Deferred[bytes])
    assert_type(proto.exists(key), Deferred[bool])
    assert_type(proto.range_entries(None, True, None, True), Deferred[Entries])
    assert_type(proto.multi_get_option([key]), Deferred[list[bytes | None]])
    assert_type(proto.who_master(), Deferred[bytes | None])
    assert_type(proto.version(), Deferred[Version])
    assert_type(proto.statistics(), Deferred[Statistics])
    assert_type(proto.get_txid(), Deferred[Consistency])
    assert_type(proto.delete_prefix(key), Deferred[int])
    assert_type(proto.collapse_tlogs(2), Deferred[int])


def blocking_results(key: bytes) -> None:
    """The blocking flavour returns the values themselves."""
    client = SocketClient(("127.0.0.1", 4000), "arakoon")
    assert_type(SocketClient(("127.0.0.1", 4000), b"arakoon").get(key), bytes)
    assert_type(client.get("text key", True), bytes)
    assert_type(client.exists(key), bool)
    assert_type(client.set(key, b"value"), None)
    assert_type(client.range(None, True, None, True), list[bytes])
    assert_type(client.range_entries(key, True, None, False, 10), Entries)
    assert_type(client.multi_get_option([key, "other"]), list[bytes | None])
    assert_type(client.test_and_set(key, None, b"v"), bytes | None)
    assert_type(client.who_master(), bytes | None)
    assert_type(client.version(), Version)
    assert_type(client.statistics(), Statistics)
    assert_type(client.get_txid(), Consistency)
    assert_type(client.get_key_count(), int)
    assert_type(client.delete_prefix(key), int)
    assert_type(client.collapse_tlogs(2, _progress), int)
    assert_type(client.optimize_db(), None)
    assert_type(client.connected, bool)


def blocking_mapping_aliases(client: SocketClient, key: bytes) -> None:
    """Only the blocking flavour has the seed's mapping aliases."""
    assert_type(client[key], bytes)
    assert_type(key in client, bool)
    client[key] = "value"
    del client[key]


def context_manager(key: bytes) -> None:
    with SocketClient(("127.0.0.1", 4000), "arakoon", timeout=None) as client:
        assert_type(client, SocketClient)
        assert_type(client.get(key), bytes)


async def admin_results(proto: ArakoonProtocol, client: SocketClient, node: NodeClient) -> None:
    """The admin commands have both flavours too, on every client of one node."""
    assert_type(proto.optimize_db(), Deferred[None])
    assert_type(proto.defrag_db(), Deferred[None])
    assert_type(proto.drop_master(), Deferred[None])
    assert_type(proto.flush_store(), Deferred[None])
    assert_type(proto.copy_db_to_head(2), Deferred[None])
    assert_type(proto.collapse_tlogs(2, _progress), Deferred[int])
    assert_type(await node.collapse_tlogs(2), int)
    assert_type(node.defrag_db(), Deferred[None])
    assert_type(client.optimize_db(), None)
    assert_type(client.defrag_db(), None)
    assert_type(client.drop_master(), None)
    assert_type(client.flush_store(), None)
    assert_type(client.copy_db_to_head(2), None)
    assert_type(client.collapse_tlogs(2, progress=_progress), int)


def cluster_results(cluster: ArakoonClient, key: bytes) -> None:
    """The cluster client and its views are the Deferred flavour."""
    assert_type(cluster.get(key), Deferred[bytes])
    assert_type(cluster.using(timeout=1).set(key, b"v"), Deferred[None])
    assert_type(cluster.read_your_writes().multi_get([key]), Deferred[list[bytes]])
    assert_type(cluster.node("n0").who_master(), Deferred[bytes | None])
    assert_type(cluster.sequence([Set(key, b"v")], sync=True), Deferred[None])


def blocking_cluster_results(config: ClusterConfig, key: bytes) -> None:
    """The blocking cluster client and its views return the values themselves."""
    with BlockingArakoonClient(config, timeout=5.0) as client:
        assert_type(client, BlockingArakoonClient)
        assert_type(client.get(key), bytes)
        assert_type(client.get(key, consistency=NoGuarantees), bytes)
        assert_type(client.exists(key), bool)
        assert_type(client.set(key, b"v"), None)
        assert_type(client.multi_get_option([key]), list[bytes | None])
        assert_type(client.range_entries(None, True, None, True), Entries)
        assert_type(client.test_and_set(key, None, b"v"), bytes | None)
        assert_type(client.who_master(), bytes | None)
        assert_type(client.get_txid(), Consistency)
        assert_type(client.sequence([Set(key, b"v")], sync=True), None)
        assert_type(client.delete_prefix(key), int)
        assert_type(client.master, str | None)
        assert_type(client.using(timeout=1).set(key, b"v"), None)
        assert_type(client.using(retry_idempotent=True).get(key), bytes)
        assert_type(client.read_your_writes().multi_get([key]), list[bytes])
        node = client.node("n0")
        assert_type(node, BlockingNodeClient)
        assert_type(node.version(), Version)
        assert_type(node.statistics(), Statistics)
        assert_type(node.collapse_tlogs(2, _progress), int)
        assert_type(node.optimize_db(), None)
        client.optimize_db()  # type: ignore[attr-defined]  # admin commands: node(name)
        client.get(42)  # type: ignore[arg-type]


def read_on_the_class(proto: ArakoonProtocol, client: SocketClient, key: bytes) -> None:
    """Read on a class, a command is a function of that class's flavour."""
    assert_type(ArakoonProtocol.get(proto, key), Deferred[bytes])
    assert_type(SocketClient.get(client, key), bytes)
    assert_type(SocketClient.collapse_tlogs(client, 2), int)


def rejected_calls(proto: ArakoonProtocol, client: SocketClient, key: bytes) -> None:
    """Wrong argument types, unknown keywords and wrong arities are errors in
    both flavours, as they would be for hand-written methods."""
    proto.get(42)  # type: ignore[arg-type]
    client.get(42)  # type: ignore[arg-type]
    client.get(key, consistency=True)  # type: ignore[arg-type]
    proto.get(key, consistensy=NoGuarantees)  # type: ignore[call-arg]
    client.get(key, consistensy=NoGuarantees)  # type: ignore[call-arg]
    client.get(key, True, NoGuarantees)  # type: ignore[call-arg]  # consistency is keyword-only
    proto.set(key)  # type: ignore[call-arg]
    client.range(None, "yes", None, True)  # type: ignore[arg-type]
    client.sequence([b"not a step"])  # type: ignore[list-item]
    proto.collapse_tlogs("2")  # type: ignore[arg-type]
    client.collapse_tlogs(2, progress=42)  # type: ignore[arg-type]
    client.optimize_db(True)  # type: ignore[call-arg]
    SocketClient.get(proto, key)  # type: ignore[arg-type]


def paged_items(proto: ArakoonProtocol) -> None:
    assert_type(iter_range(proto, None, True, None, True), AsyncIterator[bytes])
    assert_type(
        iter_rev_range_entries(proto, b"z", True, None, True, page_size=10),
        AsyncIterator[tuple[bytes, bytes]],
    )
    iter_range_entries(proto, None, True, None, True, bogus=1)  # type: ignore[call-arg]


async def recipe_results(
    cluster: ArakoonClient, blocking: BlockingArakoonClient, proto: ArakoonProtocol
) -> None:
    assert_type(update(cluster, b"k", lambda old: old), Deferred[bytes | None])
    assert_type(await update(cluster, b"k", lambda old: None), bytes | None)
    assert_type(update(blocking, b"k", lambda old: old, timeout=2), bytes | None)
    assert_type(increment(cluster, b"n"), Deferred[int])
    assert_type(await increment(cluster, b"n", 5), int)
    assert_type(increment(blocking, b"n", -1), int)
    update(proto, b"k", lambda old: old)  # type: ignore[call-overload]
    update(blocking, b"k", lambda old: 42)  # type: ignore[arg-type, return-value]
    increment(blocking, b"n", "1")  # type: ignore[call-overload]
