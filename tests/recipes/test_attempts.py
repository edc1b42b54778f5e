"""The sans-IO core of the safe update (txarakoon.recipes.attempts): which
request follows which outcome, driven by hand with plain values."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from txarakoon.errors import (
    AssertionFailed,
    BadInput,
    NoMasterError,
    OutcomeUnknown,
    RequestTimeout,
)
from txarakoon.recipes import counter_value
from txarakoon.recipes.attempts import (
    Clean,
    Done,
    Pause,
    Read,
    UpdateOutcomeUnknown,
    Write,
)
from txarakoon.sequence import Assert, Delete, Set

from .driving import KEY, Driver, add_one, marker, unknown


def test_an_update_reads_the_key_on_the_master_first() -> None:
    driver = Driver(add_one)
    assert isinstance(driver.request, Read)
    assert driver.request.keys == (KEY,)


def test_an_attempt_asserts_what_it_read_and_writes_its_marker_with_the_change() -> None:
    driver = Driver(add_one)
    write = driver.answer([b"41"])
    assert isinstance(write, Write)
    assert write.steps == (Assert(KEY, b"41"), Set(KEY, b"42"), Set(marker(1), KEY))
    assert write.marker == marker(1)


def test_an_applied_attempt_removes_its_marker_and_returns_its_value() -> None:
    driver = Driver(add_one)
    driver.answer([b"41"])
    clean = driver.answer(None)
    assert isinstance(clean, Clean)
    assert clean.markers == (marker(1),)
    assert driver.answer(None) is None
    assert driver.done == Done(b"42")


def test_a_conflict_waits_then_reads_again_with_a_new_marker() -> None:
    driver = Driver(add_one)
    driver.answer([b"1"])
    pause = driver.answer(AssertionFailed(KEY))
    assert isinstance(pause, Pause)
    assert pause.seconds == pytest.approx(0.1)
    read = driver.answer(None)
    assert isinstance(read, Read) and read.keys == (KEY,)
    write = driver.answer([b"5"])
    assert isinstance(write, Write)
    assert write.steps == (Assert(KEY, b"5"), Set(KEY, b"6"), Set(marker(2), KEY))


def test_an_unknown_outcome_then_its_marker_present_is_applied_without_rerunning_fn() -> None:
    calls: list[bytes | None] = []

    def counting(old: bytes | None) -> bytes:
        calls.append(old)
        return add_one(old)

    driver = Driver(counting)
    driver.answer([b"7"])
    read = driver.answer(unknown())
    assert isinstance(read, Read)
    assert read.keys == (KEY, marker(1))
    clean = driver.answer([b"8", KEY])
    assert isinstance(clean, Clean) and clean.markers == (marker(1),)
    driver.answer(None)
    assert driver.done == Done(b"8")
    assert calls == [b"7"]


def test_unknown_then_absent_then_conflict_then_present_returns_the_first_attempts_value() -> None:
    driver = Driver(add_one)
    driver.answer([b"7"])  # attempt 1 writes 8 ...
    driver.answer(unknown())  # ... and the master is lost
    write = driver.answer([b"7", None])  # its marker is absent: not decided yet
    assert isinstance(write, Write)
    assert write.steps == (
        Assert(marker(1), None),
        Assert(KEY, b"7"),
        Set(KEY, b"8"),
        Set(marker(2), KEY),
    )
    # Attempt 1 committed meanwhile: attempt 2's assertion fails.
    assert isinstance(driver.answer(AssertionFailed(KEY)), Pause)
    read = driver.answer(None)
    assert isinstance(read, Read) and read.keys == (KEY, marker(1))
    clean = driver.answer([b"8", KEY])
    assert isinstance(clean, Clean) and clean.markers == (marker(1),)
    driver.answer(None)
    assert driver.done == Done(b"8")


def test_an_attempt_after_an_unresolved_one_removes_both_markers() -> None:
    driver = Driver(add_one)
    driver.answer([b"7"])
    driver.answer(unknown())
    driver.answer([b"7", None])  # attempt 1 was not applied (yet)
    clean = driver.answer(None)  # attempt 2 applied: attempt 1 is decided
    assert isinstance(clean, Clean)
    assert clean.markers == (marker(1), marker(2))
    driver.answer(None)
    assert driver.done == Done(b"8")


def test_the_deadline_with_an_unresolved_attempt_raises_outcome_unknown_naming_its_marker() -> None:
    driver = Driver(add_one, timeout=10.0)
    driver.answer([b"7"])
    driver.answer(unknown())
    driver.clock.now = 10.0
    with pytest.raises(UpdateOutcomeUnknown) as raised:
        driver.answer([b"7", None])
    assert isinstance(raised.value, OutcomeUnknown)
    assert raised.value.markers == (marker(1),)


def test_the_deadline_after_conflicts_only_raises_the_last_conflict() -> None:
    driver = Driver(add_one, timeout=0.15)
    driver.answer([b"1"])
    conflict = AssertionFailed(KEY)
    assert isinstance(driver.answer(conflict), Pause)  # 0.05 s: the last one
    driver.answer(None)
    driver.answer([b"2"])
    with pytest.raises(AssertionFailed) as raised:
        driver.answer(AssertionFailed(KEY))
    assert not isinstance(raised.value, OutcomeUnknown)


def test_a_failed_read_after_an_unknown_outcome_is_outcome_unknown() -> None:
    driver = Driver(add_one)
    driver.answer([b"7"])
    driver.answer(unknown())
    no_master = NoMasterError("election")
    with pytest.raises(UpdateOutcomeUnknown) as raised:
        driver.answer(no_master)
    assert raised.value.reason is no_master


def test_a_failed_read_before_any_write_is_raised_as_it_is() -> None:
    driver = Driver(add_one)
    timeout = RequestTimeout("slow", "multi_get_option", applied=False)
    with pytest.raises(RequestTimeout) as raised:
        driver.answer(timeout)
    assert raised.value is timeout


def test_an_error_that_proves_nothing_was_written_is_raised_as_it_is() -> None:
    driver = Driver(add_one)
    driver.answer([b"7"])
    too_big = BadInput(b"too large")
    with pytest.raises(BadInput):
        driver.answer(too_big)


def test_fn_returning_none_deletes_the_key() -> None:
    driver = Driver(lambda old: None)
    write = driver.answer([b"old"])
    assert isinstance(write, Write)
    assert write.steps == (Assert(KEY, b"old"), Delete(KEY), Set(marker(1), KEY))
    driver.answer(None)
    driver.answer(None)
    assert driver.done == Done(None)


def test_fn_returning_none_for_an_absent_key_writes_nothing() -> None:
    driver = Driver(lambda old: None)
    assert driver.answer([None]) is None
    assert driver.done == Done(None)


def test_fn_creating_an_absent_key_asserts_its_absence() -> None:
    driver = Driver(add_one)
    write = driver.answer([None])
    assert isinstance(write, Write)
    assert write.steps == (Assert(KEY, None), Set(KEY, b"1"), Set(marker(1), KEY))


def test_fn_returning_none_for_an_absent_key_after_an_unknown_outcome_still_writes() -> None:
    # A write decides the earlier attempt, whose marker is then removed.
    driver = Driver(lambda old: None)
    driver.answer([b"x"])
    driver.answer(unknown())
    write = driver.answer([None, None])
    assert isinstance(write, Write)
    assert write.steps == (Assert(marker(1), None), Assert(KEY, None), Set(marker(2), KEY))


def test_fn_returning_what_is_no_value_raises_type_error_before_writing() -> None:
    driver = Driver(lambda old: 42)  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError):
        driver.answer([None])


@pytest.mark.parametrize(("value", "kind"), [(42, "int"), ([b"x"], "list")])
def test_fn_returning_what_is_no_value_is_named_in_the_type_error(value: Any, kind: str) -> None:
    driver = Driver(lambda old: value)
    with pytest.raises(TypeError) as raised:
        driver.answer([None])
    assert str(raised.value) == (
        f"fn returned {kind}; it must return bytes, str or None "
        "(and be a plain, synchronous function)"
    )


def test_fn_returning_a_coroutine_is_a_type_error_and_the_coroutine_is_closed() -> None:
    async def upper(old: bytes | None) -> bytes:
        return (old or b"").upper()

    returned = upper(None)
    driver = Driver(lambda old: returned)  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match=r"fn returned coroutine; .* synchronous function"):
        driver.answer([None])
    assert inspect.getcoroutinestate(returned) == inspect.CORO_CLOSED


def test_fn_returning_no_value_after_an_unknown_outcome_is_outcome_unknown_caused_by_it() -> None:
    results = iter([b"x", 42])
    driver = Driver(lambda old: next(results))  # type: ignore[arg-type, return-value]
    driver.answer([b"7"])
    driver.answer(unknown())
    with pytest.raises(UpdateOutcomeUnknown) as raised:
        driver.answer([b"8", None])
    assert isinstance(raised.value.__cause__, TypeError)
    assert raised.value.markers == (marker(1),)


def test_markers_that_cannot_be_removed_are_reported_with_the_value() -> None:
    driver = Driver(add_one, timeout=1.0)
    driver.answer([b"1"])
    driver.answer(None)
    driver.clock.now = 2.0
    assert driver.answer(unknown()) is None
    assert driver.done == Done(b"2", (marker(1),))


def test_an_unknown_removal_is_sent_again_before_the_deadline() -> None:
    driver = Driver(add_one)
    driver.answer([b"1"])
    driver.answer(None)
    again = driver.answer(unknown())
    assert isinstance(again, Clean) and again.markers == (marker(1),)


@pytest.mark.parametrize("text", [b"", b"x", b"1.5", b" 1", b"1_000", b"+1", b"\xd9\xa3"])
def test_a_counter_that_is_not_decimal_text_is_a_value_error(text: bytes) -> None:
    with pytest.raises(ValueError, match="decimal ASCII"):
        counter_value(text)


@pytest.mark.parametrize(("text", "value"), [(None, 0), (b"0", 0), (b"42", 42), (b"-3", -3)])
def test_a_counter_is_decimal_text_and_absent_is_zero(text: bytes | None, value: int) -> None:
    assert counter_value(text) == value


def test_an_increment_of_text_that_is_no_counter_raises_before_writing() -> None:
    driver = Driver(add_one)
    with pytest.raises(ValueError, match="decimal ASCII"):
        driver.answer([b"seven"])


def test_fn_failing_after_an_unknown_outcome_is_outcome_unknown_caused_by_it() -> None:
    seen: list[bytes | None] = []

    def fails_the_second_time(old: bytes | None) -> bytes:
        seen.append(old)
        if len(seen) > 1:
            raise ValueError("no")
        return b"x"

    driver = Driver(fails_the_second_time)
    driver.answer([b"7"])
    driver.answer(unknown())
    with pytest.raises(UpdateOutcomeUnknown) as raised:
        driver.answer([b"8", None])
    assert isinstance(raised.value.__cause__, ValueError)
    assert raised.value.markers == (marker(1),)


def test_an_attempt_after_unknown_outcomes_asserts_each_earlier_marker_absent() -> None:
    driver = Driver(add_one)
    driver.answer([b"7"])
    driver.answer(unknown())
    driver.answer([b"7", None])
    driver.answer(unknown())
    write = driver.answer([b"7", None, None])
    assert isinstance(write, Write)
    assert write.steps == (
        Assert(marker(1), None),
        Assert(marker(2), None),
        Assert(KEY, b"7"),
        Set(KEY, b"8"),
        Set(marker(3), KEY),
    )


def test_a_conflict_on_an_earlier_marker_reads_it_again_and_returns_its_value() -> None:
    driver = Driver(add_one)
    driver.answer([b"7"])
    driver.answer(unknown())
    driver.answer([b"7", None])
    # Attempt 1 committed late; another writer set the key back to 7.
    driver.answer(AssertionFailed(marker(1)))
    read = driver.answer(None)
    assert isinstance(read, Read) and read.keys == (KEY, marker(1))
    driver.answer([b"7", KEY])
    driver.answer(None)
    assert driver.done == Done(b"8")


def test_fn_returning_the_value_it_read_writes_nothing() -> None:
    driver = Driver(lambda old: old)
    assert driver.answer([b"same"]) is None
    assert driver.done == Done(b"same")


def test_fn_returning_the_value_it_read_after_an_unknown_outcome_still_writes() -> None:
    # Only a write decides the earlier attempt.
    driver = Driver(lambda old: b"same")
    driver.answer([b"other"])
    driver.answer(unknown())
    write = driver.answer([b"same", None])
    assert isinstance(write, Write)
    assert write.steps == (
        Assert(marker(1), None),
        Assert(KEY, b"same"),
        Set(KEY, b"same"),
        Set(marker(2), KEY),
    )


def test_the_deadline_with_an_unresolved_attempt_keeps_the_last_error_as_the_reason() -> None:
    driver = Driver(add_one, timeout=10.0)
    driver.answer([b"7"])
    lost = unknown()
    driver.answer(lost)
    driver.clock.now = 10.0
    with pytest.raises(UpdateOutcomeUnknown) as raised:
        driver.answer([b"7", None])
    assert raised.value.reason is lost


def test_update_outcome_unknown_says_the_update_was_retried_and_names_what_to_read() -> None:
    error = UpdateOutcomeUnknown(unknown(), "update(b'counter')", (marker(1), marker(2)))
    assert str(error) == (
        "update(b'counter') was applied once or not at all, and which is unknown (an "
        "update retries, but is never applied twice); the last attempt's error: "
        "the connection was lost after it was sent (killed). Read its markers "
        "b'txarakoon/recipes/markers/m1', b'txarakoon/recipes/markers/m2': one present "
        "means its attempt was applied; absent means not applied only once nothing of "
        "the update can still be pending (a new master has written since, or the master "
        "that received it has long drained its queue). Only then remove them with "
        "replace(marker, None): removed earlier, a late commit would set one again"
    )


def test_update_outcome_unknown_names_its_reason_as_the_last_attempts_error_not_its_verdict() -> (
    None
):
    # The reason's own verdict (its request not sent, safe to retry) is not the update's.
    reason = RequestTimeout("no answer", "multi_get_option", applied=False)
    error = UpdateOutcomeUnknown(reason, "update(b'counter')", (marker(1),))
    assert "the last attempt's error: no answer." in str(error)
    assert "safe to retry" not in str(error)
