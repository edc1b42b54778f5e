"""The stall check of a cluster client: a master that stops answering without
closing its connection (a paused process, a VM pause, a partition without
resets) is left as soon as the cluster has elected another one.

Silence alone proves nothing: a slow reply, a long range, a client cut off
from a healthy master are silent too, and leaving the master then would only
turn writes into ``OutcomeUnknown`` for nothing. So the check acts on
evidence. When the master's connection has received no byte for
``stall_interval`` while replies are owed, the other nodes are asked
``who_master`` over their own connections, one round at a time; the stall is
suspected from then on, and they are asked again every second (every
``stall_interval``, if that is shorter) until a byte arrives. Only when a
*different* master is validated (it names itself) and still no byte has
arrived on the old connection is that connection abandoned: the writes written
on it fail with ``OutcomeUnknown`` at that moment, the reads are retried, and
the requests never written go to the new master (:mod:`txarakoon.retry`). While
the others name the same master, or none, the client keeps waiting, and the
connection's ``silence_timeout`` and the calls' deadlines run as before.

The rule's decisions are :mod:`txarakoon.stall_rule`'s, which the blocking
client follows too; this module times and asks.

The bound: the new master is found at the first round after its election, at
most a second later, and the calls follow after a backoff and a round trip:
within 2 s of the election whatever the lease (a quarter of Arakoon's
default 10 s lease is 2.5 s, too long a wait to ask only every
``stall_interval``). The price is the question rate, and only during a
silence: none before ``stall_interval`` (a healthy master's replies rarely
keep it waiting that long), then one question per other node per second.

It costs nothing per call: the check rides on the connection's silence timer
(which exists anyway while replies are owed, and fires one period after the
last byte: :mod:`txarakoon.protocol.silence`), armed with ``stall_interval``
instead of ``silence_timeout`` on the master's connection. Each time it fires, the connection's
:attr:`~txarakoon.protocol.ArakoonProtocol.bytes_received` tells whether the
silence went on since the last time; the silence timeout is reached when the
silent intervals add up to it.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from twisted.internet.defer import CancelledError, Deferred, DeferredList
from twisted.logger import Logger
from twisted.python.failure import Failure

from .. import messages, stall_rule
from ..protocol import SilenceTimeout
from .discovery import Discovery
from .links import NodeProtocol

__all__ = ["StallWatch"]

#: Float sums of intervals may fall a hair short of the silence timeout.
_EPSILON = 1e-9


class _Silence:
    """Since when one connection has been silent, as of its last silent interval."""

    __slots__ = ("mark", "since")

    def __init__(self, mark: int, since: float) -> None:
        self.mark = mark  # its bytes_received then
        self.since = since


class StallWatch:
    """The stall check of one cluster client (the
    :class:`~txarakoon.cluster.links.SilenceHooks` of its connections). It
    asks its questions as ``discovery`` does, each within its
    ``question_timeout``.

    :param interval: ``stall_interval``: the silence after which the others
        are asked.

    :ivar recheck: the period of the rounds after the first, while the
        silence lasts (:func:`txarakoon.stall_rule.recheck_period`).
    """

    log = Logger()

    def __init__(self, discovery: Discovery, interval: float) -> None:
        self._discovery = discovery
        self._clock = discovery.clock
        self._links = discovery.links
        self._question_timeout = discovery.question_timeout
        self.interval = interval
        self.recheck = stall_rule.recheck_period(interval)
        self._silences: WeakKeyDictionary[NodeProtocol, _Silence] = WeakKeyDictionary()
        self._round: Deferred[None] | None = None

    # -- the hooks of the silence timer -------------------------------------------

    def period(self, protocol: NodeProtocol, seconds: float) -> float:
        """The master's connection is timed in steps of the interval."""
        if seconds > self.interval and self._is_master(protocol):
            return self.interval
        return seconds

    def silent(self, protocol: NodeProtocol) -> bool:
        """``protocol`` received nothing for its timer's period while replies
        were owed: go on timing it (and ask the others, if it is the master's),
        unless the silence adds up to its silence timeout."""
        received = protocol.bytes_received
        now = self._clock.seconds()
        silence = self._silences.get(protocol)
        if silence is None or silence.mark != received:
            # The timer fires one period after the last byte (or after the
            # first reply became owed).
            silence = self._silences[protocol] = _Silence(received, now - (protocol.timeOut or 0))
        silent = now - silence.since
        limit = protocol.silence_timeout
        remaining = float("inf") if limit is None else limit - silent
        if remaining <= _EPSILON:
            del self._silences[protocol]
            return False
        if not self._is_master(protocol):
            protocol.setTimeout(remaining)
            return True
        # The timer may have been armed with the shorter period before the
        # last byte came: a new silence waits a whole interval again.
        before_round = self.interval - silent
        if before_round > _EPSILON:
            protocol.setTimeout(min(remaining, before_round))
            return True
        protocol.setTimeout(min(remaining, self.recheck))
        if self._round is None:
            self._start_round(protocol, received, silence.since)
        return True

    def stop(self) -> None:
        """Stop a round under way (the client is being disconnected)."""
        if self._round is not None:
            self._round.cancel()

    # -- internals -----------------------------------------------------------------

    def _is_master(self, protocol: NodeProtocol) -> bool:
        master = self._discovery.master
        return master is not None and self._links[master].protocol is protocol

    def _start_round(self, protocol: NodeProtocol, mark: int, since: float) -> None:
        master = self._discovery.master
        assert master is not None
        asking: Deferred[None] = Deferred.fromCoroutine(self._ask(master, protocol, mark, since))
        if not asking.called:
            self._round = asking
            asking.addBoth(self._round_over)

    def _round_over(self, result: object) -> None:
        self._round = None
        if isinstance(result, Failure) and not isinstance(result.value, CancelledError):
            self.log.failure("The stall check failed", result)

    async def _ask(self, master: str, protocol: NodeProtocol, mark: int, since: float) -> None:
        """One round: ask every other node who is master; leave ``protocol``
        as soon as one names itself, if ``protocol`` still received nothing."""
        named: dict[str, str | None] = {}
        questions = [
            Deferred.fromCoroutine(self._confirms(name, named))
            for name in self._links
            if name != master
        ]
        # The first node to name itself decides: one that does not answer
        # (dead, frozen too) must not hold the round up.
        # (Cancelling the round cancels the list, and so every question.)
        outcome: Any = await DeferredList(questions, fireOnOneCallback=True, consumeErrors=True)
        for question in questions:
            if not question.called:
                question.cancel()
        if not isinstance(outcome, tuple):
            # Every interval of a long wait: not worth more than debug.
            self.log.debug(
                "No byte from master {master} for {silent:.3f} s with {owed} replies owed; "
                "the others name {named}: waiting",
                master=master,
                silent=self._clock.seconds() - since,
                owed=protocol.in_flight,
                named=named,
            )
            return
        new: str = outcome[0]
        verdict = stall_rule.verdict(
            master, new, arrived=protocol.bytes_received != mark, owed=bool(protocol.in_flight)
        )
        if (
            verdict is stall_rule.Verdict.WAIT
            or self._links[master].protocol is not protocol
            or self._discovery.master != master
        ):
            return  # a reply is arriving, or the client has moved on
        silent = self._clock.seconds() - since
        cause = SilenceTimeout(stall_rule.leave_reason(master, new, silent, protocol.in_flight))
        self.log.warn("Leaving stalled master {master}: {cause}", master=master, cause=cause)
        self._discovery.forget(master, cause, hint=new.encode("utf-8"))
        protocol.abandon(cause)

    async def _confirms(self, name: str, named: dict[str, str | None]) -> str:
        """``name``, if it names itself master; records what it names."""
        protocol = await self._links[name].get()
        question = protocol.send(messages.WHO_MASTER())
        question.addTimeout(self._question_timeout, self._clock)
        answer = await question
        named[name] = None if answer is None else answer.decode("utf-8", "replace")
        if named[name] != name:
            raise LookupError(f"{name} names {named[name]}")
        return name
