"""The master discovery's rule, sans-IO: which nodes it asks, in which
order, and which answers it accepts (txarakoon.master_claims)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import pytest

from txarakoon.errors import ConnectionLost, NoMasterError
from txarakoon.master_claims import Answer, discover, order

NODES = ("n0", "n1", "n2")


def run(asked: Sequence[str], answers: Mapping[str, Answer]) -> tuple[str, list[str]]:
    """Drive a discovery with each node's fixed answer: the master, and the
    nodes asked in turn."""
    plan = discover(asked, NODES)
    questions = [next(plan)]
    try:
        while True:
            questions.append(plan.send(answers[questions[-1]]))
    except StopIteration as done:
        return done.value, questions


def test_a_node_naming_itself_is_the_master() -> None:
    assert run(["n1", "n0", "n2"], {"n1": "n1"}) == ("n1", ["n1"])


def test_a_node_naming_another_is_checked_with_that_node() -> None:
    assert run(["n1", "n0"], {"n1": "n0", "n0": "n0"}) == ("n0", ["n1", "n0"])


def test_a_claim_the_named_node_denies_is_not_accepted() -> None:
    answers: dict[str, Answer] = {"n1": "n0", "n0": "n2", "n2": "n2"}
    assert run(["n1", "n2"], answers) == ("n2", ["n1", "n0", "n2"])


def test_no_confirmed_master_is_a_no_master_error_naming_each_answer() -> None:
    answers: dict[str, Answer] = {
        "n0": None,
        "n1": "nX",
        "n2": ConnectionLost("reset", None),
    }
    with pytest.raises(NoMasterError) as raised:
        run(["n0", "n1", "n2"], answers)
    text = str(raised.value)
    assert "n0: knows no master" in text
    assert "n1: names unknown node 'nX'" in text
    assert "n2: the connection was lost" in text


def test_a_named_master_that_cannot_be_asked_is_not_accepted() -> None:
    answers: dict[str, Answer] = {"n1": "n0", "n0": ConnectionRefusedError("refused")}
    with pytest.raises(NoMasterError, match="n0: named by n1, ConnectionRefusedError"):
        run(["n1"], answers)


def test_a_denied_claim_says_who_named_whom() -> None:
    with pytest.raises(NoMasterError, match="n1: names n0, which names n2"):
        run(["n1"], {"n1": "n0", "n0": "n2"})


def test_no_node_to_ask_is_a_no_master_error() -> None:
    with pytest.raises(NoMasterError, match="no node answered"):
        run([], {})


def test_the_order_is_random_with_the_hint_first() -> None:
    rng = random.Random(7)
    orders = {tuple(order(NODES, rng)) for _ in range(50)}
    assert len(orders) > 1
    assert all(sorted(each) == list(NODES) for each in orders)
    assert all(order(NODES, rng, "n2")[0] == "n2" for _ in range(10))


def test_a_hint_that_names_no_node_is_ignored() -> None:
    assert sorted(order(NODES, random.Random(1), "nX")) == list(NODES)
