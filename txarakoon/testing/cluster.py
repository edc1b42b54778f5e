"""An in-memory Arakoon cluster: N nodes, one replicated store, one master.

>>> from twisted.internet.task import Clock
>>> cluster = ArakoonCluster(("n0", "n1", "n2"), clock=Clock())
>>> cluster.master
'n0'

Run it on real loopback ports with :meth:`ArakoonCluster.listen
<ClusterAccess.listen>`, or without any socket with
:meth:`ArakoonCluster.connect_in_memory <ClusterAccess.connect_in_memory>` (see
:mod:`txarakoon.testing.memory`).

How the cluster behaves, as production Arakoon 1.9 does (PROTOCOL.md §5, §9):

* every node answers ``who_master`` with the master's name (``None`` while
  there is none, e.g. between a ``drop_master`` and the next election);
* the master serves everything; a slave answers writes, Consistent reads,
  ``get_key_count`` and ``confirm`` with 0x04 NotMaster (message: the master's
  name, or ``None``) and closes the connection; NoGuarantees reads work on
  every node; a single-node cluster serves everything;
* **slaves lag one update behind** (§5.2): a slave applies update ``i`` once
  ``i + 1`` is agreed, so right after a write a slave's ``get_txid`` is one
  lower, a NoGuarantees read there is stale and an ``AtLeast(i)`` read gets
  0x80 until one more update (e.g. a ``nop``). :attr:`ArakoonCluster.lag`
  changes this (0: slaves are always up to date);
* **the master renews its lease every half lease period with an update**
  (D24, D31): an idle cluster's txid advances, and a slave one update behind
  catches up by itself about half a lease later. The renewals are computed
  from the clock whenever the cluster is observed (a request, ``txid``,
  ``store``, a control, ``advance``; or :meth:`~ClusterControls.keep_time`):
  no timer runs on an idle cluster.
  ``lease_renewals=False`` turns them off, for tests that count updates;
* right after an election the new master reports ``Master_dictate`` and the
  slaves answer ``expect_progress_possible`` false, for
  :attr:`~ClusterControls.settle_time` seconds (D31);
* all time (leases, elections, reply delays) runs on the injected
  ``IReactorTime``, so tests drive it with :class:`twisted.internet.task.Clock`.

Controls for tests: :meth:`~ClusterControls.elect`,
:meth:`~ClusterControls.drop_master`, :meth:`~ClusterControls.kill`,
:meth:`~ClusterControls.revive`, :meth:`~ClusterControls.freeze`,
:meth:`~ClusterControls.thaw`, :meth:`~ClusterControls.no_longer_master`, and
per node (``cluster["n1"]``): ``delay_replies``, ``stall``/``unstall``,
``cut_connections_after``, ``drop_connections``, ``going_down``,
``max_connections`` (see :class:`~txarakoon.testing.node.ArakoonNode`).

Timeline of failures, on the cluster clock:

* ``drop_master()``, the control: no master at once; a new one (the next
  running node after the old master) after
  :attr:`~ClusterControls.election_delay` seconds, or never if that is ``None``
  (call :meth:`~ClusterControls.elect`).
* the ``drop_master`` command on the master only stops renewing its lease
  (D27): every node names the old master, which accepts and commits writes,
  for a lease period; then there is no master (writes get 0x04 ``None``) for
  ``election_delay``; the command answers half a lease after another node
  took over (after :meth:`~ClusterControls.elect` if ``election_delay`` is
  ``None``).
* ``kill(master)``: the others keep naming the dead master until its lease
  (:attr:`~ClusterControls.lease_period`, 10 s) expires, then there is no master,
  then a new one after ``election_delay`` (about 11 s in all, as observed, D25).
* ``freeze(master)``: the same, except that the frozen master keeps its
  connections open and answers nothing; :meth:`~ClusterControls.thaw` lets it
  answer what it owes, as the slave it has become.
* a master left without a majority of live nodes holds every write until the
  majority is back (then applies it) or its lease expires (then answers 0x21
  NoLongerMaster, not applied, and steps down).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, TypeVar

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime

from ..codec import STRING
from ..messages import MAX_VALUE_SIZE
from .access import ClusterAccess
from .controls import ClusterControls
from .mastership import Mastership, Timing
from .node import ArakoonNode
from .replication import Replication
from .store import Mutation, Store, Transaction
from .timers import Timer
from .updates import MAX_BUFFER_SIZE
from .view import UserFunction

__all__ = ["FIRST", "ArakoonCluster", "ClusterAccess", "ClusterControls"]

T = TypeVar("T")

#: Default of ``tlog_max_entries``, as in Arakoon.
TLOG_MAX_ENTRIES: Final = 100_000


class _First:
    def __repr__(self) -> str:
        return "FIRST"


#: Default of ``ArakoonCluster(master=...)``: the first node is master at once.
FIRST: Final = _First()


class ArakoonCluster(ClusterControls):
    """N in-memory Arakoon nodes sharing one replicated store.

    :param node_names: the node names, or how many nodes (named ``n0``, ``n1``, ...).
    :param cluster_id: the cluster id clients must send in their prologue.
    :param clock: the ``IReactorTime`` for leases, elections and reply delays.
        Default: a new :class:`~twisted.internet.task.Clock` (time stands still
        until you advance it), replaced by the reactor in :meth:`listen`.
    :param master: the node that is master from the start; ``None`` for a young
        cluster without master (one is elected after ``election_delay``).
        Default: the first node.
    :param lag: how many updates slaves lag behind the master (default 1, as in
        production; 0 = never stale).
    :param lease_period: the master lease in seconds (renewed every half of
        it; a dead, frozen or dropping master is named until it expires).
    :param election_delay: seconds without master before a new one is elected,
        or ``None`` to wait for :meth:`elect`.
    :param lease_renewals: whether lease renewals are updates, as in
        production (default); ``False`` keeps the txid a count of writes.
    :param settle_time: seconds a new master reports ``Master_dictate`` after
        an election (default 0.5; the master of a new cluster has settled).
    :param user_functions: ``{name: function(transaction, argument)}`` (names
        ``bytes`` or ``str``) for the
        ``user_function`` command (see :mod:`txarakoon.testing.node`).
    :param max_value_size: the ``max_value_size`` of ``set`` & co (8 MiB).
    :param max_buffer_size: the largest serialized update (32 MiB).
    :param tlog_max_entries: updates per transaction log, which decides how
        many progress frames ``collapse_tlogs`` streams.

    The nodes by name, the clock, TCP ports (:meth:`~ClusterAccess.listen`,
    :meth:`~ClusterAccess.endpoint`, :meth:`~ClusterAccess.ini`, ...) and
    in-memory connections (:meth:`~ClusterAccess.connect_in_memory`,
    :meth:`~ClusterAccess.flush`) come from :class:`ClusterAccess`. Its nodes
    see it as a :class:`~txarakoon.testing.view.ClusterView`.
    """

    def __init__(
        self,
        node_names: int | Iterable[str] = 3,
        *,
        cluster_id: bytes | str = "arakoon",
        clock: IReactorTime | None = None,
        master: str | _First | None = FIRST,
        lag: int = 1,
        lease_period: float = 10.0,
        election_delay: float | None = 1.0,
        lease_renewals: bool = True,
        settle_time: float = 0.5,
        user_functions: Mapping[Any, UserFunction] | None = None,
        max_value_size: int = MAX_VALUE_SIZE,
        max_buffer_size: int = MAX_BUFFER_SIZE,
        tlog_max_entries: int = TLOG_MAX_ENTRIES,
    ) -> None:
        names = (
            [f"n{index}" for index in range(node_names)]
            if isinstance(node_names, int)
            else list(node_names)
        )
        if not names:
            raise ValueError("a cluster needs at least one node")
        if len(set(names)) != len(names):
            raise ValueError(f"node names must be unique: {names}")
        if lag < 0:
            raise ValueError(f"lag must not be negative, not {lag}")
        if tlog_max_entries < 1:
            raise ValueError(f"tlog_max_entries must be at least 1, not {tlog_max_entries}")
        if lease_period <= 0:
            raise ValueError(f"lease_period must be positive, not {lease_period}")
        if settle_time < 0:
            raise ValueError(f"settle_time must not be negative, not {settle_time}")
        super().__init__(STRING.check(cluster_id), clock)
        self.max_value_size = max_value_size
        self.max_buffer_size = max_buffer_size
        self.tlog_max_entries = tlog_max_entries
        #: The registered user functions, by name (bytes).
        self.user_functions: dict[bytes, UserFunction] = {}
        for name, function in (user_functions or {}).items():
            self.register_user_function(name, function)
        self._replication = Replication(self._nodes, lag)
        timing = Timing(lease_period, election_delay, lease_renewals, settle_time)
        self._mastership = Mastership(self._nodes, self._replication, self._timers, timing)
        for name in names:
            self._nodes[name] = ArakoonNode(self, name, self._links)
        if master is not None:
            # A cluster made with a master has run for a while: it has settled.
            first = names[0] if isinstance(master, _First) else master
            self._mastership.elect(self.node(first), settled=True)
        else:
            self._mastership.schedule_election(None)

    def __repr__(self) -> str:
        return (
            f"<ArakoonCluster {self.cluster_id.decode('utf-8', 'replace')} "
            f"nodes={list(self._nodes)} master={self.master} txid={self.txid}>"
        )

    # -- data -----------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The latest agreed state (what the master sees). Read it, do not write it:
        use :meth:`seed` to change data behind the clients' backs."""
        self.keep_time()
        return self._replication.store

    @property
    def txid(self) -> int:
        """The number of updates agreed so far (lease renewals included)."""
        self.keep_time()
        return self._replication.txid

    def seed(self, items: Mapping[Any, bytes | str | None]) -> int:
        """Apply ``items`` (keys and values ``bytes`` or ``str``; a ``None`` value
        deletes) as one update, replicated like a client write, whatever the
        master situation. Returns the new txid."""
        mutations = [
            (STRING.check(key), None if value is None else STRING.check(value))
            for key, value in items.items()
        ]
        self.keep_time()
        self._replication.commit(mutations, self.master)
        return self.txid

    def register_user_function(self, name: bytes | str, function: UserFunction) -> None:
        """Make ``function`` callable with the ``user_function`` command."""
        self.user_functions[STRING.check(name)] = function

    @property
    def lag(self) -> int:
        """How many updates slaves lag behind the master. Lowering it lets the
        slaves catch up at once."""
        return self._replication.lag

    @lag.setter
    def lag(self, value: int) -> None:
        if value < 0:
            raise ValueError(f"lag must not be negative, not {value}")
        self.keep_time()
        self._replication.lag = value
        self._replication.replicate(self.master)

    def catch_up(self) -> None:
        """Let every live slave apply everything agreed so far (as if the next
        update had been agreed, without one)."""
        self.keep_time()
        for node in self._nodes.values():
            if node.running:
                node.catch_up(self.txid)

    # -- what its nodes ask (ClusterView) -----------------------------------------

    def who_master(self) -> str | None:
        """What every node answers to ``who_master`` now (a dead master until
        its lease expires)."""
        return self._mastership.believed

    def progress_possible(self, name: str | None = None) -> bool:
        """What ``expect_progress_possible`` answers now on node ``name``
        (default: the master)."""
        return self._mastership.progress_possible(name or self.master or "")

    def settling(self) -> bool:
        """Whether a new master still reports ``Master_dictate``."""
        return self._mastership.settling()

    def live_txids(self) -> dict[str, int]:
        """How many updates each live node has applied, by name."""
        self.keep_time()
        return {node.name: node.store.txid for node in self._nodes.values() if node.alive}

    def mutations_of(self, txid: int) -> list[Mutation]:
        """The writes of agreed update ``txid``, while some node has yet to apply it."""
        return self._replication.mutations_of(txid)

    def propose(self, proposer: str, run: Callable[[Transaction], T]) -> T | Deferred[T]:
        """Agree on one update that node ``proposer`` accepted."""
        return self._mastership.propose(self.node(proposer), run)

    def drop_master_on_request(self) -> Deferred[None]:
        """``drop_master`` sent to the master: fires when the reply is due."""
        return self._mastership.drop_master_on_request()

    def call_later(self, delay: float, function: Callable[..., None], *args: Any) -> Timer:
        """Call ``function(*args)`` after ``delay`` seconds on the cluster clock
        (cancelled by :meth:`stop`)."""
        return self._timers.call_later(delay, function, *args)

    def _clock_changing(self, clock: IReactorTime) -> None:
        self.keep_time()
        shift = clock.seconds() - self.clock.seconds()
        super()._clock_changing(clock)
        self._mastership.clock_changed(shift)

    def stop(self) -> Deferred[None]:
        """Stop listening, cut every connection and cancel pending timers
        (elections included); the Deferred fires once every port and
        connection is closed."""
        self._mastership.stop()
        return super().stop()
