"""The stalled-master rule, sans-IO: when a cluster client asks the other
nodes who is master while its master keeps silent, and what it makes of
their answer. Like :mod:`txarakoon.retry`, it takes and returns plain values
(seconds as floats, node names as strings); the client does the asking, the
timing and the leaving.

A master may stop answering without closing its connections (a paused
process, a VM pause, a partition without resets). Silence alone proves
nothing (a slow reply, a long range, a client cut off from a healthy master
are silent too), so the rule acts on evidence:

* :func:`checks`: a client checks only with other nodes to ask, and with a
  ``stall_interval`` shorter than its ``silence_timeout`` (a longer one would
  never come first; ``math.inf`` turns the check off).
* :func:`default_interval`: ``stall_interval`` is a quarter of the cluster's
  lease when the configuration gives it, else 1 s.
* :func:`until_round`: once the master's connection has received no byte for
  ``stall_interval`` while a reply is owed, a round of ``who_master``
  questions to the other nodes is due; after a round that did not decide,
  another one every :func:`recheck_period` of further silence (so a new master
  is found within a second of its election, whatever the lease). A byte
  starts a new silence, which waits a whole ``stall_interval`` again. One
  round at a time: the client starts a due round only once the last is over.
* :func:`question_bound`: each question of a round is given at most
  ``connect_timeout``, or the recheck period if shorter, and a round ends
  as soon as the master's reply starts to arrive: a question to a frozen
  node must not hold up a reply that a healthy master has sent.
* :func:`verdict`: the client leaves the master's connection only when the
  round validated a *different* master (it names itself), no byte arrived on
  that connection since the round began, and a reply is still owed on it.
  Otherwise it keeps waiting, under its ``silence_timeout`` and deadlines.
* :func:`leave_reason`: what the lost connection says, for the errors of the
  calls it fails (a write already written: ``OutcomeUnknown``, by
  :mod:`txarakoon.retry`).

Both cluster clients follow it: the Twisted one on its connections' silence
timers (:mod:`txarakoon.cluster.stalls`), the blocking one
(:mod:`txarakoon.blocking_cluster.stalls`) between the timed slices of its reads.
"""

from __future__ import annotations

import enum
import math
from typing import Final

__all__ = [
    "RECHECK_AT_MOST",
    "Verdict",
    "checks",
    "default_interval",
    "leave_reason",
    "question_bound",
    "recheck_period",
    "until_round",
    "verdict",
]

#: The longest wait between two rounds once a stall is suspected: the new
#: master is then found within a second of its election, which leaves a
#: second of the 2 s goal for the backoff and the retry.
RECHECK_AT_MOST: Final = 1.0

#: ``stall_interval`` without a lease to derive it from.
DEFAULT_INTERVAL: Final = 1.0


class Verdict(enum.Enum):
    """What a round of questions concludes."""

    #: Keep waiting for the master's reply.
    WAIT = "wait"
    #: Leave the master's connection: another master is in charge.
    LEAVE = "leave"


def default_interval(lease_period: float | None) -> float:
    """``stall_interval`` when none is given: a quarter of ``lease_period``
    (the ``.ini``'s, in seconds), or :data:`DEFAULT_INTERVAL` without one (a
    client cannot otherwise know the lease)."""
    return DEFAULT_INTERVAL if lease_period is None else lease_period / 4


def checks(nodes: int, interval: float, silence_timeout: float) -> bool:
    """Whether a client of a cluster of ``nodes`` nodes checks for a stalled
    master at all: with one node nobody could be asked, and an interval as
    long as the silence timeout would never come first."""
    return nodes > 1 and interval < silence_timeout


def recheck_period(interval: float) -> float:
    """The silence between two rounds after the first: ``interval``, or
    :data:`RECHECK_AT_MOST` if that is shorter."""
    return min(interval, RECHECK_AT_MOST)


def question_bound(interval: float, connect_timeout: float) -> float:
    """How long one ``who_master`` question of a round may take:
    ``connect_timeout``, or :func:`recheck_period` if that is shorter. A
    node that keeps silent (frozen too, or cut off) is then given up on
    before the next round would be due, instead of holding the round, and
    the reply it delays, for a whole ``connect_timeout``."""
    return min(connect_timeout, recheck_period(interval))


def until_round(silence: float, owed: bool, interval: float, last_round: float | None) -> float:
    """How many more seconds of silence before the next round is due: 0 or
    less, due now; ``math.inf`` while no reply is owed.

    :param silence: seconds since the master's connection last received a
        byte, or since a reply became owed if later.
    :param owed: whether a reply is owed on that connection.
    :param interval: ``stall_interval``.
    :param last_round: the ``silence`` at which the last round of this silence
        began; ``None`` before the first. A value beyond ``silence`` is taken
        for a round of an earlier silence.
    """
    if not owed:
        return math.inf
    if last_round is None or last_round > silence:
        return interval - silence
    return max(interval, last_round + recheck_period(interval)) - silence


def verdict(master: str, named: str | None, *, arrived: bool, owed: bool) -> Verdict:
    """What a round concludes about ``master``'s connection.

    :param named: the master the round validated (a node that names itself),
        or ``None`` when none was (no answer, no master yet, a claim its
        node denies).
    :param arrived: whether a byte arrived on the connection since the round
        began (a reply that is arriving is never a stall).
    :param owed: whether a reply is still owed on it.
    """
    if named is None or named == master or arrived or not owed:
        return Verdict.WAIT
    return Verdict.LEAVE


def leave_reason(master: str, named: str, silence: float, owed: int) -> str:
    """Why the client left ``master``'s connection, the text of the lost
    connection's cause: it received nothing for ``silence`` seconds with
    ``owed`` replies owed, and ``named`` is master now."""
    replies = "reply" if owed == 1 else "replies"
    return (
        f"no byte from {master} for {silence:.3f} s with {owed} {replies} owed, "
        f"and {named} is master now"
    )
