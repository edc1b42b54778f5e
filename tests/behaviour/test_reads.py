"""Reads on the master, through both client flavours: exists, get, multi_get,
multi_get_option, range, range_entries, rev_range_entries, prefix."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted

from txarakoon.consistency import AtLeast, NoGuarantees
from txarakoon.errors import InconsistentRead, NotFound

from .support import Keys

# Every test here runs once per client flavour (the `client` fixture).
ensure = pytest_twisted.ensureDeferred


async def _seed(client: Any, keys: Keys, names: str = "abcde") -> None:
    for name in names:
        await client.set(keys(name), name.upper())


@ensure
async def test_exists_tells_bound_from_unbound(client: Any, keys: Keys) -> None:
    await client.set(keys("here"), b"1")
    assert await client.exists(keys("here")) is True
    assert await client.exists(keys("gone")) is False


@ensure
async def test_get_returns_the_value_as_bytes(client: Any, keys: Keys) -> None:
    await client.set(keys("k"), "välue")
    assert await client.get(keys("k")) == "välue".encode()


@ensure
async def test_get_of_a_missing_key_is_not_found_and_keeps_the_connection(
    client: Any, keys: Keys
) -> None:
    with pytest.raises(NotFound) as caught:
        await client.get(keys("missing"))
    assert caught.value.message == b"Not_found"
    assert isinstance(caught.value, KeyError)
    assert await client.exists(keys("missing")) is False


@ensure
async def test_multi_get_returns_values_in_the_order_asked(client: Any, keys: Keys) -> None:
    await _seed(client, keys, "abc")
    assert await client.multi_get([keys("c"), keys("a"), keys("b")]) == [b"C", b"A", b"B"]


@ensure
async def test_multi_get_is_all_or_nothing_naming_the_last_missing_key(
    client: Any, keys: Keys
) -> None:
    await _seed(client, keys, "ab")
    with pytest.raises(NotFound) as caught:
        await client.multi_get([keys("x"), keys("a"), keys("y"), keys("b")])
    assert caught.value.message == keys("y")
    assert await client.get(keys("a")) == b"A"


@ensure
async def test_multi_get_option_gives_none_for_missing_keys(client: Any, keys: Keys) -> None:
    await _seed(client, keys, "ab")
    found = await client.multi_get_option([keys("b"), keys("x"), keys("a")])
    assert found == [b"B", None, b"A"]


@ensure
async def test_multi_get_of_no_keys_is_empty(client: Any) -> None:
    assert await client.multi_get([]) == []
    assert await client.multi_get_option([]) == []


@ensure
async def test_range_honours_bound_inclusivity(client: Any, keys: Keys) -> None:
    await _seed(client, keys)
    b, d = keys("b"), keys("d")
    assert await client.range(b, True, d, True) == [keys(n) for n in "bcd"]
    assert await client.range(b, False, d, True) == [keys(n) for n in "cd"]
    assert await client.range(b, True, d, False) == [keys(n) for n in "bc"]
    assert await client.range(b, False, d, False) == [keys("c")]


@ensure
async def test_range_max_elements_zero_returns_nothing(client: Any, keys: Keys) -> None:
    await _seed(client, keys)
    assert await client.range(keys("a"), True, keys("e"), True, 0) == []


@ensure
async def test_range_max_elements_limits_from_the_lower_bound(client: Any, keys: Keys) -> None:
    await _seed(client, keys)
    assert await client.range(keys("a"), True, keys("e"), True, 2) == [keys("a"), keys("b")]


@pytest.mark.parametrize("negative", [-1, -2, -(2**31)])
@ensure
async def test_any_negative_max_elements_means_all(client: Any, keys: Keys, negative: int) -> None:
    # D22: not only -1.
    await _seed(client, keys)
    everything = [keys(n) for n in "abcde"]
    assert await client.range(keys("a"), True, keys("e"), True, negative) == everything
    assert await client.prefix(keys(), negative) == everything


@ensure
async def test_range_with_an_empty_interval_is_empty(client: Any, keys: Keys) -> None:
    await _seed(client, keys)
    assert await client.range(keys("d"), True, keys("b"), True) == []
    assert await client.range(keys("c"), False, keys("c"), True) == []


@ensure
async def test_range_entries_returns_pairs_ascending(client: Any, keys: Keys) -> None:
    await _seed(client, keys)
    entries = await client.range_entries(keys("b"), True, keys("d"), False)
    assert entries == [(keys("b"), b"B"), (keys("c"), b"C")]
    assert await client.range_entries(keys("a"), True, keys("e"), True, 1) == [(keys("a"), b"A")]


@ensure
async def test_rev_range_entries_runs_from_the_high_bound_down(client: Any, keys: Keys) -> None:
    await _seed(client, keys)
    entries = await client.rev_range_entries(keys("d"), True, keys("b"), False)
    assert entries == [(keys("d"), b"D"), (keys("c"), b"C")]
    top_two = await client.rev_range_entries(keys("e"), True, keys("a"), True, 2)
    assert top_two == [(keys("e"), b"E"), (keys("d"), b"D")]


@ensure
async def test_prefix_lists_matching_keys_ascending_up_to_max_elements(
    client: Any, keys: Keys
) -> None:
    for name in ("p/2", "p/1", "q", "p/3"):
        await client.set(keys(name), b"x")
    assert await client.prefix(keys("p/")) == [keys(f"p/{i}") for i in (1, 2, 3)]
    assert await client.prefix(keys("p/"), 2) == [keys("p/1"), keys("p/2")]
    assert await client.prefix(keys("p/"), 0) == []
    assert await client.prefix(keys("none/")) == []


@ensure
async def test_reads_take_no_guarantees_and_at_least_on_the_master(client: Any, keys: Keys) -> None:
    await client.set(keys("k"), b"v")
    txid = await client.get_txid()
    assert await client.get(keys("k"), allow_dirty=True) == b"v"
    assert await client.get(keys("k"), consistency=NoGuarantees) == b"v"
    assert await client.get(keys("k"), consistency=txid) == b"v"
    assert await client.exists(keys("k"), consistency=txid) is True


@ensure
async def test_at_least_beyond_the_master_is_inconsistent_read_and_keeps_the_connection(
    client: Any, keys: Keys
) -> None:
    with pytest.raises(InconsistentRead) as caught:
        await client.get(keys("k"), consistency=AtLeast(2**62))
    assert caught.value.message == b"store not fresh enough"
    assert await client.exists(keys("k")) is False


# -- the whole key space: only on a fresh in-memory cluster ---------------------------


@pytest.mark.in_memory_only("None bounds cover every key of a shared real cluster")
@pytest_twisted.ensureDeferred
async def test_none_bounds_cover_the_first_and_last_keys(in_memory: Any) -> None:
    cluster = in_memory.start()
    cluster.seed({"a": "1", "b": "2", "c": "3"})
    client = await in_memory.connect(cluster)
    assert await client.range(None, True, None, True) == [b"a", b"b", b"c"]
    assert await client.range(None, True, b"b", False) == [b"a"]
    assert await client.range(b"b", False, None, True) == [b"c"]
    assert await client.rev_range_entries(None, True, b"b", True) == [(b"c", b"3"), (b"b", b"2")]
    assert await client.prefix(b"") == [b"a", b"b", b"c"]
