"""Sequences through both client flavours: atomicity, the failure codes of
PROTOCOL.md §7.1, and the observed behaviours D19, D20, D21 and D23."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted

from txarakoon.errors import AssertionFailed, NotFound
from txarakoon.messages import MAX_VALUE_SIZE
from txarakoon.sequence import (
    Assert,
    AssertExists,
    AssertRange,
    Delete,
    DeletePrefix,
    Replace,
    Sequence,
    Set,
)

from .support import Keys

ensure = pytest_twisted.ensureDeferred


@pytest.mark.parametrize("sync", [False, True], ids=["sequence", "synced_sequence"])
@ensure
async def test_a_sequence_applies_every_step_in_order(client: Any, keys: Keys, sync: bool) -> None:
    await client.set(keys("gone"), b"x")
    await client.set(keys("old"), b"1")
    steps = [
        Set(keys("a"), b"1"),
        Set(keys("a"), b"2"),
        Delete(keys("gone")),
        Replace(keys("old"), b"new"),
        Assert(keys("a"), b"2"),
        AssertExists(keys("old")),
    ]
    assert await client.sequence(steps, sync=sync) is None
    assert await client.multi_get_option([keys("a"), keys("gone"), keys("old")]) == [
        b"2",
        None,
        b"new",
    ]


@ensure
async def test_an_empty_sequence_succeeds(client: Any) -> None:
    assert await client.sequence([]) is None


@ensure
async def test_nested_sequences_run_as_one(client: Any, keys: Keys) -> None:
    await client.sequence([Set(keys("a"), b"1"), Sequence([Set(keys("b"), b"2")])])
    assert await client.multi_get([keys("a"), keys("b")]) == [b"1", b"2"]


@pytest.mark.parametrize("sync", [False, True], ids=["sequence", "synced_sequence"])
@ensure
async def test_a_failing_delete_step_is_not_found_and_undoes_the_point_writes(
    client: Any, keys: Keys, sync: bool
) -> None:
    await client.set(keys("kept"), b"1")
    steps = [Set(keys("new"), b"x"), Replace(keys("kept"), b"2"), Delete(keys("missing"))]
    with pytest.raises(NotFound) as caught:
        await client.sequence(steps, sync=sync)
    assert caught.value.message == keys("missing")
    assert await client.multi_get_option([keys("new"), keys("kept")]) == [None, b"1"]
    assert client.connected


@pytest.mark.parametrize(
    "assertion",
    [
        lambda keys: Assert(keys("k"), b"other"),
        lambda keys: Assert(keys("missing"), b"v"),
        lambda keys: AssertExists(keys("missing")),
    ],
    ids=["assert_value", "assert_missing", "assert_exists"],
)
@ensure
async def test_a_failing_assert_step_is_assertion_failed_naming_the_key(
    client: Any, keys: Keys, assertion: Any
) -> None:
    await client.set(keys("k"), b"v")
    step = assertion(keys)
    with pytest.raises(AssertionFailed) as caught:
        await client.sequence([Set(keys("k"), b"changed"), Set(keys("new"), b"x"), step])
    assert caught.value.message == step.key
    assert await client.multi_get_option([keys("k"), keys("new")]) == [b"v", None]


@ensure
async def test_assert_range_succeeds_on_exactly_the_keys_under_the_prefix(
    client: Any, keys: Keys
) -> None:
    for name in ("p/b", "p/a", "q"):
        await client.set(keys(name), b"x")
    # Any order: the client sends them descending, as the server needs (§7.3).
    await client.sequence([AssertRange(keys("p/"), [keys("p/a"), keys("p/b")])])
    await client.sequence([AssertRange(keys("p/"), [keys("p/b"), keys("p/a")])])
    await client.sequence([AssertRange(keys("none/"), [])])


@ensure
async def test_a_failing_assert_range_describes_expected_and_actual_keys(
    client: Any, keys: Keys
) -> None:
    # D23.
    await client.set(keys("p/a"), b"x")
    await client.set(keys("p/c"), b"x")
    with pytest.raises(AssertionFailed) as caught:
        await client.sequence([AssertRange(keys("p/"), [keys("p/b"), keys("p/a")])])
    expected = b"; ".join([keys("p/a"), keys("p/b")])
    actual = b",".join([keys("p/a"), keys("p/c")])
    assert caught.value.message == b'ContainsExactly [ "' + expected + b'" ] actual: ' + actual


@ensure
async def test_a_failing_assert_range_with_no_match_ends_its_message_with_actual(
    client: Any, keys: Keys
) -> None:
    with pytest.raises(AssertionFailed) as caught:
        await client.sequence([AssertRange(keys("p/"), [keys("p/a")])])
    assert caught.value.message.endswith(b"] actual: ")


@ensure
async def test_a_failing_sequence_keeps_the_deletions_of_an_earlier_delete_prefix(
    client: Any, keys: Keys
) -> None:
    # D19: the DeletePrefix step is not undone; the point writes are.
    await client.set(keys("p/1"), b"x")
    await client.set(keys("p/2"), b"x")
    with pytest.raises(NotFound):
        await client.sequence(
            [DeletePrefix(keys("p/")), Set(keys("p/new"), b"x"), Delete(keys("missing"))]
        )
    assert await client.prefix(keys("p/")) == []


@ensure
async def test_delete_prefix_in_a_sequence_does_not_see_keys_set_by_earlier_steps(
    client: Any, keys: Keys
) -> None:
    # D20.
    await client.set(keys("p/old"), b"x")
    await client.sequence([Set(keys("p/new"), b"x"), DeletePrefix(keys("p/"))])
    assert await client.prefix(keys("p/")) == [keys("p/new")]


@ensure
async def test_assert_range_in_a_sequence_does_not_see_keys_set_by_earlier_steps(
    client: Any, keys: Keys
) -> None:
    # D20.
    await client.sequence([Set(keys("p/new"), b"x"), AssertRange(keys("p/"), [])])
    with pytest.raises(AssertionFailed):
        await client.sequence([Set(keys("p/other"), b"x"), AssertRange(keys("p/"), [])])


@ensure
async def test_point_steps_see_writes_of_earlier_steps(client: Any, keys: Keys) -> None:
    # D20: Delete, Assert and AssertExists do see them.
    await client.sequence(
        [
            Set(keys("k"), b"v"),
            AssertExists(keys("k")),
            Assert(keys("k"), b"v"),
            Delete(keys("k")),
            Assert(keys("k"), None),
        ]
    )
    assert await client.exists(keys("k")) is False


@ensure
async def test_a_sequence_set_of_exactly_eight_mib_is_accepted(client: Any, keys: Keys) -> None:
    # D21: the value limit of `set` does not apply to sequence steps.
    value = b"s" * MAX_VALUE_SIZE
    await client.sequence([Set(keys("big"), value)])
    assert await client.get(keys("big")) == value
    with pytest.raises(ValueError):
        client.set(keys("big2"), value)
