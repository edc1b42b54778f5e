"""Who is master of an in-memory cluster, and how that changes over time:
elections, the master's lease and its renewals, drop_master, deaths, freezes
and revivals, and the writes a master without majority holds. Every delay
runs on the cluster's :class:`~txarakoon.testing.timers.Timers`; the timeline
it follows is described in :mod:`txarakoon.testing.cluster`.

The master renews its lease every half lease period with a Paxos update
(PROTOCOL.md D24, D31). No timer ticks for that: :meth:`Mastership.keep_time`
agrees on the renewals that fell due whenever the cluster is observed (a
request, a control, a timer of its own), so an idle cluster schedules
nothing. Every change of who renews goes through a public method here, and
the cluster calls :meth:`~Mastership.keep_time` before it, so the renewals
before a change are agreed under the old state.
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

__all__ = ["Mastership", "Timing"]

T = TypeVar("T")


@dataclass
class _Held:
    """A write waiting on a master that lost its majority."""

    node: ArakoonNode
    run: Callable[[Transaction], Any]
    deferred: Deferred[Any]


@dataclass
class Timing:
    """The timing of a cluster's mastership, which its controls change while
    it runs.

    :ivar lease_period: the master lease in seconds.
    :ivar election_delay: seconds without master before a new one is
        elected, or ``None`` to wait for :meth:`Mastership.elect`.
    :ivar lease_renewals: whether the master's lease renewals are updates.
    :ivar settle_time: seconds a new master dictates after its election.
    """

    lease_period: float
    election_delay: float | None
    lease_renewals: bool
    settle_time: float


class Mastership:
    """The master of ``nodes``, its lease, elections, and the writes it holds,
    on the cluster's ``timing``."""

    def __init__(
        self,
        nodes: Mapping[str, ArakoonNode],
        replication: Replication,
        timers: Timers,
        timing: Timing,
    ) -> None:
        self.timing = timing
        self._nodes = nodes
        self._replication = replication
        self._timers = timers
        self._held: list[_Held] = []
        self._master: str | None = None
        self._believed: str | None = None
        # The last master, after whom the next election looks for a node.
        self._previous: str | None = None
        self._election: Timer | None = None
        self._lease: Timer | None = None
        self._stepdown: Timer | None = None
        # When the master last renewed its lease, and until when it dictates.
        self._renewed_at = self._now()
        self._settled_at = float("-inf")
        # The master stopped renewing on request (the drop_master command).
        self._dropping = False
        self._drop_replies: list[Deferred[None]] = []
        self._keeping_time = False

    def _now(self) -> float:
        return float(self._timers.clock.seconds())

    @property
    def master(self) -> str | None:
        """The node holding mastership now, or ``None``."""
        return self._master

    @property
    def believed(self) -> str | None:
        """The master every node names (a dead or frozen one until its lease expires)."""
        return self._believed

    def has_majority(self) -> bool:
        """Whether most nodes are running (alive and not frozen)."""
        running = sum(1 for node in self._nodes.values() if node.running)
        return running * 2 > len(self._nodes)

    def progress_possible(self, name: str) -> bool:
        """What ``expect_progress_possible`` answers on node ``name``: false on
        a slave while a new master dictates (D31)."""
        if name != self._master and self.settling():
            return False
        return (len(self._nodes) == 1 or self._believed is not None) and self.has_majority()

    def settling(self) -> bool:
        """Whether the master was elected less than ``settle_time`` ago (it
        reports ``Master_dictate``)."""
        return self._master is not None and self._now() < self._settled_at

    # -- lease renewals ---------------------------------------------------------

    def _renews(self) -> bool:
        master = self._master
        if not self.timing.lease_renewals or master is None or self._dropping:
            return False
        return self._nodes[master].running and self.has_majority()

    def keep_time(self) -> None:
        """Agree on the lease renewals that fell due by now, one update each."""
        if self._keeping_time:
            return
        now = self._now()
        half = self.timing.lease_period / 2
        if now < self._renewed_at + half:
            return
        if not self._renews():
            # Nothing to renew: the next renewal counts from when renewing resumes.
            self._renewed_at = now
            return
        self._keeping_time = True
        try:
            while now >= self._renewed_at + half:
                self._renewed_at += half
                self._replication.commit([], self._master)
        finally:
            self._keeping_time = False

    def clock_changed(self, shift: float) -> None:
        """The cluster keeps time with another clock now, on which the same
        instant reads ``shift`` seconds later: move the lease's times along."""
        self._renewed_at += shift
        self._settled_at += shift

    def _call_later(self, delay: float, function: Callable[[], None]) -> Timer:
        def fire() -> None:
            self.keep_time()
            function()

        return self._timers.call_later(delay, fire)

    # -- changes of master ------------------------------------------------------

    def elect(self, node: ArakoonNode, *, settled: bool = False) -> None:
        """Make ``node`` master now (it catches up first). Cancels pending
        elections. ``settled``: it does not dictate first (a cluster that has
        run for a while)."""
        name = node.name
        if not node.alive:
            raise ValueError(f"cannot elect {name}: it is dead")
        if node.frozen:
            raise ValueError(f"cannot elect {name}: it is frozen")
        for timer in (self._election, self._lease, self._stepdown):
            if timer is not None:
                timer.cancel()
        self._election = self._lease = self._stepdown = None
        old = self._master
        if old is not None and old != name:
            self._fail_held(self._nodes[old])
        self._master = self._believed = self._previous = name
        self._dropping = False
        now = self._now()
        self._renewed_at = now
        self._settled_at = float("-inf") if settled else now + self.timing.settle_time
        node.catch_up(self._replication.txid)
        self._replication.replicate(self._master)
        self._watch_majority()
        # drop_master answers half a lease after another node took over (D27).
        replies, self._drop_replies = self._drop_replies, []
        if replies:
            self._call_later(self.timing.lease_period / 2, lambda: _answer(replies))

    def drop_master(self) -> None:
        """The master gives up mastership: no master until the next election."""
        old = self._master
        if old is None:
            return
        self._step_down()
        self.schedule_election(old)

    def drop_master_on_request(self) -> Deferred[None]:
        """``drop_master`` sent to the master: it stops renewing its lease, and
        the reply is due half a lease after another node took over (D27)."""
        answered: Deferred[None] = Deferred()
        self._drop_replies.append(answered)
        if not self._dropping:
            self._dropping = True
            self._lease_runs_out()
        return answered

    def schedule_election(self, previous: str | None) -> None:
        """Elect the next running node after ``previous`` in ``election_delay``."""
        if self.timing.election_delay is None or self._election is not None:
            return
        self._election = self._call_later(
            self.timing.election_delay, lambda: self._run_election(previous)
        )

    def election_delay_changed(self) -> None:
        """``timing.election_delay`` was set: a cluster that has no master and
        waits for none (``None`` before) elects after the new delay. A pending
        election keeps its time."""
        if self._master is None and self._lease is None:
            self.schedule_election(self._previous)

    def stop(self) -> None:
        """Cancel pending elections, lease expiries and step-downs."""
        for timer in (self._election, self._lease, self._stepdown):
            if timer is not None:
                timer.cancel()
        self._election = self._lease = self._stepdown = None

    def _step_down(self) -> None:
        old = self._master
        self._master = self._believed = None
        self._dropping = False
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
            if self._nodes[candidate].running:
                self.elect(self._nodes[candidate])
                return

    def _lease_runs_out(self) -> None:
        """The master no longer renews: the others name it until its lease
        runs out, a lease period from now."""
        if self._lease is None:
            self._lease = self._call_later(self.timing.lease_period, self._lease_expired)

    def _lease_expired(self) -> None:
        self._lease = None
        previous = self._believed
        if self._master is not None:
            # A master that stopped renewing (dropped or frozen) gives up.
            self._step_down()
        self._believed = None
        self.schedule_election(previous)

    def _watch_majority(self) -> None:
        """Start the master's countdown if it has lost its majority."""
        if self._master is None or len(self._nodes) == 1 or self.has_majority():
            return
        if self._stepdown is None:
            self._stepdown = self._call_later(self.timing.lease_period, self._majority_lost)

    def _majority_lost(self) -> None:
        self._stepdown = None
        if self.has_majority():
            return
        previous = self._master
        self._step_down()
        self.schedule_election(previous)

    # -- nodes dying, freezing and coming back --------------------------------------

    def node_killed(self, name: str) -> None:
        """Node ``name`` has just died."""
        if name == self._master:
            self._master = None
            self._dropping = False
            self._fail_held(self._nodes[name])
            if self._stepdown is not None:
                self._stepdown.cancel()
                self._stepdown = None
            self._lease_runs_out()
        else:
            self._watch_majority()

    def node_frozen(self, name: str) -> None:
        """Node ``name`` has just stopped (it neither answers nor renews)."""
        if name == self._master:
            self._lease_runs_out()
        else:
            self._watch_majority()

    def node_thawed(self, name: str) -> None:
        """Node ``name`` runs again (and caught up)."""
        if name == self._master and not self._dropping and self._lease is not None:
            # Back before its lease ran out: it renews again, and stays master.
            self._lease.cancel()
            self._lease = None
            self._renewed_at = self._now()
        self.node_revived()

    def node_revived(self) -> None:
        """A node has just come back (and caught up)."""
        if self.has_majority():
            if self._stepdown is not None:
                self._stepdown.cancel()
                self._stepdown = None
                # The master renews again from now on.
                self._renewed_at = self._now()
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


def _answer(replies: list[Deferred[None]]) -> None:
    for reply in replies:
        reply.callback(None)
