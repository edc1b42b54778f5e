"""Read consistency values (:mod:`txarakoon.consistency`) and how a read's
``allow_dirty`` / ``consistency`` arguments resolve to one."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

import txarakoon
from txarakoon.codec import CONSISTENCY
from txarakoon.consistency import (
    NOT_GIVEN,
    AtLeast,
    Consistency,
    Consistent,
    NoGuarantees,
    resolve,
)


def test_the_three_kinds_are_consistency_values() -> None:
    for value in (Consistent, NoGuarantees, AtLeast(3)):
        assert isinstance(value, Consistency)


def test_tags_match_the_wire() -> None:
    assert (Consistent.TAG, NoGuarantees.TAG, AtLeast.TAG) == (0, 1, 2)


def test_reprs() -> None:
    assert repr(Consistent) == "Consistent"
    assert repr(NoGuarantees) == "NoGuarantees"
    assert repr(AtLeast(42)) == "AtLeast(42)"
    assert repr(NOT_GIVEN) == "NOT_GIVEN"


@pytest.mark.parametrize("value", [Consistent, NoGuarantees], ids=repr)
def test_singletons_survive_pickling_and_copying(value: Consistency) -> None:
    assert pickle.loads(pickle.dumps(value)) is value
    assert copy.copy(value) is value
    assert copy.deepcopy(value) is value


def test_at_least_pickles_by_value() -> None:
    assert pickle.loads(pickle.dumps(AtLeast(2**40))) == AtLeast(2**40)


def test_equality() -> None:
    assert AtLeast(5) == AtLeast(5)
    assert AtLeast(5) != AtLeast(6)
    assert hash(AtLeast(5)) == hash(AtLeast(5))
    assert Consistent != NoGuarantees
    assert AtLeast(0) != Consistent
    assert len({AtLeast(1), AtLeast(1), Consistent, NoGuarantees}) == 3


def test_at_least_is_immutable() -> None:
    value = AtLeast(1)
    with pytest.raises(AttributeError):
        value.i = 2  # type: ignore[misc]
    assert value.i == 1


@pytest.mark.parametrize("i", [0, 1, 2**63 - 1])
def test_at_least_accepts_the_int64_range_from_zero(i: int) -> None:
    assert AtLeast(i).i == i


@pytest.mark.parametrize("i", [-1, 2**63])
def test_at_least_out_of_range_is_a_value_error(i: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        AtLeast(i)


@pytest.mark.parametrize("i", [True, 1.0, "1", None])
def test_at_least_of_a_non_int_is_a_type_error(i: Any) -> None:
    with pytest.raises(TypeError, match="AtLeast needs an int"):
        AtLeast(i)


def test_resolve_defaults_to_consistent() -> None:
    assert resolve() is Consistent
    assert resolve(NOT_GIVEN, None) is Consistent


def test_resolve_maps_the_seed_allow_dirty_flag() -> None:
    assert resolve(False) is Consistent
    assert resolve(True) is NoGuarantees


@pytest.mark.parametrize("value", [Consistent, NoGuarantees, AtLeast(9)], ids=repr)
def test_resolve_returns_the_given_consistency(value: Consistency) -> None:
    assert resolve(consistency=value) is value


@pytest.mark.parametrize("allow_dirty", [False, True])
def test_resolve_refuses_both_arguments(allow_dirty: bool) -> None:
    with pytest.raises(TypeError, match="not both"):
        resolve(allow_dirty, Consistent)


@pytest.mark.parametrize("allow_dirty", [1, 0, None, "yes"])
def test_resolve_refuses_an_allow_dirty_that_is_not_a_bool(allow_dirty: Any) -> None:
    with pytest.raises(TypeError, match="allow_dirty must be a bool"):
        resolve(allow_dirty)


@pytest.mark.parametrize("consistency", [True, 0, "Consistent", AtLeast], ids=repr)
def test_resolve_refuses_a_consistency_of_another_type(consistency: Any) -> None:
    with pytest.raises(TypeError, match="consistency must be"):
        resolve(consistency=consistency)


def test_resolved_values_are_accepted_by_the_codec() -> None:
    for allow_dirty in (NOT_GIVEN, False, True):
        assert CONSISTENCY.check(resolve(allow_dirty)) is resolve(allow_dirty)


def test_names_are_exported_at_the_top_level() -> None:
    assert txarakoon.Consistent is Consistent
    assert txarakoon.NoGuarantees is NoGuarantees
    assert txarakoon.AtLeast is AtLeast
    assert txarakoon.Consistency is Consistency
