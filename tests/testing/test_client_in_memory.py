"""ArakoonProtocol against the in-memory node, no sockets: client and server
agree on every command, and the memory helpers behave."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionRefusedError
from twisted.python.failure import Failure

from txarakoon.consistency import AtLeast, NoGuarantees
from txarakoon.errors import AssertionFailed, NotFound
from txarakoon.protocol import ArakoonProtocol
from txarakoon.sequence import Assert, AssertRange, DeletePrefix, Set
from txarakoon.testing import ArakoonCluster, MemoryConnection, RawClient, Transaction

from . import cluster

DATA = {b"a": b"1", b"b": b"2", b"c": b"3", b"p/1": b"x", b"p/2": b"y"}


def _echo(transaction: Transaction, argument: bytes | None) -> bytes | None:
    return argument


Call = Callable[[ArakoonProtocol], "Deferred[Any]"]

# (name, call, expected result); the cluster holds DATA, master n0, one update.
CALLS: list[tuple[str, Call, Any]] = [
    ("hello", lambda c: c.hello(b"me", b"arakoon"), b"Arakoon 1.9.25"),
    ("who_master", lambda c: c.who_master(), b"n0"),
    ("exists", lambda c: c.exists(b"a"), True),
    ("get", lambda c: c.get(b"b"), b"2"),
    ("get_str_key", lambda c: c.get("b"), b"2"),
    ("set", lambda c: c.set(b"z", b"26"), None),
    ("delete", lambda c: c.delete(b"a"), None),
    ("range", lambda c: c.range(b"a", False, b"c", True), [b"b", b"c"]),
    ("range_max", lambda c: c.range(None, True, None, True, 2), [b"a", b"b"]),
    ("prefix", lambda c: c.prefix(b"p/"), [b"p/1", b"p/2"]),
    ("test_and_set", lambda c: c.test_and_set(b"a", b"1", b"one"), b"1"),
    (
        "range_entries",
        lambda c: c.range_entries(b"b", True, b"c", True),
        [(b"b", b"2"), (b"c", b"3")],
    ),
    (
        "rev_range_entries",
        lambda c: c.rev_range_entries(b"c", True, b"a", False),
        [(b"c", b"3"), (b"b", b"2")],
    ),
    ("sequence", lambda c: c.sequence([Assert(b"a", b"1"), Set(b"n", b"v")]), None),
    ("synced_sequence", lambda c: c.sequence([DeletePrefix(b"p/")], sync=True), None),
    ("multi_get", lambda c: c.multi_get([b"c", b"a"]), [b"3", b"1"]),
    ("multi_get_option", lambda c: c.multi_get_option([b"c", b"no"]), [b"3", None]),
    ("expect_progress_possible", lambda c: c.expect_progress_possible(), True),
    ("user_function", lambda c: c.user_function(b"echo", b"hi"), b"hi"),
    ("assert", lambda c: c.assert_(b"a", b"1"), None),
    ("get_key_count", lambda c: c.get_key_count(), 5),
    ("confirm", lambda c: c.confirm(b"a", b"1"), None),
    ("delete_prefix", lambda c: c.delete_prefix(b"p/"), 2),
    ("assert_exists", lambda c: c.assert_exists(b"a"), None),
    ("multi_get_dirty", lambda c: c.multi_get([b"a"], allow_dirty=True), [b"1"]),
    ("current_state", lambda c: c.get_current_state(), b"Stable_master"),
    ("replace", lambda c: c.replace(b"a", None), b"1"),
    ("nop", lambda c: c.nop(), None),
    ("get_txid", lambda c: c.get_txid(), AtLeast(1)),
    ("at_least_read", lambda c: c.get(b"a", consistency=AtLeast(1)), b"1"),
    ("flush_store", lambda c: c.flush_store(), None),
    ("collapse_tlogs", lambda c: c.collapse_tlogs(1), 2),  # D28: 2 with nothing to collapse
]


@pytest.mark.parametrize(("call", "expected"), [c[1:] for c in CALLS], ids=[c[0] for c in CALLS])
def test_client_and_server_agree(call: Call, expected: Any) -> None:
    arakoon = cluster(3, user_functions={"echo": _echo})
    arakoon.seed(DATA)
    result = call(arakoon.connect_in_memory().client)
    arakoon.flush()
    assert _value(result) == expected


def _value(deferred: Deferred[Any]) -> Any:
    outcome: list[Any] = []
    deferred.addBoth(outcome.append)
    (value,) = outcome
    if isinstance(value, Failure):
        value.raiseException()
    return value


def test_statistics_and_version_decode() -> None:
    arakoon = cluster(1)
    client = arakoon.connect_in_memory().client
    stats, version = client.statistics(), client.version()
    arakoon.flush()
    assert _value(stats)["node_is"] == {}  # D30: a node of one hears from no other
    assert _value(version)[:3] == (1, 9, 25)


def test_admin_commands_through_the_client_on_a_slave() -> None:
    arakoon = cluster(3)
    client = arakoon.connect_in_memory("n1").client
    done = [client.optimize_db(), client.defrag_db(), client.copy_db_to_head(1)]
    done.append(client.drop_master())
    arakoon.flush()
    assert [_value(d) for d in done] == [None, None, None, None]


def test_collapse_tlogs_reports_progress_to_the_client() -> None:
    arakoon = cluster(1, tlog_max_entries=10)
    for _ in range(40):
        arakoon.seed({})
    progress: list[int] = []
    result = arakoon.connect_in_memory().client.collapse_tlogs(1, progress.append)
    arakoon.flush()
    # 4 full tlogs, 1 kept: 3 to collapse, announced as 3 + 2 frames (§8.6).
    assert _value(result) == 5 == len(progress)


def test_errors_reach_the_client_as_their_classes() -> None:
    arakoon = cluster(1)
    client = arakoon.connect_in_memory().client
    missing = client.get(b"nope")
    failed = client.sequence([AssertRange(b"p/", [b"p/1"])])
    arakoon.flush()
    with pytest.raises(NotFound):
        _value(missing)
    with pytest.raises(AssertionFailed, match="ContainsExactly"):
        _value(failed)
    assert client.connected


def test_dirty_read_on_a_slave_through_the_client() -> None:
    arakoon = cluster(3, lag=0)
    arakoon.seed({b"k": b"v"})
    slave = arakoon.connect_in_memory("n2").client
    value = slave.get(b"k", consistency=NoGuarantees)
    arakoon.flush()
    assert _value(value) == b"v"


def test_connect_in_memory_defaults_to_the_master() -> None:
    arakoon = cluster(3, master="n1")
    connection = arakoon.connect_in_memory()
    assert connection.node is arakoon["n1"]
    assert isinstance(connection.client, ArakoonProtocol) and connection.client.connected


def test_connect_in_memory_without_master_needs_a_name() -> None:
    arakoon = cluster(3, master=None, election_delay=None)
    with pytest.raises(RuntimeError):
        arakoon.connect_in_memory()


def test_connect_in_memory_to_a_dead_node_is_refused() -> None:
    arakoon = cluster(3)
    arakoon.kill("n1")
    with pytest.raises(ConnectionRefusedError):
        arakoon.connect_in_memory("n1", RawClient())


def test_memory_connection_flush_moves_only_its_own_bytes() -> None:
    arakoon = cluster(1)
    one: MemoryConnection[ArakoonProtocol] = arakoon.connect_in_memory()
    two = arakoon.connect_in_memory()
    first, second = one.client.nop(), two.client.nop()
    assert one.flush()
    assert _value(first) is None
    assert not second.called
    arakoon.flush()
    assert second.called


def test_disconnect_closes_both_sides() -> None:
    arakoon = cluster(1)
    connection = arakoon.connect_in_memory()
    connection.disconnect()
    assert connection.disconnected and not connection.client.connected
    assert arakoon["n0"].connections == []


def test_stop_cuts_in_memory_connections() -> None:
    arakoon = cluster(1)
    client = arakoon.connect_in_memory().client
    stopped = arakoon.stop()
    assert stopped.called and not client.connected


def test_raw_client_records_and_takes_bytes() -> None:
    arakoon = cluster(1)
    client = RawClient.with_prologue("arakoon")
    connection = arakoon.connect_in_memory("n0", client)
    client.send(b"\x99\x00\xff\xb1")
    connection.flush()
    reply = client.take()
    assert reply == b"\x05\x00\x00\x00\x15\x00\x00\x0099: command not found"
    assert client.take() == b"" and client.lost


def test_cluster_repr_and_node_repr_are_readable() -> None:
    arakoon: ArakoonCluster = cluster(2)
    assert "master=n0" in repr(arakoon)
    assert repr(arakoon["n1"]) == "<ArakoonNode n1 slave txid=0>"
