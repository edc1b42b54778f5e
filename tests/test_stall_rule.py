"""The stalled-master rule, sans-IO: when a client asks the other nodes who is
master while its master keeps silent, and what it makes of their answer."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from txarakoon.stall_rule import (
    RECHECK_AT_MOST,
    Verdict,
    checks,
    default_interval,
    leave_reason,
    question_bound,
    recheck_period,
    until_round,
    verdict,
)

seconds = st.floats(min_value=0.001, max_value=1000.0)

# -- settings ---------------------------------------------------------------------


def test_the_default_interval_is_a_quarter_of_the_lease() -> None:
    assert default_interval(4.0) == 1.0


def test_the_default_interval_is_one_second_without_a_lease() -> None:
    assert default_interval(None) == 1.0


def test_a_cluster_of_several_nodes_with_a_short_interval_is_checked() -> None:
    assert checks(3, 0.25, 30.0)


def test_a_one_node_cluster_is_not_checked() -> None:
    assert not checks(1, 0.25, 30.0)


@pytest.mark.parametrize("interval", [30.0, 45.0, math.inf])
def test_an_interval_no_shorter_than_the_silence_timeout_checks_nothing(interval: float) -> None:
    assert not checks(3, interval, 30.0)


@pytest.mark.parametrize(("interval", "period"), [(0.25, 0.25), (1.0, 1.0), (2.5, 1.0)])
def test_rounds_after_the_first_come_every_second_at_most(interval: float, period: float) -> None:
    assert recheck_period(interval) == period


@pytest.mark.parametrize(
    ("interval", "connect_timeout", "bound"),
    [(0.25, 5.0, 0.25), (2.5, 5.0, 1.0), (0.25, 0.1, 0.1), (math.inf, 5.0, 1.0)],
)
def test_a_question_of_a_round_takes_the_connect_timeout_or_the_recheck_period_if_shorter(
    interval: float, connect_timeout: float, bound: float
) -> None:
    assert question_bound(interval, connect_timeout) == bound


# -- when to ask ---------------------------------------------------------------------


@given(seconds, seconds)
def test_nothing_is_due_while_no_reply_is_owed(silence: float, interval: float) -> None:
    assert until_round(silence, False, interval, None) == math.inf


def test_the_first_round_is_due_after_an_interval_of_silence() -> None:
    assert until_round(1.5, True, 2.5, None) == 1.0
    assert until_round(2.5, True, 2.5, None) <= 0


def test_after_a_round_the_next_is_due_a_recheck_period_later() -> None:
    assert until_round(3.0, True, 2.5, 2.5) == pytest.approx(0.5)
    assert until_round(3.5, True, 2.5, 2.5) <= 0


def test_a_short_interval_is_also_the_period_of_later_rounds() -> None:
    assert until_round(0.3, True, 0.25, 0.25) == pytest.approx(0.2)


def test_a_round_of_an_earlier_silence_is_forgotten() -> None:
    # A byte came since the round at 3.0 s of silence: a whole interval again.
    assert until_round(0.5, True, 2.5, 3.0) == 2.0


@given(seconds, seconds, st.floats(min_value=0.0, max_value=1000.0))
def test_rounds_are_never_further_apart_than_the_recheck_limit(
    interval: float, first: float, extra: float
) -> None:
    last_round = interval + first
    silence = last_round + extra
    assert until_round(silence, True, interval, last_round) <= RECHECK_AT_MOST - extra + 1e-9


# -- the verdict ---------------------------------------------------------------------


def test_another_validated_master_and_no_byte_leave_the_master() -> None:
    assert verdict("n0", "n1", arrived=False, owed=True) is Verdict.LEAVE


def test_no_validated_master_keeps_waiting() -> None:
    assert verdict("n0", None, arrived=False, owed=True) is Verdict.WAIT


def test_the_same_master_named_keeps_waiting() -> None:
    assert verdict("n0", "n0", arrived=False, owed=True) is Verdict.WAIT


def test_a_byte_since_the_round_began_keeps_waiting() -> None:
    assert verdict("n0", "n1", arrived=True, owed=True) is Verdict.WAIT


def test_no_reply_owed_any_more_keeps_the_connection() -> None:
    assert verdict("n0", "n1", arrived=False, owed=False) is Verdict.WAIT


def test_the_reason_names_the_silence_the_replies_owed_and_the_new_master() -> None:
    assert leave_reason("n0", "n1", 2.0114, 1) == (
        "no byte from n0 for 2.011 s with 1 reply owed, and n1 is master now"
    )
    assert "with 3 replies owed" in leave_reason("n0", "n1", 2.0, 3)
