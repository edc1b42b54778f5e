"""The ordered store: range semantics of PROTOCOL.md §6.2 and D22, and the
transaction layers behind D19/D20."""

from __future__ import annotations

import pytest

from txarakoon.testing import Store, Transaction


@pytest.fixture
def store() -> Store:
    return Store({key: key.upper() for key in (b"a", b"b", b"c", b"d", b"e")})


def test_keys_are_kept_in_byte_order() -> None:
    store = Store()
    store.apply([(b"b", b"1"), (b"\xff", b"2"), (b"a", b"3"), (b"B", b"4"), (b"", b"5")])
    assert list(store) == [b"", b"B", b"a", b"b", b"\xff"]


def test_apply_counts_one_update_whatever_it_changes() -> None:
    store = Store()
    store.apply([])
    store.apply([(b"a", b"1"), (b"b", b"2")])
    assert store.txid == 2


def test_put_none_deletes_and_ignores_missing_keys() -> None:
    store = Store({b"a": b"1"})
    store.put(b"a", None)
    store.put(b"zz", None)
    assert len(store) == 0 and b"a" not in store


@pytest.mark.parametrize(
    ("first", "first_inclusive", "last", "last_inclusive", "expected"),
    [
        (b"b", True, b"d", True, [b"b", b"c", b"d"]),
        (b"b", False, b"d", True, [b"c", b"d"]),
        (b"b", True, b"d", False, [b"b", b"c"]),
        (b"b", False, b"d", False, [b"c"]),
        (None, True, b"b", True, [b"a", b"b"]),
        (None, False, b"b", False, [b"a"]),
        (b"d", True, None, True, [b"d", b"e"]),
        (None, True, None, True, [b"a", b"b", b"c", b"d", b"e"]),
        (b"bb", True, b"cc", True, [b"c"]),
        (b"d", True, b"b", True, []),
        (b"c", False, b"c", True, []),
    ],
)
def test_range_bounds_and_inclusivity(
    store: Store,
    first: bytes | None,
    first_inclusive: bool,
    last: bytes | None,
    last_inclusive: bool,
    expected: list[bytes],
) -> None:
    assert store.range(first, first_inclusive, last, last_inclusive, -1) == expected


@pytest.mark.parametrize(
    ("max_elements", "expected"),
    [(-1, 5), (-7, 5), (-(2**31), 5), (0, 0), (2, 2), (5, 5), (100, 5)],
)
def test_range_max_elements_negative_is_all_zero_is_none(
    store: Store, max_elements: int, expected: int
) -> None:
    keys = store.range(None, True, None, True, max_elements)
    assert keys == [b"a", b"b", b"c", b"d", b"e"][:expected]


def test_range_entries_pairs_keys_with_values(store: Store) -> None:
    assert store.range_entries(b"a", False, b"c", True, -1) == [(b"b", b"B"), (b"c", b"C")]


def test_rev_range_entries_scans_down_from_the_high_bound(store: Store) -> None:
    assert store.rev_range_entries(b"d", True, b"b", True, -1) == [
        (b"d", b"D"),
        (b"c", b"C"),
        (b"b", b"B"),
    ]


def test_rev_range_entries_exclusive_bounds(store: Store) -> None:
    assert store.rev_range_entries(b"d", False, b"b", False, -1) == [(b"c", b"C")]


def test_rev_range_entries_none_bounds_mean_last_and_first(store: Store) -> None:
    keys = [key for key, _ in store.rev_range_entries(None, True, None, True, -1)]
    assert keys == [b"e", b"d", b"c", b"b", b"a"]


def test_rev_range_entries_max_elements_keeps_the_highest(store: Store) -> None:
    assert store.rev_range_entries(None, True, None, True, 2) == [(b"e", b"E"), (b"d", b"D")]
    assert store.rev_range_entries(None, True, None, True, 0) == []
    assert len(store.rev_range_entries(None, True, None, True, -3)) == 5


def test_prefix_keys() -> None:
    store = Store({b"user/1": b"", b"user/2": b"", b"user": b"", b"usex": b"", b"u": b""})
    assert store.prefix_keys(b"user/") == [b"user/1", b"user/2"]
    assert store.prefix_keys(b"user/", 1) == [b"user/1"]
    assert store.prefix_keys(b"user/", 0) == []
    assert store.prefix_keys(b"") == [b"u", b"user", b"user/1", b"user/2", b"usex"]


def test_prefix_keys_of_high_bytes() -> None:
    store = Store({b"\xff": b"", b"\xff\xff": b"", b"\xfe": b""})
    assert store.prefix_keys(b"\xff") == [b"\xff", b"\xff\xff"]


def test_transaction_reads_its_own_writes(store: Store) -> None:
    transaction = Transaction(store)
    transaction.set(b"x", b"1")
    transaction.delete(b"a")
    assert transaction.get(b"x") == b"1"
    assert transaction.get(b"a") is None
    assert store.get(b"a") == b"A" and b"x" not in store


def test_transaction_delete_prefix_ignores_pending_writes_d20(store: Store) -> None:
    transaction = Transaction(store)
    transaction.set(b"bx", b"new")
    assert transaction.delete_prefix(b"b") == 1
    assert transaction.get(b"bx") == b"new"
    assert transaction.get(b"b") is None


def test_transaction_failed_mutations_keep_only_delete_prefix_d19(store: Store) -> None:
    transaction = Transaction(store)
    transaction.delete_prefix(b"a")
    transaction.set(b"z", b"1")
    assert transaction.failed_mutations() == [(b"a", None)]
    assert transaction.mutations() == [(b"a", None), (b"z", b"1")]


def test_transaction_merged_views_for_user_functions(store: Store) -> None:
    transaction = Transaction(store)
    transaction.set(b"bb", b"new")
    transaction.delete(b"c")
    assert transaction.prefix_keys(b"b") == [b"b", b"bb"]
    entries = transaction.range_entries(b"b", True, b"d", True, -1)
    assert entries == [(b"b", b"B"), (b"bb", b"new"), (b"d", b"D")]
    high = transaction.rev_range_entries(None, True, b"c", True, 2)
    assert high == [(b"e", b"E"), (b"d", b"D")]
