"""Per-node commands, user functions and admin commands through both client
flavours: hello, who_master on every node, version, statistics, get_txid, nop,
expect_progress_possible, current_state, user_function, the admin role rules."""

from __future__ import annotations

import re
from typing import Any

import pytest
import pytest_twisted

from txarakoon.consistency import AtLeast
from txarakoon.errors import BadInput, NotSupported, UnknownFailure, UserFunctionFailure

from .support import USER_FUNCTIONS_REASON, Flavour, Keys, Target

ensure = pytest_twisted.ensureDeferred

SERIES = (
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
AVERAGES = (
    "avg_set_size",
    "avg_get_size",
    "avg_range_size",
    "avg_range_entries_size",
    "avg_rev_range_entries_size",
    "avg_prefix_size",
    "avg_del_prefix_size",
)


@ensure
async def test_hello_answers_the_server_version_text(client: Any, target: Target) -> None:
    answer = await client.hello(b"behaviour-suite", target.cluster_id)
    assert re.fullmatch(rb"Arakoon 1\.9\.\d+", answer)


@ensure
async def test_hello_with_another_cluster_id_is_unknown_failure_and_closes(
    client: Any, flavour: Flavour
) -> None:
    # D4: not WrongCluster.
    with pytest.raises(UnknownFailure) as caught:
        await client.hello(b"behaviour-suite", b"not-this-cluster")
    assert caught.value.message == b"unknown failure"
    await flavour.assert_closed(client)


@ensure
async def test_every_node_names_the_same_master(flavour: Flavour, target: Target) -> None:
    master = target.master()
    for name in target.names:
        client = await flavour.connect(name)
        assert await client.who_master() == master.encode()


@ensure
async def test_version_is_one_nine_with_three_info_lines(client: Any) -> None:
    major, minor, patch, info = await client.version()
    assert (major, minor) == (1, 9)
    assert isinstance(patch, int)
    lines = info.split(b"\n")
    assert [line.split(b":")[0] for line in lines] == [b"revision", b"compiled", b"machine", b""]


@ensure
async def test_statistics_have_the_server_field_layout(client: Any, keys: Keys) -> None:
    await client.set(keys("k"), b"v")
    stats = await client.statistics()
    assert isinstance(stats["start"], float)
    assert isinstance(stats["last"], float)
    for name in AVERAGES:
        assert isinstance(stats[name], float), name
    for name in SERIES:
        assert set(stats[name]) == {"n", "min", "max", "m2", "avg", "var"}, name
        assert isinstance(stats[name]["n"], int)
    assert stats["set_info"]["n"] >= 1
    for name in ("mem_maxrss", "mem_minor_collections", "mem_major_collections"):
        assert isinstance(stats[name], int), name
    assert isinstance(stats["mem_allocated"], float)
    assert isinstance(stats["node_is"], dict)


@ensure
async def test_get_txid_is_at_least_and_grows_with_each_update(client: Any, keys: Keys) -> None:
    first = await client.get_txid()
    assert isinstance(first, AtLeast)
    await client.set(keys("k"), b"v")
    after_set = await client.get_txid()
    assert after_set.i > first.i
    assert await client.nop() is None
    assert (await client.get_txid()).i > after_set.i


@ensure
async def test_expect_progress_possible_on_a_healthy_master(client: Any) -> None:
    assert await client.expect_progress_possible() is True


@ensure
async def test_current_state_names_the_master_state(client: Any) -> None:
    assert await client.get_current_state() == b"Stable_master"


@ensure
async def test_an_unknown_user_function_is_bad_input_and_keeps_the_connection(
    client: Any,
) -> None:
    with pytest.raises(BadInput) as caught:
        await client.user_function(b"no-such-function", b"argument")
    assert caught.value.message == b'User function "no-such-function" could not be found'
    assert client.connected
    assert await client.nop() is None


@pytest.mark.in_memory_only(USER_FUNCTIONS_REASON)
@ensure
async def test_a_user_function_returns_its_result(client: Any) -> None:
    assert await client.user_function(b"echo", b"hi") == b"hi"
    assert await client.user_function(b"echo", None) is None


@pytest.mark.in_memory_only(USER_FUNCTIONS_REASON)
@ensure
async def test_a_raising_user_function_is_user_function_failure_and_closes(
    client: Any, flavour: Flavour
) -> None:
    with pytest.raises(UserFunctionFailure) as caught:
        await client.user_function(b"fail", None)
    assert caught.value.message == b"boom"
    await flavour.assert_closed(client)


@pytest.mark.parametrize(
    "command",
    [
        lambda c: c.optimize_db(),
        lambda c: c.defrag_db(),
        lambda c: c.copy_db_to_head(1),
    ],
    ids=["optimize_db", "defrag_db", "copy_db_to_head"],
)
@ensure
async def test_maintenance_on_the_master_is_not_supported_and_closes(
    client: Any, flavour: Flavour, command: Any
) -> None:
    with pytest.raises(NotSupported) as caught:
        await command(client)
    assert caught.value.message == b"Operation cannot be performed on master node"
    await flavour.assert_closed(client)


@pytest.mark.in_memory_only("maintenance would really run on a real node")
@ensure
async def test_maintenance_on_a_slave_succeeds(flavour: Flavour, target: Target) -> None:
    slave = await flavour.connect(target.slave())
    assert await slave.optimize_db() is None
    assert await slave.defrag_db() is None
    assert await slave.copy_db_to_head(1) is None
    assert await slave.flush_store() is None


@ensure
async def test_drop_master_on_a_slave_succeeds_at_once(flavour: Flavour, target: Target) -> None:
    master = target.master()
    slave = await flavour.connect(target.slave())
    assert await slave.drop_master() is None
    assert await slave.who_master() == master.encode()


@ensure
async def test_flush_store_on_the_master_succeeds(client: Any) -> None:
    assert await client.flush_store() is None


@pytest.mark.in_memory_only("collapsing tlogs is real maintenance on a real node")
@ensure
async def test_collapse_tlogs_reports_progress_frames(flavour: Flavour, target: Target) -> None:
    slave = await flavour.connect(target.slave())
    frames: list[int] = []
    count = await slave.collapse_tlogs(1, frames.append)
    assert count == len(frames)
