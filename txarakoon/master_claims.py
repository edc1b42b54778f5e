"""Which node is master: the questions a discovery asks, and which answers
it accepts. Sans-IO, like :mod:`txarakoon.retry`: no sockets, no Twisted.

Arakoon has no redirects: a client asks ``who_master``, and a node names the
master it believes in, or none. A claim is accepted only once the named node
names *itself* (a node that lost its lease, or a partitioned one, may name a
master that no longer is). :func:`discover` is that rule as a generator, to be
driven by a client's I/O::

    plan = discover(order(names, rng, hint), names)
    node = next(plan)                 # ask node who_master ...
    node = plan.send(answer)          # ... its answer: a name, None, or the error
    ...                               # until StopIteration(master) or NoMasterError

Both cluster clients drive it: the blocking one with :func:`drive` (its
discoveries and its stall check's rounds), and the Twisted one
(:mod:`txarakoon.cluster.discovery`) from a coroutine.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Generator, Iterable

from .errors import explain
from .retry import NodeOutcome, Symptom, after_round

__all__ = ["Answer", "discover", "drive", "order"]

#: What asking one node gave: the name it answered, ``None`` (it knows no
#: master), or the error of asking.
Answer = str | None | BaseException


def order(names: Iterable[str], rng: random.Random, hint: str | None = None) -> list[str]:
    """The nodes to ask, in random order (so that clients spread their
    questions), ``hint`` (a ``NotMaster`` reply's master) first."""
    shuffled = list(names)
    rng.shuffle(shuffled)
    if hint in shuffled:
        shuffled.remove(hint)
        shuffled.insert(0, hint)
    return shuffled


def discover(
    asked: Iterable[str],
    known: Collection[str],
    symptom_of: Callable[[str, BaseException], Symptom] = lambda name, error: Symptom.TRANSIENT,
    cluster_id: str | None = None,
) -> Generator[str, Answer, str]:
    """Yield each node to ask in turn, receive its :data:`Answer`, and return
    the confirmed master; when none is confirmed, raise the round's error
    (:func:`txarakoon.retry.after_round`: a
    :class:`~txarakoon.errors.MisconfiguredCluster` when every node failed in
    a way retrying cannot fix, else a :class:`~txarakoon.errors.NoMasterError`),
    naming what each node said.

    :param asked: the nodes to ask, in order (see :func:`order`).
    :param known: the cluster's node names: a claim naming another node is
        not followed.
    :param symptom_of: what the error of asking a node says of the
        configuration (the client's I/O side knows its exceptions).
    :param cluster_id: the client's, for the error's message.
    """
    outcomes: list[NodeOutcome] = []
    for name in asked:
        answer = yield name
        if isinstance(answer, BaseException):
            symptom = symptom_of(name, answer)
            cause = explain(answer)
            if symptom is Symptom.CLOSED_AFTER_PROLOGUE:
                # Not "lost after it was sent": what was sent first is the
                # prologue, and the node closed without a word.
                cause = "the node closed the connection after the prologue, without answering"
            outcomes.append(NodeOutcome(name, cause, symptom))
            continue
        if answer is None:
            outcomes.append(NodeOutcome(name, "knows no master", answered=True))
            continue
        if answer == name:
            return name
        if answer not in known:
            unknown = f"names unknown node {answer!r}"
            outcomes.append(NodeOutcome(name, unknown, Symptom.UNKNOWN_MASTER, answered=True))
            continue
        confirmed = yield answer
        if isinstance(confirmed, BaseException):
            cause = f"named by {name}, {explain(confirmed)}"
            outcomes.append(NodeOutcome(answer, cause, answered=True))
            continue
        if confirmed == answer:
            return answer
        outcomes.append(
            NodeOutcome(name, f"names {answer}, which names {confirmed}", answered=True)
        )
    raise after_round(outcomes, cluster_id)


def drive(plan: Generator[str, Answer, str], ask: Callable[[str], Answer]) -> str:
    """Run ``plan`` (a :func:`discover`) to its end with a blocking ``ask``,
    which answers for each node it names; the master it returns (or its
    error)."""
    try:
        name = next(plan)
        while True:
            name = plan.send(ask(name))
    except StopIteration as done:
        master: str = done.value
        return master
