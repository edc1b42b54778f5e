"""Writes and assertions on the master, through both client flavours: set,
delete, test_and_set (D16), replace, confirm, delete_prefix, assert,
assert_exists, and the value size limit."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted

from txarakoon.errors import AssertionFailed, NotFound
from txarakoon.messages import MAX_VALUE_SIZE

from .support import Keys

ensure = pytest_twisted.ensureDeferred


@ensure
async def test_set_binds_and_overwrites(client: Any, keys: Keys) -> None:
    assert await client.set(keys("k"), b"1") is None
    await client.set(keys("k"), b"2")
    assert await client.get(keys("k")) == b"2"


@ensure
async def test_set_accepts_an_empty_value(client: Any, keys: Keys) -> None:
    await client.set(keys("k"), b"")
    assert await client.get(keys("k")) == b""


@ensure
async def test_set_accepts_a_value_one_byte_under_eight_mib(client: Any, keys: Keys) -> None:
    value = b"v" * (MAX_VALUE_SIZE - 1)
    await client.set(keys("big"), value)
    assert await client.get(keys("big")) == value


@ensure
async def test_set_of_eight_mib_is_refused_by_the_client(client: Any, keys: Keys) -> None:
    # The server would answer 0xff and close (D5); the client refuses before sending.
    with pytest.raises(ValueError):
        client.set(keys("big"), b"v" * MAX_VALUE_SIZE)
    assert client.connected
    assert await client.exists(keys("big")) is False


@ensure
async def test_delete_unbinds(client: Any, keys: Keys) -> None:
    await client.set(keys("k"), b"v")
    assert await client.delete(keys("k")) is None
    assert await client.exists(keys("k")) is False


@ensure
async def test_delete_of_a_missing_key_is_not_found_naming_it(client: Any, keys: Keys) -> None:
    with pytest.raises(NotFound) as caught:
        await client.delete(keys("missing"))
    assert caught.value.message == keys("missing")
    assert client.connected
    assert await client.exists(keys("missing")) is False


@ensure
async def test_test_and_set_swaps_when_the_value_matches(client: Any, keys: Keys) -> None:
    await client.set(keys("k"), b"old")
    assert await client.test_and_set(keys("k"), b"old", b"new") == b"old"
    assert await client.get(keys("k")) == b"new"


@ensure
async def test_test_and_set_returns_the_current_value_when_it_differs(
    client: Any, keys: Keys
) -> None:
    await client.set(keys("k"), b"current")
    assert await client.test_and_set(keys("k"), b"expected", b"new") == b"current"
    assert await client.get(keys("k")) == b"current"


@ensure
async def test_test_and_set_of_a_missing_key_with_an_expected_value_returns_none(
    client: Any, keys: Keys
) -> None:
    # D16: no NotFound, and nothing written.
    assert await client.test_and_set(keys("k"), b"expected", b"new") is None
    assert await client.exists(keys("k")) is False


@ensure
async def test_test_and_set_with_none_expected_creates_only_a_missing_key(
    client: Any, keys: Keys
) -> None:
    assert await client.test_and_set(keys("k"), None, b"first") is None
    assert await client.test_and_set(keys("k"), None, b"second") == b"first"
    assert await client.get(keys("k")) == b"first"


@ensure
async def test_test_and_set_with_none_wanted_deletes(client: Any, keys: Keys) -> None:
    await client.set(keys("k"), b"v")
    assert await client.test_and_set(keys("k"), b"v", None) == b"v"
    assert await client.exists(keys("k")) is False


@ensure
async def test_replace_returns_the_previous_value(client: Any, keys: Keys) -> None:
    assert await client.replace(keys("k"), b"1") is None
    assert await client.replace(keys("k"), b"2") == b"1"
    assert await client.get(keys("k")) == b"2"


@ensure
async def test_replace_with_none_deletes(client: Any, keys: Keys) -> None:
    await client.set(keys("k"), b"v")
    assert await client.replace(keys("k"), None) == b"v"
    assert await client.exists(keys("k")) is False
    assert await client.replace(keys("k"), None) is None


@ensure
async def test_confirm_binds_a_new_or_different_value(client: Any, keys: Keys) -> None:
    await client.confirm(keys("k"), b"1")
    assert await client.get(keys("k")) == b"1"
    await client.confirm(keys("k"), b"2")
    assert await client.get(keys("k")) == b"2"


@pytest.mark.in_memory_only("a real node's txid also advances by itself (D24)")
@ensure
async def test_confirm_of_the_same_value_writes_nothing(client: Any, keys: Keys) -> None:
    await client.set(keys("k"), b"v")
    before = await client.get_txid()
    await client.confirm(keys("k"), b"v")
    assert await client.get_txid() == before
    await client.confirm(keys("k"), b"w")
    assert (await client.get_txid()).i == before.i + 1


@ensure
async def test_delete_prefix_returns_how_many_keys_it_deleted(client: Any, keys: Keys) -> None:
    for name in ("p/1", "p/2", "p/3", "q/1"):
        await client.set(keys(name), b"x")
    assert await client.delete_prefix(keys("p/")) == 3
    assert await client.prefix(keys()) == [keys("q/1")]
    assert await client.delete_prefix(keys("p/")) == 0


@ensure
async def test_assert_succeeds_on_the_expected_value_or_absence(client: Any, keys: Keys) -> None:
    await client.set(keys("k"), b"v")
    assert await client.assert_(keys("k"), b"v") is None
    assert await client.assert_(keys("missing"), None) is None


@ensure
async def test_assert_fails_naming_the_key_and_keeps_the_connection(
    client: Any, keys: Keys
) -> None:
    await client.set(keys("k"), b"v")
    for key, expected in ((keys("k"), b"other"), (keys("k"), None), (keys("missing"), b"v")):
        with pytest.raises(AssertionFailed) as caught:
            await client.assert_(key, expected)
        assert caught.value.message == key
    assert client.connected
    assert await client.get(keys("k")) == b"v"


@ensure
async def test_assert_exists_fails_with_assertion_failed_naming_the_key(
    client: Any, keys: Keys
) -> None:
    await client.set(keys("k"), b"v")
    assert await client.assert_exists(keys("k")) is None
    with pytest.raises(AssertionFailed) as caught:
        await client.assert_exists(keys("missing"))
    assert caught.value.code == 0x07
    assert caught.value.message == keys("missing")
    assert client.connected


@ensure
async def test_get_key_count_counts_new_keys(client: Any, keys: Keys) -> None:
    # Other users of a real cluster may write meanwhile; the suite does not.
    before = await client.get_key_count()
    for name in "abc":
        await client.set(keys(name), b"x")
    assert await client.get_key_count() == before + 3
