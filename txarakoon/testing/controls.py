"""The controls of an in-memory cluster's mastership and failures:
:class:`ClusterControls`, the base of
:class:`~txarakoon.testing.cluster.ArakoonCluster`.

Elections, the lease and its timing parameters, ``drop_master``, kills,
revivals, freezes, injected NoLongerMaster answers and held replies; the timeline they
follow is described in :mod:`txarakoon.testing.cluster`, and
:class:`~txarakoon.testing.mastership.Mastership` keeps it. Each control
first agrees on the lease renewals due by now (:meth:`~ClusterControls.keep_time`),
so that the renewals before a change happen as things were.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred, succeed

from .access import ClusterAccess
from .holds import HeldReplies, Match
from .mastership import Mastership
from .replication import Replication

__all__ = ["ClusterControls"]


class ClusterControls(ClusterAccess):
    """Who is master, the lease, and the failures a test may cause."""

    # Made by ArakoonCluster, which builds the cluster.
    _mastership: Mastership
    _replication: Replication

    def keep_time(self) -> None:
        """Agree on the lease renewals that fell due by the clock's present.
        Requests, controls, ``txid`` and ``store`` do it first; call it to read
        a node's ``store`` after moving the clock yourself."""
        self._mastership.keep_time()

    def advance(self, seconds: float) -> None:
        super().advance(seconds)
        self.keep_time()

    @property
    def master(self) -> str | None:
        """The node holding mastership now, or ``None``."""
        return self._mastership.master

    @property
    def lease_period(self) -> float:
        """The master lease in seconds."""
        return self._mastership.timing.lease_period

    @lease_period.setter
    def lease_period(self, value: float) -> None:
        if value <= 0:
            raise ValueError(f"lease_period must be positive, not {value}")
        self.keep_time()
        self._mastership.timing.lease_period = value

    @property
    def lease_renewals(self) -> bool:
        """Whether the master's lease renewals are updates (D24, D31)."""
        return self._mastership.timing.lease_renewals

    @lease_renewals.setter
    def lease_renewals(self, value: bool) -> None:
        self.keep_time()
        self._mastership.timing.lease_renewals = value

    @property
    def settle_time(self) -> float:
        """Seconds a new master reports ``Master_dictate`` after an election."""
        return self._mastership.timing.settle_time

    @settle_time.setter
    def settle_time(self, value: float) -> None:
        if value < 0:
            raise ValueError(f"settle_time must not be negative, not {value}")
        self._mastership.timing.settle_time = value

    @property
    def election_delay(self) -> float | None:
        """Seconds without master before a new one is elected, or ``None``
        to wait for :meth:`elect`. Set while the cluster has no master (and
        no lease runs out), it elects one after the new delay."""
        return self._mastership.timing.election_delay

    @election_delay.setter
    def election_delay(self, value: float | None) -> None:
        self._mastership.timing.election_delay = value
        self._mastership.election_delay_changed()

    def elect(self, name: str) -> None:
        """Make ``name`` master now (it catches up first; it dictates for
        :attr:`settle_time`). Cancels pending elections."""
        node = self.node(name)
        self.keep_time()
        self._mastership.elect(node)

    def drop_master(self) -> None:
        """The master gives up mastership at once: no master until the next
        election (after :attr:`election_delay`, choosing another node; or
        :meth:`elect`). The ``drop_master`` *command* is slower (D27)."""
        self.keep_time()
        self._mastership.drop_master()

    def kill(self, name: str) -> Deferred[None]:
        """Kill a node: its port stops listening (connections are refused) and
        its open connections are cut. The Deferred fires once they are closed
        (for in-memory connections: after the next :meth:`flush`)."""
        node = self.node(name)
        if not node.alive:
            return succeed(None)
        self.keep_time()
        closed = node.crash()
        self._mastership.node_killed(name)
        return closed

    def revive(self, name: str) -> Deferred[None]:
        """Restart a killed node as a slave: it catches up, listens again on its
        old port (if the cluster listens), and may take part in elections. It is
        no longer stalled, frozen or going down (reply delays, cuts and
        ``max_connections`` stay). The Deferred fires once it listens."""
        node = self.node(name)
        if node.alive:
            return succeed(None)
        self.keep_time()
        node.restart()
        self._replication.replicate(self.master)
        listening = node.listen_again() if self._listening else succeed(None)
        self._mastership.node_revived()
        return listening

    def freeze(self, name: str) -> None:
        """Stop node ``name`` like a paused process (SIGSTOP): it answers
        nothing (connections stay open, new ones are accepted, requests wait
        unread) and takes no part in the cluster. A frozen master stops
        renewing its lease: the others name it until the lease expires, then
        elect another node after :attr:`election_delay`."""
        node = self.node(name)
        if not node.alive:
            raise ValueError(f"cannot freeze {name}: it is dead")
        if node.frozen:
            return
        self.keep_time()
        node.freeze()
        self._mastership.node_frozen(name)

    def thaw(self, name: str) -> None:
        """Let a frozen node run again (SIGCONT). It catches up, then answers
        what it owes in order: replies computed before the freeze as they
        were, and the requests that waited as the node is now, so a master
        replaced meanwhile answers writes and Consistent reads with
        NotMaster. Still master if its lease had not expired."""
        node = self.node(name)
        if not node.frozen:
            return
        self.keep_time()
        node.thaw()
        self._replication.replicate(self.master)
        self._mastership.node_thawed(name)
        node.serve_held()

    def no_longer_master(self, name: str, count: int = 1, applied: bool = True) -> None:
        """Make node ``name`` answer its next ``count`` writes with 0x21
        NoLongerMaster. ``applied``: whether those writes are applied anyway
        (default, what production usually did) or not. Mastership is unchanged."""
        self.node(name).no_longer_master(count, applied)

    def hold_replies(
        self, name: str, match: Match, *, applied: bool = True, count: int = 1
    ) -> HeldReplies:
        """Make node ``name`` hold back the next ``count`` requests that
        ``match`` (a command's declaration, e.g. ``messages.SEQUENCE``, its
        name, ``"sequence"``, or a predicate ``(command, arguments) -> bool``;
        anything else is a :class:`TypeError`). With ``applied`` each is
        executed at once and only its reply is held; without, the request
        waits unexecuted. The handle's ``release()`` answers them, its
        ``kill()`` kills the node with them unsent (see
        :mod:`txarakoon.testing.holds`)."""
        node = self.node(name)
        if not node.alive:
            raise ValueError(f"cannot hold the replies of {name}: it is dead")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be a whole number, 1 or more, not {count!r}")
        hold = HeldReplies(name, match, applied, count, self.kill)
        node.holds.add(hold)
        return hold
