"""The blocking client's rounds, as the read of the master's reply sees
them (:class:`~txarakoon.blocking_cluster.stalls.Watch`): a round runs on the
thread that reads the reply, so it must never hold up or throw away a reply
that a healthy master sends. Driven by hand: a clock that the questions
advance, a connection whose readability the test sets, questions answered
from a table."""

from __future__ import annotations

import random

from txarakoon import master_claims
from txarakoon.blocking_cluster.stalls import StallCheck, Watch
from txarakoon.stall_rule import question_bound

NODES = ("n0", "n1", "n2")

#: Long enough that no test is cut short by it.
CONNECT_TIMEOUT = 5.0

INTERVAL = 0.25


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Connection:
    """The master's connection: readable once the test says its reply came."""

    def __init__(self) -> None:
        self.reply_came = False

    def readable(self) -> bool:
        return self.reply_came


class Nodes:
    """The other nodes: each question takes ``cost`` seconds of the clock
    and is answered ``answer``; ``arrives_after`` questions, the master's
    reply arrives."""

    def __init__(
        self,
        clock: Clock,
        connection: Connection,
        *,
        answer: master_claims.Answer = "n0",
        cost: float = 0.01,
        arrives_after: int | None = None,
    ) -> None:
        self.clock = clock
        self.connection = connection
        self.answer = answer
        self.cost = cost
        self.arrives_after = arrives_after
        #: (name, its deadline, when it was asked), for each question.
        self.asked: list[tuple[str, float, float]] = []

    def __call__(self, name: str, deadline: float) -> master_claims.Answer:
        self.asked.append((name, deadline, self.clock.now))
        self.clock.now += self.cost
        if self.arrives_after is not None and len(self.asked) >= self.arrives_after:
            self.connection.reply_came = True
        return self.answer


def watch(
    clock: Clock, nodes: Nodes, *, deadline: float = 30.0, interval: float = INTERVAL
) -> Watch:
    check = StallCheck(NODES, interval, nodes, random.Random(7), CONNECT_TIMEOUT, clock)
    return check.watch("n0", clock.now + deadline)


def test_a_reply_waiting_at_the_silence_limit_is_read_not_given_up() -> None:
    clock, connection = Clock(), Connection()
    patience = watch(clock, Nodes(clock, connection)).patience(connection, 3.0)
    connection.reply_came = True
    assert patience(3.0) is not None


def test_a_silence_at_the_limit_with_nothing_waiting_gives_up() -> None:
    clock, connection = Clock(), Connection()
    patience = watch(clock, Nodes(clock, connection)).patience(connection, 3.0)
    assert patience(3.0) is None


def test_a_round_ends_when_the_masters_reply_arrives_between_two_questions() -> None:
    clock, connection = Clock(), Connection()
    # No node answers: without the reply, the round would ask both.
    nodes = Nodes(clock, connection, answer=None, arrives_after=1)
    patience = watch(clock, nodes).patience(connection, 3.0)
    patience(INTERVAL)
    assert [name for name, _, _ in nodes.asked] in (["n1"], ["n2"])


def test_a_reply_that_arrived_during_a_round_is_read_even_past_the_limit() -> None:
    clock, connection = Clock(), Connection()
    # The question to a silent node takes all it is given, and the silence
    # limit passes meanwhile.
    nodes = Nodes(clock, connection, answer=None, cost=INTERVAL, arrives_after=1)
    patience = watch(clock, nodes).patience(connection, 0.4)
    assert patience(INTERVAL) is not None


def test_a_reply_that_arrived_during_a_round_is_not_left_for_another_master() -> None:
    clock, connection = Clock(), Connection()
    nodes = Nodes(clock, connection, answer="n1", arrives_after=1)
    watched = watch(clock, nodes)
    patience = watched.patience(connection, 3.0)
    assert patience(INTERVAL) is not None
    assert watched.new_master is None


def test_each_question_is_given_at_most_the_question_bound() -> None:
    clock, connection = Clock(), Connection()
    nodes = Nodes(clock, connection, answer=None)
    watch(clock, nodes).patience(connection, 3.0)(INTERVAL)
    assert len(nodes.asked) == 2
    bound = question_bound(INTERVAL, CONNECT_TIMEOUT)
    assert all(deadline - asked <= bound for _, deadline, asked in nodes.asked)


def test_a_round_never_runs_past_the_calls_deadline() -> None:
    clock, connection = Clock(), Connection()
    nodes = Nodes(clock, connection, answer=None)
    watched = watch(clock, nodes, deadline=1.0)
    patience = watched.patience(connection, 1.0)
    # Chunks came in the meantime: 0.9 s of the call are gone, but the
    # silence, which each chunk restarts, is younger.
    clock.now += 0.9
    patience(0.3)
    assert nodes.asked
    assert all(deadline <= watched.deadline for _, deadline, _ in nodes.asked)
