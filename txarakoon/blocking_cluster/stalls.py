"""The blocking client's stall check: a master that stops answering without
closing its connection is left as soon as the cluster has elected another
one, by the rule of :mod:`txarakoon.stall_rule`.

A wait for the master's reply is read in slices (the :data:`Patience
<txarakoon.socket_reads.Patience>` of :meth:`SocketClient.send
<txarakoon.blocking.SocketClient.send>`): each slice ends when a round of
questions is due, and the round runs between two slices, on this thread,
asking the other nodes ``who_master`` one after the other over their own
connections (each question within ``connect_timeout``), a claim validated as
a discovery validates it (:func:`txarakoon.master_claims.discover`). Bytes
that arrive meanwhile wait in the socket, so "no byte since the round began"
is whether the socket is readable once it is over.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence

from .. import master_claims, stall_rule
from ..blocking import SocketClient
from ..errors import MisconfiguredCluster, NoMasterError

__all__ = ["Ask", "StallCheck", "Watch"]

log = logging.getLogger("txarakoon.blocking_cluster")

#: How the check asks node ``name`` who is master, by a deadline (the
#: client's discovery question, its errors returned, not raised).
Ask = Callable[[str, float], master_claims.Answer]


class _NotAsked(Exception):
    """The old master is not asked: its connection is busy waiting for it."""


class StallCheck:
    """The stall check of one :class:`BlockingArakoonClient`.

    :param names: the cluster's nodes.
    :param interval: ``stall_interval``.
    :param ask: how to ask a node who is master.
    """

    def __init__(self, names: Sequence[str], interval: float, ask: Ask, rng: random.Random) -> None:
        self.names = list(names)
        self.interval = interval
        self._ask = ask
        self._random = rng

    def watch(self, master: str) -> Watch:
        """A watch over one wait for ``master``'s reply."""
        return Watch(self, master)

    def named_master(self, master: str, deadline: float) -> str | None:
        """One round: the master the nodes other than ``master`` name and
        validate before ``deadline``, or ``None``."""
        others = [name for name in master_claims.order(self.names, self._random) if name != master]

        def ask(name: str) -> master_claims.Answer:
            if name == master:
                return _NotAsked(f"{name} is not asked: it is the silent master")
            return self._ask(name, deadline)

        try:
            return master_claims.drive(master_claims.discover(others, self.names), ask)
        except (NoMasterError, MisconfiguredCluster) as error:  # none validated
            log.debug("Stall check: no other master: %s", error)
            return None


class Watch:
    """One wait for the master's reply on ``client``: the patience of the
    read, which runs the rounds between its slices.

    :ivar new_master: the master the watch left the connection for, if it did.
    :ivar reason: why it left it (:func:`txarakoon.stall_rule.leave_reason`).
    """

    def __init__(self, check: StallCheck, master: str) -> None:
        self._check = check
        self.master = master
        self.new_master: str | None = None
        self.reason: str | None = None
        self._client: SocketClient | None = None
        self._limit = 0.0
        self._last_round: float | None = None

    def patience(self, client: SocketClient, limit: float) -> Callable[[float], float | None]:
        """The patience of a read on ``client``, which gives up after
        ``limit`` seconds of silence (the link's silence timeout or the
        call's deadline, whichever comes first) or on leaving the master."""
        self._client = client
        self._limit = limit
        self._last_round = None
        return self._next_wait

    def _next_wait(self, silence: float) -> float | None:
        interval = self._check.interval
        if silence >= self._limit:
            return None
        if stall_rule.until_round(silence, True, interval, self._last_round) <= 0:
            self._last_round = silence
            began = time.monotonic()
            named = self._check.named_master(self.master, began + self._limit - silence)
            silence += time.monotonic() - began
            if self._leaves(named, silence):
                return None
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
