"""The blocking client's stall check: a master that stops answering without
closing its connection is left as soon as the cluster has elected another
one, by the rule of :mod:`txarakoon.stall_rule`.

A wait for the master's reply is read in slices (the :data:`Patience
<txarakoon.socket_reads.Patience>` of :meth:`SocketClient.send
<txarakoon.blocking.SocketClient.send>`): each slice ends when a round of
questions is due, and the round runs between two slices, on this thread,
asking the other nodes ``who_master`` one after the other over their own
connections, a claim validated as a discovery validates it
(:func:`txarakoon.master_claims.discover`). Bytes that arrive meanwhile wait
in the socket, so "no byte since the round began" is whether the socket is
readable once it is over. Being on the reading thread, a round holds up the
master's reply while it lasts; so it is kept short: it ends before the next
question once the master's socket is readable, each question is bounded by
:func:`~txarakoon.stall_rule.question_bound`, the whole round by the call's
deadline, and bytes waiting in the socket are read even when the silence
limit has passed meanwhile.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from .. import master_claims, stall_rule
from ..errors import MisconfiguredCluster, NoMasterError

__all__ = ["Ask", "Readable", "StallCheck", "Watch"]

log = logging.getLogger("txarakoon.blocking_cluster")

#: How the check asks node ``name`` who is master, by a deadline (the
#: client's discovery question, its errors returned, not raised).
Ask = Callable[[str, float], master_claims.Answer]


class Readable(Protocol):
    """The master's connection, as the watch sees it (a
    :class:`~txarakoon.blocking.SocketClient`)."""

    def readable(self) -> bool:
        """Whether bytes (or the end of the stream) wait to be read."""
        ...


class _NotAsked(Exception):
    """The old master is not asked: its connection is busy waiting for it."""


class _ReplyArriving(Exception):
    """The master's reply started to arrive during a round: the round ends."""


class StallCheck:
    """The stall check of one :class:`BlockingArakoonClient`.

    :param names: the cluster's nodes.
    :param interval: ``stall_interval``.
    :param ask: how to ask a node who is master.
    :param connect_timeout: the client's, which bounds each question too.
    :param clock: the time in seconds, as :func:`time.monotonic` (the
        deadlines' clock).
    """

    def __init__(
        self,
        names: Sequence[str],
        interval: float,
        ask: Ask,
        rng: random.Random,
        connect_timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.names = list(names)
        self.interval = interval
        self.clock = clock
        self._ask = ask
        self._random = rng
        self._question = stall_rule.question_bound(interval, connect_timeout)

    def watch(self, master: str, deadline: float) -> Watch:
        """A watch over one wait for ``master``'s reply, in a call that ends
        at ``deadline`` (on :attr:`clock`)."""
        return Watch(self, master, deadline)

    def named_master(
        self, master: str, deadline: float, arriving: Callable[[], bool] = lambda: False
    ) -> str | None:
        """One round: the master the nodes other than ``master`` name and
        validate before ``deadline``, or ``None``; also ``None`` as soon as
        ``arriving()`` says, before a question, that ``master``'s reply
        started to arrive (a reply that is arriving is never a stall)."""
        others = [name for name in master_claims.order(self.names, self._random) if name != master]

        def ask(name: str) -> master_claims.Answer:
            if name == master:
                return _NotAsked(f"{name} is not asked: it is the silent master")
            if arriving():
                raise _ReplyArriving
            return self._ask(name, min(deadline, self.clock() + self._question))

        plan = master_claims.discover(others, self.names)
        try:
            return master_claims.drive(plan, ask)
        except _ReplyArriving:
            log.debug("Stall check: %s's reply is arriving: the round ends", master)
            return None
        except (NoMasterError, MisconfiguredCluster) as error:  # none validated
            log.debug("Stall check: no other master: %s", error)
            return None
        finally:
            plan.close()


#: The wait that reads what the socket holds already (the shortest one).
_READ_NOW = 0.0


class Watch:
    """One wait for the master's reply on ``client``: the patience of the
    read, which runs the rounds between its slices.

    :ivar deadline: the call's, which no round outlasts.
    :ivar new_master: the master the watch left the connection for, if it did.
    :ivar reason: why it left it (:func:`txarakoon.stall_rule.leave_reason`).
    """

    def __init__(self, check: StallCheck, master: str, deadline: float) -> None:
        self._check = check
        self.master = master
        self.deadline = deadline
        self.new_master: str | None = None
        self.reason: str | None = None
        self._client: Readable | None = None
        self._limit = 0.0
        self._last_round: float | None = None

    def patience(self, client: Readable, limit: float) -> Callable[[float], float | None]:
        """The patience of a read on ``client``, which gives up after
        ``limit`` seconds of silence (the link's silence timeout or the
        call's deadline, whichever comes first) with nothing waiting to be
        read, or on leaving the master."""
        self._client = client
        self._limit = limit
        self._last_round = None
        return self._next_wait

    def _next_wait(self, silence: float) -> float | None:
        client = self._client
        assert client is not None
        if client.readable():
            # The reply (or the end of the stream) is in the socket already:
            # giving up now, at the limit or not, would throw away a reply
            # that came, and make a write that succeeded OutcomeUnknown.
            return _READ_NOW
        interval = self._check.interval
        if silence >= self._limit:
            return None
        if stall_rule.until_round(silence, True, interval, self._last_round) <= 0:
            self._last_round = silence
            clock = self._check.clock
            began = clock()
            # Silence restarts at each chunk: the limit left is not the
            # call's time left, which bounds the round as well.
            ends = min(self.deadline, began + self._limit - silence)
            named = self._check.named_master(self.master, ends, client.readable)
            silence += clock() - began
            if self._leaves(named, silence):
                return None
            if client.readable():
                return _READ_NOW
        left = self._limit - silence
        if left <= 0:
            return None
        return min(left, stall_rule.until_round(silence, True, interval, self._last_round))

    def _leaves(self, named: str | None, silence: float) -> bool:
        """Whether the round that validated ``named`` leaves the master."""
        client = self._client
        assert client is not None
        arrived = client.readable()
        verdict = stall_rule.verdict(self.master, named, arrived=arrived, owed=True)
        if verdict is stall_rule.Verdict.WAIT or named is None:
            # Every round of a long wait: not worth more than debug.
            log.debug(
                "No byte from master %s for %.3f s (one since the round: %s); "
                "the others name %s: waiting",
                self.master,
                silence,
                arrived,
                named,
            )
            return False
        self.new_master = named
        self.reason = stall_rule.leave_reason(self.master, named, silence, 1)
        log.warning("Leaving stalled master %s: %s", self.master, self.reason)
        return True
