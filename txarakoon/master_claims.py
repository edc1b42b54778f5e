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

The blocking cluster client drives it; the Twisted one
(:mod:`txarakoon.cluster.discovery`) applies the same rule and the same words.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Generator, Iterable

from .errors import NoMasterError, explain

__all__ = ["Answer", "discover", "order"]

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


def discover(asked: Iterable[str], known: Collection[str]) -> Generator[str, Answer, str]:
    """Yield each node to ask in turn, receive its :data:`Answer`, and return
    the confirmed master; raise :class:`~txarakoon.errors.NoMasterError`
    naming what each node said when none is confirmed.

    :param asked: the nodes to ask, in order (see :func:`order`).
    :param known: the cluster's node names: a claim naming another node is
        not followed.
    """
    causes: list[str] = []
    answered = False
    for name in asked:
        answer = yield name
        if isinstance(answer, BaseException):
            causes.append(f"{name}: {explain(answer)}")
            continue
        answered = True
        if answer is None:
            causes.append(f"{name}: knows no master")
            continue
        if answer == name:
            return name
        if answer not in known:
            causes.append(f"{name}: names unknown node {answer!r}")
            continue
        confirmed = yield answer
        if isinstance(confirmed, BaseException):
            causes.append(f"{answer} (named by {name}): {explain(confirmed)}")
            continue
        if confirmed == answer:
            return answer
        causes.append(f"{name} names {answer}, which names {confirmed}")
    raise NoMasterError("; ".join(causes) or "no node answered", None, answered=answered)
