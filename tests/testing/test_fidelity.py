"""Where the real server surprises and the in-memory one follows it
(PROTOCOL.md §11 D26, D28, D29, D30, D32), in raw bytes on in-memory
connections; tests/behaviour/test_fidelity.py checks the same against a
real cluster."""

from __future__ import annotations

from typing import Any

import pytest

from txarakoon import messages
from txarakoon.codec import INT32, STRING, decode
from txarakoon.consistency import AtLeast, Consistent, NoGuarantees
from txarakoon.errors import (
    BadInput,
    InconsistentRead,
    NotMaster,
    UnknownFailure,
    UserHookNotFound,
)
from txarakoon.messages import (
    COLLAPSE_TLOGS,
    COPY_DB_TO_HEAD,
    RANGE,
    RANGE_ENTRIES,
    REV_RANGE_ENTRIES,
    SET,
    STATISTICS_COMMAND,
    USER_FUNCTION,
    USER_HOOK,
    encode_error,
    receive_response,
)
from txarakoon.testing import ArakoonCluster

from . import cluster, exchange


def _result(reply: bytes, command: messages.Command[Any]) -> Any:
    return decode(receive_response(command.result), reply)


def _with_empty_key() -> ArakoonCluster:
    arakoon = cluster()
    arakoon.seed({b"": b"empty", b"a": b"1", b"b": b"2"})
    return arakoon


# -- D26: a None lower bound is the empty key, with its flag --------------------------


@pytest.mark.parametrize(
    ("inclusive", "expected"), [(True, [b"", b"a", b"b"]), (False, [b"a", b"b"])]
)
def test_range_from_none_applies_the_flag_to_the_empty_key(
    inclusive: bool, expected: list[bytes]
) -> None:
    reply, _ = exchange(_with_empty_key()["n0"], RANGE(Consistent, None, inclusive, None, True, -1))
    assert _result(reply, RANGE) == expected


def test_range_entries_from_an_exclusive_none_leaves_out_the_empty_key() -> None:
    request = RANGE_ENTRIES(Consistent, None, False, b"a", True, -1)
    reply, _ = exchange(_with_empty_key()["n0"], request)
    assert _result(reply, RANGE_ENTRIES) == [(b"a", b"1")]


@pytest.mark.parametrize(("inclusive", "expected"), [(True, [b"a", b""]), (False, [b"a"])])
def test_rev_range_entries_down_to_none_applies_the_flag_to_the_empty_key(
    inclusive: bool, expected: list[bytes]
) -> None:
    request = REV_RANGE_ENTRIES(Consistent, b"a", True, None, inclusive, -1)
    reply, _ = exchange(_with_empty_key()["n0"], request)
    assert [key for key, _ in _result(reply, REV_RANGE_ENTRIES)] == expected


def test_an_exclusive_none_upper_bound_is_still_unbounded() -> None:
    reply, _ = exchange(_with_empty_key()["n0"], RANGE(Consistent, b"a", True, None, False, -1))
    assert _result(reply, RANGE) == [b"a", b"b"]


# -- D28: collapse_tlogs on any node, two frames with nothing to collapse ----------------


@pytest.mark.parametrize("node", ["n0", "n1"], ids=["master", "slave"])
def test_collapse_tlogs_of_a_single_tlog_announces_two_frames_and_keeps_the_connection(
    node: str,
) -> None:
    reply, lost = exchange(cluster(3)[node], COLLAPSE_TLOGS(1))
    assert decode(messages.collapse_tlogs(1).receive(), reply) == 2
    assert not lost


# -- D29: node-independent checks come before the role check -----------------------------


def test_an_unknown_user_function_on_a_slave_is_bad_input_and_keeps_the_connection() -> None:
    reply, lost = exchange(cluster(3)["n1"], USER_FUNCTION(b"nope", None))
    assert reply == encode_error(BadInput(b'User function "nope" could not be found'))
    assert not lost


def test_an_eight_mib_set_on_a_slave_is_unknown_failure_and_closes() -> None:
    arakoon = cluster(3, max_value_size=16)
    request = SET.word + STRING.encode(b"k") + STRING.encode(b"v" * 16)
    assert exchange(arakoon["n1"], request) == (
        encode_error(UnknownFailure(b"unknown failure")),
        True,
    )


@pytest.mark.parametrize("node", ["n0", "n1"], ids=["master", "slave"])
def test_copy_db_to_head_keeping_no_tlog_is_refused_on_any_node(node: str) -> None:
    reply, lost = exchange(cluster(3)[node], COPY_DB_TO_HEAD.word + INT32.encode(0))
    assert reply == encode_error(UnknownFailure(b"tlogs_to_keep=0 is not acceptable"))
    assert lost


# -- D30: statistics.node_is lists the nodes a node heard from -------------------------


def _node_is(arakoon: ArakoonCluster, node: str) -> dict[str, int]:
    reply, _ = exchange(arakoon[node], STATISTICS_COMMAND())
    result: dict[str, int] = _result(reply, STATISTICS_COMMAND)["node_is"]
    return result


def test_node_is_on_a_one_node_cluster_lists_nothing() -> None:
    arakoon = cluster(1)
    arakoon.seed({b"k": b"v"})
    assert _node_is(arakoon, "n0") == {}


def test_node_is_on_the_master_lists_every_node() -> None:
    arakoon = cluster(3)
    arakoon.seed({b"k": b"v"})
    arakoon.seed({b"k": b"w"})
    listed = _node_is(arakoon, "n0")
    assert listed == {"n0": 2, "n1": 1, "n2": 1}
    assert all(type(txid) is messages.Int64 for txid in listed.values())


def test_node_is_on_a_slave_lists_the_master_and_itself() -> None:
    arakoon = cluster(3)
    arakoon.seed({b"k": b"v"})
    arakoon.seed({b"k": b"w"})
    assert _node_is(arakoon, "n1") == {"n0": 2, "n1": 1}


def test_node_is_leaves_out_a_node_that_applied_nothing_yet() -> None:
    arakoon = cluster(3)
    assert _node_is(arakoon, "n0") == {"n1": 0, "n2": 0}
    assert _node_is(arakoon, "n1") == {"n0": 0}


def test_node_is_leaves_out_a_dead_node() -> None:
    arakoon = cluster(3)
    arakoon.seed({b"k": b"v"})
    arakoon.kill("n2")
    assert set(_node_is(arakoon, "n0")) == {"n0", "n1"}


# -- D32: user_hook for a hook the node does not have ----------------------------------


def test_an_unknown_user_hook_is_user_hook_not_found_naming_it_and_closes() -> None:
    reply, lost = exchange(cluster()["n0"], USER_HOOK(Consistent, b"my_hook"))
    assert (reply, lost) == (encode_error(UserHookNotFound(b"my_hook")), True)


def test_a_consistent_user_hook_on_a_slave_is_not_master_and_closes() -> None:
    reply, lost = exchange(cluster(3)["n1"], USER_HOOK(Consistent, b"my_hook"))
    assert (reply, lost) == (encode_error(NotMaster(b"n0")), True)


def test_a_user_hook_without_guarantees_on_a_slave_is_user_hook_not_found() -> None:
    reply, lost = exchange(cluster(3)["n1"], USER_HOOK(NoGuarantees, b"my_hook"))
    assert (reply, lost) == (encode_error(UserHookNotFound(b"my_hook")), True)


def test_a_user_hook_at_least_a_txid_not_applied_is_inconsistent_read() -> None:
    reply, lost = exchange(cluster(3)["n1"], USER_HOOK(AtLeast(5), b"my_hook"))
    assert (reply, lost) == (encode_error(InconsistentRead(b"store not fresh enough")), False)
