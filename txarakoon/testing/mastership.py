"""Who is master of an in-memory cluster, and how that changes over time:
elections, the master's lease, drop_master, deaths and revivals, and the
writes a master without majority holds. Every delay runs on the cluster's
:class:`~txarakoon.testing.timers.Timers`; the timeline it follows is
described in :mod:`txarakoon.testing.cluster`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, TypeVar

from twisted.internet.defer import Deferred

from ..errors import ArakoonError, NoLongerMaster
from .node import ArakoonNode
from .quoting import NO_LONGER_MASTER_MESSAGE
from .replication import Replication
from .store import Transaction
from .timers import Timer, Timers

__all__ = ["Mastership"]

T = TypeVar("T")


@dataclass
class _Held:
    """A write waiting on a master that lost its majority."""

    node: ArakoonNode
    run: Callable[[Transaction], Any]
    deferred: Deferred[Any]


class Mastership:
    """The master of ``nodes``, its lease, elections, and the writes it holds.

    :ivar lease_period: the master lease in seconds.
    :ivar election_delay: seconds without master before a new one is
        elected, or ``None`` to wait for :meth:`elect`.
    """

    def __init__(
        self,
        nodes: Mapping[str, ArakoonNode],
        replication: Replication,
        timers: Timers,
        *,
        lease_period: float,
        election_delay: float | None,
    ) -> None:
        self.lease_period = lease_period
        self.election_delay = election_delay
        self._nodes = nodes
        self._replication = replication
        self._timers = timers
        self._held: list[_Held] = []
        self._master: str | None = None
        self._believed: str | None = None
        self._election: Timer | None = None
        self._lease: Timer | None = None
        self._stepdown: Timer | None = None

    @property
    def master(self) -> str | None:
        """The node holding mastership now, or ``None``."""
        return self._master

    @property
    def believed(self) -> str | None:
        """The master every node names (a dead one until its lease expires)."""
        return self._believed

    def has_majority(self) -> bool:
        """Whether most nodes are alive."""
        alive = sum(1 for node in self._nodes.values() if node.alive)
        return alive * 2 > len(self._nodes)

    def progress_possible(self) -> bool:
        """What ``expect_progress_possible`` answers."""
        return (len(self._nodes) == 1 or self._believed is not None) and self.has_majority()

    # -- changes of master ------------------------------------------------------

    def elect(self, node: ArakoonNode) -> None:
        """Make ``node`` master now (it catches up first). Cancels pending elections."""
        name = node.name
        if not node.alive:
            raise ValueError(f"cannot elect {name}: it is dead")
        for timer in (self._election, self._lease, self._stepdown):
            if timer is not None:
                timer.cancel()
        self._election = self._lease = self._stepdown = None
        old = self._master
        if old is not None and old != name:
            self._fail_held(self._nodes[old])
        self._master = self._believed = name
        node.catch_up(self._replication.txid)
        self._replication.replicate(self._master)
        self._watch_majority()

    def drop_master(self) -> None:
        """The master gives up mastership: no master until the next election."""
        old = self._master
        if old is None:
            return
        self._step_down()
        self.schedule_election(old)

    def drop_master_on_request(self) -> Deferred[None]:
        """``drop_master`` sent to the master: answer after half a lease."""
        self.drop_master()
        answered: Deferred[None] = Deferred()
        self._timers.call_later(self.lease_period / 2, lambda: answered.callback(None))
        return answered

    def schedule_election(self, previous: str | None) -> None:
        """Elect the next live node after ``previous`` in ``election_delay``."""
        if self.election_delay is None or self._election is not None:
            return
        self._election = self._timers.call_later(
            self.election_delay, lambda: self._run_election(previous)
        )

    def stop(self) -> None:
        """Cancel pending elections, lease expiries and step-downs."""
        for timer in (self._election, self._lease, self._stepdown):
            if timer is not None:
                timer.cancel()
        self._election = self._lease = self._stepdown = None

    def _step_down(self) -> None:
        old = self._master
        self._master = self._believed = None
        if self._stepdown is not None:
            self._stepdown.cancel()
            self._stepdown = None
        if old is not None:
            self._fail_held(self._nodes[old])

    def _run_election(self, previous: str | None) -> None:
        self._election = None
        if self._master is not None or not self.has_majority():
            return
        names = list(self._nodes)
        start = names.index(previous) + 1 if previous in names else 0
        for offset in range(len(names)):
            candidate = names[(start + offset) % len(names)]
            if self._nodes[candidate].alive:
                self.elect(self._nodes[candidate])
                return

    def _lease_expired(self) -> None:
        self._lease = None
        previous = self._believed
        if self._master is None:
            self._believed = None
            self.schedule_election(previous)

    def _watch_majority(self) -> None:
        """Start the master's countdown if it has lost its majority."""
        if self._master is None or len(self._nodes) == 1 or self.has_majority():
            return
        if self._stepdown is None:
            self._stepdown = self._timers.call_later(self.lease_period, self._majority_lost)

    def _majority_lost(self) -> None:
        self._stepdown = None
        if self.has_majority():
            return
        previous = self._master
        self._step_down()
        self.schedule_election(previous)

    # -- nodes dying and coming back ------------------------------------------------

    def node_killed(self, name: str) -> None:
        """Node ``name`` has just died."""
        if name == self._master:
            self._master = None
            self._fail_held(self._nodes[name])
            if self._stepdown is not None:
                self._stepdown.cancel()
                self._stepdown = None
            # The others keep naming it until its lease runs out.
            self._lease = self._timers.call_later(self.lease_period, self._lease_expired)
        else:
            self._watch_majority()

    def node_revived(self) -> None:
        """A node has just come back (and caught up)."""
        if self.has_majority():
            if self._stepdown is not None:
                self._stepdown.cancel()
                self._stepdown = None
            self._release_held()
            if self._master is None and self._believed is None:
                self.schedule_election(None)

    # -- writes -----------------------------------------------------------------

    def propose(self, node: ArakoonNode, run: Callable[[Transaction], T]) -> T | Deferred[T]:
        """Agree on one update proposed by ``node`` (after its role checks)."""
        applied = node.pop_no_longer_master()
        if applied is not None:
            if applied:
                with suppress(ArakoonError):
                    self._replication.execute(run, self._master)
            raise NoLongerMaster(NO_LONGER_MASTER_MESSAGE)
        if len(self._nodes) > 1 and not self.has_majority():
            waiting: Deferred[T] = Deferred()
            self._held.append(_Held(node, run, waiting))
            return waiting
        return self._replication.execute(run, self._master)

    def _fail_held(self, node: ArakoonNode) -> None:
        kept = []
        for held in self._held:
            if held.node is node:
                held.deferred.errback(NoLongerMaster(NO_LONGER_MASTER_MESSAGE))
            else:
                kept.append(held)
        self._held = kept

    def _release_held(self) -> None:
        held, self._held = self._held, []
        for item in held:
            try:
                result = self._replication.execute(item.run, self._master)
            except ArakoonError as error:
                item.deferred.errback(error)
            else:
                item.deferred.callback(result)
