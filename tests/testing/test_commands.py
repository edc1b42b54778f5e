"""Every command's success and error paths (PROTOCOL.md §6), with the exact
reply bytes of the golden response vectors where one applies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from txarakoon import messages
from txarakoon.codec import INT32, STRING, decode
from txarakoon.consistency import AtLeast, Consistent, NoGuarantees
from txarakoon.messages import (
    ASSERT,
    ASSERT_EXISTS,
    COLLAPSE_TLOGS,
    CONFIRM,
    COPY_DB_TO_HEAD,
    CURRENT_STATE,
    DEFRAG_DB,
    DELETE,
    DELETE_PREFIX,
    DROP_MASTER,
    EXISTS,
    EXPECT_PROGRESS_POSSIBLE,
    FLUSH_STORE,
    GET,
    GET_KEY_COUNT,
    GET_TXID,
    HELLO,
    MULTI_GET,
    MULTI_GET_OPTION,
    NOP,
    OPTIMIZE_DB,
    PREFIX_KEYS,
    RANGE,
    RANGE_ENTRIES,
    REPLACE,
    REV_RANGE_ENTRIES,
    SET,
    STATISTICS_COMMAND,
    TEST_AND_SET,
    USER_FUNCTION,
    VERSION_COMMAND,
    WHO_MASTER,
    Message,
    receive_response,
)
from txarakoon.testing import ArakoonCluster, Transaction
from txarakoon.testing.node import iter_handlers

from ..helpers import vectors
from . import clock_of, cluster, exchange, open_raw, response

OK = b"\x00\x00\x00\x00"


def _result(reply: bytes, command: messages.Command[Any]) -> Any:
    return decode(receive_response(command.result), reply)


def test_every_command_of_the_client_has_a_handler() -> None:
    handled = set(iter_handlers())
    assert set(messages.COMMANDS) <= handled
    # and the one no client offers, user_hook (D32)
    assert handled == set(messages.DECLARED_COMMANDS)


def _seeded(items: dict[bytes, bytes], **settings: Any) -> ArakoonCluster:
    arakoon = cluster(**settings)
    if items:
        arakoon.seed(items)
    return arakoon


def _result_fn(transaction: Transaction, argument: bytes | None) -> bytes:
    return b"result"


def _none_fn(transaction: Transaction, argument: bytes | None) -> None:
    return None


# (vector id, data, cluster settings, request)
SUCCESS_VECTORS: list[tuple[str, dict[bytes, bytes], dict[str, Any], Message[Any]]] = [
    ("resp_unit_ok", {}, {}, SET(b"key", b"value")),
    ("resp_hello", {}, {}, HELLO(b"client", b"arakoon")),
    ("resp_exists_true", {b"key": b"x"}, {}, EXISTS(Consistent, b"key")),
    ("resp_exists_false", {}, {}, EXISTS(Consistent, b"key")),
    ("resp_get_value", {b"key": b"value"}, {}, GET(Consistent, b"key")),
    ("resp_get_utf8", {b"k": "wärde ☃".encode()}, {}, GET(NoGuarantees, b"k")),
    ("resp_get_empty", {b"key": b""}, {}, GET(Consistent, b"key")),
    (
        "resp_range_3",
        {b"a": b"", b"b": b"", b"c": b""},
        {},
        RANGE(Consistent, None, True, None, True, -1),
    ),
    ("resp_range_empty", {}, {}, RANGE(Consistent, b"a", True, b"z", True, -1)),
    (
        "resp_prefix_keys_2",
        {b"user/1": b"", b"user/2": b"", b"users": b"", b"a": b""},
        {},
        PREFIX_KEYS(Consistent, b"user/", -1),
    ),
    ("resp_test_and_set_old", {b"key": b"old"}, {}, TEST_AND_SET(b"key", b"old", b"new")),
    ("resp_test_and_set_none", {}, {}, TEST_AND_SET(b"key", b"old", b"new")),
    (
        "resp_range_entries_2",
        {b"a": b"1", b"b": b"2"},
        {},
        RANGE_ENTRIES(Consistent, None, True, None, True, -1),
    ),
    (
        "resp_rev_range_entries_2",
        {b"a": b"1", b"b": b"2"},
        {},
        REV_RANGE_ENTRIES(Consistent, None, True, None, True, -1),
    ),
    (
        "resp_multi_get_3",
        {b"k1": b"v1", b"k2": b"v2", b"k3": b"v3"},
        {},
        MULTI_GET(Consistent, [b"k1", b"k2", b"k3"]),
    ),
    (
        "resp_multi_get_option_3",
        {b"k1": b"v1", b"k3": b"v3"},
        {},
        MULTI_GET_OPTION(Consistent, [b"k1", b"missing", b"k3"]),
    ),
    ("resp_expect_progress_possible", {}, {}, EXPECT_PROGRESS_POSSIBLE()),
    (
        "resp_user_function_some",
        {},
        {"user_functions": {"fn": _result_fn}},
        USER_FUNCTION(b"fn", b"arg"),
    ),
    (
        "resp_user_function_none",
        {},
        {"user_functions": {"fn": _none_fn}},
        USER_FUNCTION(b"fn", None),
    ),
    (
        "resp_get_key_count",
        {b"%02d" % i: b"" for i in range(42)},
        {},
        GET_KEY_COUNT(),
    ),
    (
        "resp_delete_prefix",
        {b"p/1": b"", b"p/2": b"", b"p/3": b"", b"q": b""},
        {},
        DELETE_PREFIX(b"p/"),
    ),
    ("resp_get_current_state", {}, {}, CURRENT_STATE()),
    ("resp_replace_old", {b"key": b"old"}, {}, REPLACE(b"key", b"new")),
    ("resp_replace_none", {}, {}, REPLACE(b"key", b"new")),
]


@pytest.mark.parametrize(
    ("vector_id", "data", "settings", "request_"),
    SUCCESS_VECTORS,
    ids=[case[0] for case in SUCCESS_VECTORS],
)
def test_reply_is_the_response_vector(
    vector_id: str, data: dict[bytes, bytes], settings: dict[str, Any], request_: Message[Any]
) -> None:
    arakoon = _seeded(data, **settings)
    assert exchange(arakoon["n0"], request_) == (response(vector_id), False)


def test_who_master_vector_names_the_master() -> None:
    arakoon = cluster(("arakoon_0", "arakoon_1", "arakoon_2"))
    for name in arakoon.names:
        assert exchange(arakoon[name], WHO_MASTER())[0] == response("resp_who_master_some")


def test_who_master_vector_without_master() -> None:
    arakoon = cluster(3, master=None, election_delay=None)
    assert exchange(arakoon["n1"], WHO_MASTER())[0] == response("resp_who_master_none")


def test_get_txid_vector_after_1234_updates() -> None:
    arakoon = cluster()
    for _ in range(1234):
        arakoon.seed({})
    assert exchange(arakoon["n0"], GET_TXID())[0] == response("resp_get_txid_at_least")


def test_get_txid_of_a_fresh_node_is_at_least_0() -> None:
    reply, _ = exchange(cluster()["n0"], GET_TXID())
    assert _result(reply, GET_TXID) == AtLeast(0)


# -- error vectors ------------------------------------------------------------------


def test_get_missing_key_is_not_found_vector() -> None:
    assert exchange(cluster()["n0"], GET(Consistent, b"key")) == (
        response("resp_error_05_NotFound"),
        False,
    )


def test_delete_missing_key_is_not_found_with_the_key() -> None:
    assert exchange(cluster()["n0"], DELETE(b"key")) == (
        response("resp_error_05_NotFound_key"),
        False,
    )


def test_failed_delete_still_takes_a_txid() -> None:
    arakoon = cluster()
    exchange(arakoon["n0"], DELETE(b"key"))
    assert arakoon.txid == 1


def test_assert_mismatch_is_assertion_failed_with_the_key() -> None:
    arakoon = _seeded({b"key": b"other"})
    assert exchange(arakoon["n0"], ASSERT(Consistent, b"key", b"value")) == (
        response("resp_error_07_AssertionFailed"),
        False,
    )


def test_assert_none_requires_the_key_absent() -> None:
    arakoon = _seeded({b"key": b"v"})
    ok, _ = exchange(arakoon["n0"], ASSERT(Consistent, b"other", None))
    failed, _ = exchange(arakoon["n0"], ASSERT(Consistent, b"key", None))
    assert ok == OK
    assert failed == response("resp_error_07_AssertionFailed")


def test_assert_matching_value_succeeds() -> None:
    arakoon = _seeded({b"key": b"v"})
    assert exchange(arakoon["n0"], ASSERT(Consistent, b"key", b"v"))[0] == OK


def test_assert_exists() -> None:
    arakoon = _seeded({b"key": b"v"})
    assert exchange(arakoon["n0"], ASSERT_EXISTS(Consistent, b"key"))[0] == OK
    reply, lost = exchange(arakoon["n0"], ASSERT_EXISTS(Consistent, b"nokey"))
    assert reply == b"\x07\x00\x00\x00" + STRING.encode(b"nokey") and not lost


def test_at_least_beyond_the_node_is_inconsistent_read_vector() -> None:
    reply, _ = exchange(cluster()["n0"], EXISTS(AtLeast(1), b"key"))
    assert reply == response("resp_error_80_InconsistentRead")


def test_at_least_reached_is_served() -> None:
    arakoon = _seeded({b"key": b"v"})
    assert exchange(arakoon["n0"], GET(AtLeast(1), b"key"))[0] == OK + STRING.encode(b"v")


def test_hello_with_another_cluster_id_is_unknown_failure_vector() -> None:
    reply, lost = exchange(cluster()["n0"], HELLO(b"client", b"nope"))
    assert (reply, lost) == (response("resp_error_ff_UnknownFailure"), True)


def test_unknown_user_function_is_bad_input_vector() -> None:
    reply, lost = exchange(cluster()["n0"], USER_FUNCTION(b"nope", None))
    assert (reply, lost) == (response("resp_error_26_BadInput"), False)


def test_optimize_db_on_the_master_is_not_supported_vector() -> None:
    reply, lost = exchange(cluster()["n0"], OPTIMIZE_DB())
    assert (reply, lost) == (response("resp_error_20_NotSupported"), True)


def test_no_longer_master_vector() -> None:
    arakoon = cluster()
    arakoon.no_longer_master("n0")
    assert exchange(arakoon["n0"], DELETE(b"k"))[0] == response("resp_error_21_NoLongerMaster")


# -- reads ------------------------------------------------------------------------------


def test_range_with_bounds_and_limit() -> None:
    arakoon = _seeded({k: b"" for k in (b"a", b"b", b"c", b"d")})
    reply, _ = exchange(arakoon["n0"], RANGE(Consistent, b"a", False, b"d", True, 2))
    assert _result(reply, RANGE) == [b"b", b"c"]


@pytest.mark.parametrize("max_elements", [-1, -2, -(2**31)])
def test_any_negative_max_elements_means_all_d22(max_elements: int) -> None:
    arakoon = _seeded({k: b"" for k in (b"a", b"b", b"c")})
    for command in (RANGE, RANGE_ENTRIES, REV_RANGE_ENTRIES):
        request = command(Consistent, None, True, None, True, max_elements)
        assert len(_result(exchange(arakoon["n0"], request)[0], command)) == 3
    request = PREFIX_KEYS(Consistent, b"", max_elements)
    assert len(_result(exchange(arakoon["n0"], request)[0], PREFIX_KEYS)) == 3


def test_max_elements_zero_returns_nothing() -> None:
    arakoon = _seeded({b"a": b""})
    reply, _ = exchange(arakoon["n0"], RANGE(Consistent, None, True, None, True, 0))
    assert reply == response("resp_range_empty")


def test_range_is_reversed_on_the_wire() -> None:
    arakoon = _seeded({b"a": b"", b"b": b"", b"c": b""})
    reply, _ = exchange(arakoon["n0"], RANGE(Consistent, None, True, None, True, -1))
    assert reply == OK + INT32.encode(3) + STRING.encode(b"c") + STRING.encode(b"b") + (
        STRING.encode(b"a")
    )


def test_rev_range_entries_begin_is_the_high_bound() -> None:
    arakoon = _seeded({k: k for k in (b"a", b"b", b"c", b"d", b"z")})
    request = REV_RANGE_ENTRIES(Consistent, b"z", True, b"a", False, -1)
    result = _result(exchange(arakoon["n0"], request)[0], REV_RANGE_ENTRIES)
    assert [key for key, _ in result] == [b"z", b"d", b"c", b"b"]


def test_rev_range_entries_limit_takes_the_highest() -> None:
    arakoon = _seeded({k: k for k in (b"a", b"b", b"c")})
    request = REV_RANGE_ENTRIES(Consistent, None, True, None, True, 2)
    assert _result(exchange(arakoon["n0"], request)[0], REV_RANGE_ENTRIES) == [
        (b"c", b"c"),
        (b"b", b"b"),
    ]


def test_prefix_keys_empty_prefix_is_every_key() -> None:
    arakoon = _seeded({b"x": b"", b"a": b""})
    request = PREFIX_KEYS(Consistent, b"", -1)
    assert _result(exchange(arakoon["n0"], request)[0], PREFIX_KEYS) == [b"a", b"x"]


def test_multi_get_missing_key_reports_the_last_missing_in_caller_order() -> None:
    arakoon = _seeded({b"k2": b"v2"})
    request = MULTI_GET(Consistent, [b"m1", b"k2", b"m3", b"k4"])
    reply, lost = exchange(arakoon["n0"], request)
    assert reply == b"\x05\x00\x00\x00" + STRING.encode(b"k4") and not lost


def test_multi_get_is_all_or_nothing() -> None:
    arakoon = _seeded({b"k1": b"v1"})
    reply, _ = exchange(arakoon["n0"], MULTI_GET(Consistent, [b"k1", b"m"]))
    assert reply == b"\x05\x00\x00\x00" + STRING.encode(b"m")


def test_multi_get_of_no_keys_is_empty() -> None:
    reply, _ = exchange(cluster()["n0"], MULTI_GET(Consistent, []))
    assert reply == OK + INT32.encode(0)


# -- writes -----------------------------------------------------------------------------


def test_set_then_get() -> None:
    arakoon = cluster()
    reply, _ = exchange(arakoon["n0"], SET(b"k", b"v"), GET(Consistent, b"k"))
    assert reply == OK + OK + STRING.encode(b"v")
    assert arakoon.store.as_dict() == {b"k": b"v"}


def test_test_and_set_matching_value_sets_and_returns_the_old() -> None:
    arakoon = _seeded({b"key": b"old"})
    reply, _ = exchange(arakoon["n0"], TEST_AND_SET(b"key", b"old", b"new"))
    assert reply == response("resp_test_and_set_old")
    assert arakoon.store.get(b"key") == b"new"


def test_test_and_set_mismatch_changes_nothing_and_returns_the_current() -> None:
    arakoon = _seeded({b"key": b"other"})
    reply, _ = exchange(arakoon["n0"], TEST_AND_SET(b"key", b"old", b"new"))
    assert _result(reply, TEST_AND_SET) == b"other"
    assert arakoon.store.get(b"key") == b"other"


def test_test_and_set_missing_key_with_expected_value_returns_none_d16() -> None:
    arakoon = cluster()
    reply, lost = exchange(arakoon["n0"], TEST_AND_SET(b"key", b"old", b"new"))
    assert (reply, lost) == (response("resp_test_and_set_none"), False)
    assert b"key" not in arakoon.store


def test_test_and_set_expected_none_creates_a_missing_key() -> None:
    arakoon = cluster()
    reply, _ = exchange(arakoon["n0"], TEST_AND_SET(b"key", None, b"new"))
    assert reply == response("resp_test_and_set_none")
    assert arakoon.store.get(b"key") == b"new"


def test_test_and_set_wanted_none_deletes() -> None:
    arakoon = _seeded({b"key": b"old"})
    exchange(arakoon["n0"], TEST_AND_SET(b"key", b"old", None))
    assert b"key" not in arakoon.store


def test_test_and_set_takes_a_txid_even_without_change() -> None:
    arakoon = _seeded({b"key": b"x"})
    exchange(arakoon["n0"], TEST_AND_SET(b"key", b"old", b"new"))
    assert arakoon.txid == 2


def test_replace_returns_the_previous_value_and_none_deletes() -> None:
    arakoon = _seeded({b"key": b"old"})
    reply, _ = exchange(arakoon["n0"], REPLACE(b"key", None))
    assert reply == response("resp_replace_old")
    assert b"key" not in arakoon.store


def test_confirm_equal_value_is_no_update() -> None:
    arakoon = _seeded({b"key": b"v"})
    reply, _ = exchange(arakoon["n0"], CONFIRM(b"key", b"v"))
    assert reply == OK and arakoon.txid == 1


def test_confirm_other_value_sets_it() -> None:
    arakoon = _seeded({b"key": b"v"})
    reply, _ = exchange(arakoon["n0"], CONFIRM(b"key", b"w"), CONFIRM(b"new", b"n"))
    assert reply == OK + OK and arakoon.txid == 3
    assert arakoon.store.as_dict() == {b"key": b"w", b"new": b"n"}


def test_delete_prefix_counts_and_deletes() -> None:
    arakoon = _seeded({b"p/1": b"", b"p/2": b"", b"q": b""})
    reply, _ = exchange(arakoon["n0"], DELETE_PREFIX(b"p/"), DELETE_PREFIX(b"p/"))
    assert reply == OK + INT32.encode(2) + OK + INT32.encode(0)
    assert list(arakoon.store) == [b"q"]


def test_delete_prefix_empty_prefix_deletes_everything() -> None:
    arakoon = _seeded({b"a": b"", b"b": b""})
    reply, _ = exchange(arakoon["n0"], DELETE_PREFIX(b""))
    assert reply == OK + INT32.encode(2) and len(arakoon.store) == 0


def test_nop_takes_a_txid() -> None:
    arakoon = cluster()
    reply, _ = exchange(arakoon["n0"], NOP(), GET_TXID())
    assert reply == OK + OK + b"\x02" + (1).to_bytes(8, "little")


def test_get_key_count() -> None:
    arakoon = _seeded({b"a": b"", b"b": b""})
    assert _result(exchange(arakoon["n0"], GET_KEY_COUNT())[0], GET_KEY_COUNT) == 2


# -- max_value_size (§6.3, D5) ------------------------------------------------------------

BIG = b"x" * messages.MAX_VALUE_SIZE
BIG_WRITES: list[tuple[str, Callable[[], bytes]]] = [
    ("set", lambda: SET.word + STRING.encode(b"k") + STRING.encode(BIG)),
    ("confirm", lambda: CONFIRM.word + STRING.encode(b"k") + STRING.encode(BIG)),
    (
        "test_and_set",
        lambda: TEST_AND_SET.word + STRING.encode(b"k") + b"\x00" + b"\x01" + STRING.encode(BIG),
    ),
    ("replace", lambda: REPLACE.word + STRING.encode(b"k") + b"\x01" + STRING.encode(BIG)),
]


@pytest.mark.parametrize("build", [b for _, b in BIG_WRITES], ids=[n for n, _ in BIG_WRITES])
def test_value_of_max_value_size_is_unknown_failure_and_close(build: Callable[[], bytes]) -> None:
    arakoon = cluster()
    reply, lost = exchange(arakoon["n0"], build())
    assert (reply, lost) == (response("resp_error_ff_UnknownFailure"), True)
    assert arakoon.txid == 0


def test_value_just_below_max_value_size_is_accepted() -> None:
    arakoon = cluster()
    reply, _ = exchange(arakoon["n0"], SET(b"k", BIG[:-1]))
    assert reply == OK and len(arakoon.store.get(b"k") or b"") == len(BIG) - 1


def test_value_size_is_checked_before_the_master_role() -> None:
    arakoon = cluster(3)
    request = SET.word + STRING.encode(b"k") + STRING.encode(BIG)
    assert exchange(arakoon["n1"], request)[0] == response("resp_error_ff_UnknownFailure")


# -- user functions ---------------------------------------------------------------------


def test_user_function_gets_the_argument_and_its_writes_are_committed() -> None:
    seen: list[bytes | None] = []

    def counter(transaction: Transaction, argument: bytes | None) -> bytes:
        seen.append(argument)
        value = int(transaction.get(b"count") or b"0") + 1
        transaction.set(b"count", b"%d" % value)
        return b"%d" % value

    arakoon = cluster(user_functions={b"count": counter})
    reply, _ = exchange(arakoon["n0"], USER_FUNCTION(b"count", b"a"), USER_FUNCTION(b"count", None))
    assert reply == OK + b"\x01" + STRING.encode(b"1") + OK + b"\x01" + STRING.encode(b"2")
    assert seen == [b"a", None]
    assert arakoon.store.get(b"count") == b"2" and arakoon.txid == 2


def test_failing_user_function_changes_nothing_but_takes_a_txid() -> None:
    def failing(transaction: Transaction, argument: bytes | None) -> None:
        transaction.set(b"k", b"v")
        raise ValueError("nope")

    arakoon = cluster(user_functions={"f": failing})
    reply, lost = exchange(arakoon["n0"], USER_FUNCTION(b"f", None))
    assert (reply, lost) == (b"\x81\x00\x00\x00" + STRING.encode(b"nope"), True)
    assert len(arakoon.store) == 0 and arakoon.txid == 1


def test_user_function_raising_an_arakoon_error_sends_its_code() -> None:
    from txarakoon.errors import AssertionFailed

    def asserting(transaction: Transaction, argument: bytes | None) -> None:
        raise AssertionFailed(b"mine")

    arakoon = cluster(user_functions={"f": asserting})
    reply, lost = exchange(arakoon["n0"], USER_FUNCTION(b"f", None))
    assert (reply, lost) == (b"\x07\x00\x00\x00" + STRING.encode(b"mine"), False)


def test_unknown_user_function_is_checked_before_the_master_role() -> None:
    arakoon = cluster(3)
    reply, lost = exchange(arakoon["n2"], USER_FUNCTION(b"nope", None))
    assert (reply, lost) == (response("resp_error_26_BadInput"), False)


def test_user_function_on_a_slave_is_not_master() -> None:
    arakoon = cluster(3, user_functions={"fn": _none_fn})
    reply, lost = exchange(arakoon["n1"], USER_FUNCTION(b"fn", None))
    assert (reply, lost) == (b"\x04\x00\x00\x00" + STRING.encode(b"n0"), True)


# -- node information -------------------------------------------------------------------


def test_hello_answers_from_any_node() -> None:
    arakoon = cluster(3)
    assert exchange(arakoon["n2"], HELLO(b"me", b"arakoon"))[0] == response("resp_hello")


def test_version_is_1_9_25_with_three_info_lines() -> None:
    reply, _ = exchange(cluster()["n0"], VERSION_COMMAND())
    major, minor, patch, info = _result(reply, VERSION_COMMAND)
    assert (major, minor, patch) == (1, 9, 25)
    lines = info.split(b"\n")
    assert [line.split(b": ")[0] for line in lines[:3]] == [b"revision", b"compiled", b"machine"]
    assert lines[3] == b""
    assert response("resp_version")[:16] == reply[:16]


def test_statistics_have_the_real_field_layout() -> None:
    arakoon = _seeded({b"k": b"v"})
    exchange(arakoon["n0"], GET(Consistent, b"k"), SET(b"a", b"b"))
    reply, _ = exchange(arakoon["n0"], STATISTICS_COMMAND())
    stats = _result(reply, STATISTICS_COMMAND)
    (vector,) = [v for v in vectors.ALL if v["id"] == "resp_statistics"]
    expected = vectors.expected_value(vector)
    assert list(stats) == list(expected)
    for name, value in expected.items():
        if isinstance(value, dict) and name != "node_is":
            assert list(stats[name]) == list(value)
            assert [type(v) for v in stats[name].values()] == [type(v) for v in value.values()]
        elif name != "node_is":
            assert type(stats[name]) is type(value), name
    assert stats["node_is"] == {}  # D30: the node of a 1-node cluster hears from none
    assert stats["get_info"]["n"] == 1 and stats["set_info"]["n"] == 1
    assert stats["op_info"]["n"] == 2
    assert stats["del_info"] == expected["del_info"]


def test_statistics_times_are_on_the_cluster_clock() -> None:
    arakoon = cluster()
    clock_of(arakoon).advance(100)
    stats = _result(exchange(arakoon["n0"], STATISTICS_COMMAND())[0], STATISTICS_COMMAND)
    assert (stats["start"], stats["last"]) == (0.0, 100.0)


def test_current_state_of_a_slave() -> None:
    arakoon = cluster(3)
    assert _result(exchange(arakoon["n1"], CURRENT_STATE())[0], CURRENT_STATE) == (
        b"Slave_steady_state"
    )


def test_expect_progress_possible_false_without_master() -> None:
    arakoon = cluster(3, master=None, election_delay=None)
    assert exchange(arakoon["n1"], EXPECT_PROGRESS_POSSIBLE())[0] == OK + b"\x00"


# -- admin commands ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_", [OPTIMIZE_DB(), DEFRAG_DB(), COPY_DB_TO_HEAD(2)], ids=["optimize", "defrag", "copy"]
)
def test_maintenance_is_refused_on_the_master(request_: Message[Any]) -> None:
    reply, lost = exchange(cluster(3)["n0"], request_)
    assert (reply, lost) == (response("resp_error_20_NotSupported"), True)


@pytest.mark.parametrize(
    "request_", [OPTIMIZE_DB(), DEFRAG_DB(), COPY_DB_TO_HEAD(2)], ids=["optimize", "defrag", "copy"]
)
def test_maintenance_is_allowed_on_a_slave(request_: Message[Any]) -> None:
    assert exchange(cluster(3)["n1"], request_) == (OK, False)


def test_copy_db_to_head_needs_one_tlog_to_keep() -> None:
    request = COPY_DB_TO_HEAD.word + INT32.encode(0)
    reply, lost = exchange(cluster(3)["n1"], request)
    assert reply == b"\xff\x00\x00\x00" + STRING.encode(b"tlogs_to_keep=0 is not acceptable")
    assert lost


def test_flush_store_is_ok_anywhere() -> None:
    arakoon = cluster(3)
    assert exchange(arakoon["n0"], FLUSH_STORE())[0] == OK
    assert exchange(arakoon["n2"], FLUSH_STORE())[0] == OK


def test_drop_master_on_a_single_node_is_not_supported() -> None:
    reply, lost = exchange(cluster()["n0"], DROP_MASTER())
    expected = b"\x20\x00\x00\x00" + STRING.encode(b"drop master not supported for singletons")
    assert (reply, lost) == (expected, True)


def test_drop_master_on_a_slave_answers_at_once() -> None:
    arakoon = cluster(3)
    assert exchange(arakoon["n1"], DROP_MASTER()) == (OK, False)
    assert arakoon.master == "n0"


def test_drop_master_on_the_master_answers_half_a_lease_after_the_next_election() -> None:
    arakoon = cluster(3, election_delay=None)
    client = open_raw(arakoon["n0"])
    client.send(DROP_MASTER().serialize())
    arakoon.advance(100)
    assert client.take() == b"" and arakoon.master is None
    arakoon.elect("n1")
    arakoon.advance(4.9)
    assert client.take() == b""
    arakoon.advance(0.1)
    assert client.take() == OK
    assert arakoon.master == "n1"


@pytest.mark.parametrize("count", [0, -3])
def test_collapse_tlogs_below_one_is_not_acceptable(count: int) -> None:
    reply, lost = exchange(cluster()["n0"], COLLAPSE_TLOGS.word + INT32.encode(count))
    assert reply == b"\xff\x00\x00\x00" + STRING.encode(b"%d is not acceptable" % count)
    assert lost


def test_collapse_tlogs_streams_tlogs_plus_two_frames() -> None:
    arakoon = cluster(tlog_max_entries=50)
    for _ in range(300):
        arakoon.seed({})
    reply, lost = exchange(arakoon["n0"], COLLAPSE_TLOGS(1), COLLAPSE_TLOGS(1))
    # rc, N, then N frames of rc + int64; the second has nothing left to
    # collapse and still announces two frames (D28).
    second = 4 + 4 + 2 * 12
    assert decode(messages.collapse_tlogs(1).receive(), reply[:-second]) == 7  # as live (§12.4)
    assert decode(messages.collapse_tlogs(1).receive(), reply[-second:]) == 2
    assert not lost


def test_collapse_tlogs_frame_values_increase() -> None:
    arakoon = cluster(tlog_max_entries=1)
    arakoon.seed({})
    arakoon.seed({})
    progress: list[int] = []
    reply, _ = exchange(arakoon["n0"], COLLAPSE_TLOGS(1))
    assert decode(messages.collapse_tlogs(1, progress.append).receive(), reply) == 3
    assert progress == sorted(progress) and len(set(progress)) == 3
    assert len(reply) == len(response("resp_collapse_tlogs"))
