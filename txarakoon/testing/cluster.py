"""An in-memory Arakoon cluster: N nodes, one replicated store, one master.

>>> from twisted.internet.task import Clock
>>> cluster = ArakoonCluster(("n0", "n1", "n2"), clock=Clock())
>>> cluster.master
'n0'

Run it on real loopback ports with :meth:`ArakoonCluster.listen`, or without any
socket with :meth:`ArakoonCluster.connect_in_memory` (see
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
* all time (leases, elections, reply delays) runs on the injected
  ``IReactorTime``, so tests drive it with :class:`twisted.internet.task.Clock`.

Controls for tests: :meth:`~ArakoonCluster.elect`,
:meth:`~ArakoonCluster.drop_master`, :meth:`~ArakoonCluster.kill`,
:meth:`~ArakoonCluster.revive`, :meth:`~ArakoonCluster.no_longer_master`, and
per node (``cluster["n1"]``): ``delay_replies``, ``stall``/``unstall``,
``cut_connections_after``, ``drop_connections``, ``going_down``,
``max_connections`` (see :class:`~txarakoon.testing.node.ArakoonNode`).

Timeline of failures, on the cluster clock:

* ``drop_master()`` (or the ``drop_master`` command on the master): no master at
  once; a new one (the next live node after the old master) after
  :attr:`~ArakoonCluster.election_delay` seconds, or never if that is ``None``
  (call :meth:`~ArakoonCluster.elect`). The command itself answers after half a
  lease, like the real server.
* ``kill(master)``: the others keep naming the dead master until its lease
  (:attr:`~ArakoonCluster.lease_period`, 10 s) expires, then there is no master,
  then a new one after ``election_delay`` (about 11 s in all, as observed, D25).
* a master left without a majority of live nodes holds every write until the
  majority is back (then applies it) or its lease expires (then answers 0x21
  NoLongerMaster, not applied, and steps down).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Final, TypeVar, overload

from twisted.internet.defer import Deferred, gatherResults, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTCP, IReactorTime
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock

from ..codec import STRING
from ..config import ClusterConfig
from ..errors import ArakoonError, NoLongerMaster
from ..messages import MAX_VALUE_SIZE
from ..protocol import ArakoonProtocol
from .links import MemoryLinks
from .memory import MemoryConnection, connect_in_memory
from .node import ArakoonNode
from .quoting import NO_LONGER_MASTER_MESSAGE
from .store import Mutation, Store, Transaction
from .updates import MAX_BUFFER_SIZE
from .view import UserFunction

__all__ = ["FIRST", "ArakoonCluster"]

T = TypeVar("T")
P = TypeVar("P", bound=Protocol)

#: Default of ``tlog_max_entries``, as in Arakoon.
TLOG_MAX_ENTRIES: Final = 100_000


class _First:
    def __repr__(self) -> str:
        return "FIRST"


#: Default of ``ArakoonCluster(master=...)``: the first node is master at once.
FIRST: Final = _First()


class _Timer:
    """A call on the cluster clock that can move to another clock."""

    def __init__(self, cluster: ArakoonCluster, delay: float, function: Callable[[], None]) -> None:
        self._cluster = cluster
        self._function = function
        self._call: IDelayedCall = cluster.clock.callLater(delay, self._fire)

    def _fire(self) -> None:
        self._cluster._timers.discard(self)
        self._function()

    def active(self) -> bool:
        return bool(self._call.active())

    def cancel(self) -> None:
        self._cluster._timers.discard(self)
        if self._call.active():
            self._call.cancel()

    def move(self, old: IReactorTime, new: IReactorTime) -> None:
        if self._call.active():
            remaining = max(0.0, self._call.getTime() - old.seconds())
            self._call.cancel()
            self._call = new.callLater(remaining, self._fire)


@dataclass
class _Held:
    """A write waiting on a master that lost its majority."""

    node: ArakoonNode
    run: Callable[[Transaction], Any]
    deferred: Deferred[Any]


class ArakoonCluster:
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
    :param lease_period: the master lease in seconds (``drop_master`` answers
        after half of it; a dead master is named until it expires).
    :param election_delay: seconds without master before a new one is elected,
        or ``None`` to wait for :meth:`elect`.
    :param user_functions: ``{name: function(transaction, argument)}`` (names
        ``bytes`` or ``str``) for the
        ``user_function`` command (see :mod:`txarakoon.testing.node`).
    :param max_value_size: the ``max_value_size`` of ``set`` & co (8 MiB).
    :param max_buffer_size: the largest serialized update (32 MiB).
    :param tlog_max_entries: updates per transaction log, which decides how
        many progress frames ``collapse_tlogs`` streams.
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
        #: The cluster id, as bytes.
        self.cluster_id: bytes = STRING.check(cluster_id)
        self._clock_given = clock is not None
        #: The clock of leases, elections and delays.
        self.clock: IReactorTime = clock if clock is not None else Clock()
        self.lease_period = lease_period
        self.election_delay = election_delay
        self.max_value_size = max_value_size
        self.max_buffer_size = max_buffer_size
        self.tlog_max_entries = tlog_max_entries
        #: The registered user functions, by name (bytes).
        self.user_functions: dict[bytes, UserFunction] = {}
        for name, function in (user_functions or {}).items():
            self.register_user_function(name, function)
        self._lag = lag
        self._timers: set[_Timer] = set()
        self._state = Store()
        self._log: list[list[Mutation]] = []
        self._log_start = 0
        self._held: list[_Held] = []
        self._links = MemoryLinks()
        self._nodes: dict[str, ArakoonNode] = {}
        for name in names:
            self._nodes[name] = ArakoonNode(self, name, self._links)
        self._master: str | None = None
        self._believed: str | None = None
        self._election: _Timer | None = None
        self._lease: _Timer | None = None
        self._stepdown: _Timer | None = None
        self._listening = False
        if isinstance(master, _First):
            self.elect(names[0])
        elif master is not None:
            self.elect(master)
        else:
            self._schedule_election(None)

    def __repr__(self) -> str:
        return (
            f"<ArakoonCluster {self.cluster_id.decode('utf-8', 'replace')} "
            f"nodes={list(self._nodes)} master={self._master} txid={self.txid}>"
        )

    # -- nodes ----------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        """The node names, in order."""
        return tuple(self._nodes)

    @property
    def nodes(self) -> Mapping[str, ArakoonNode]:
        """The nodes by name, in order."""
        return dict(self._nodes)

    def node(self, name: str) -> ArakoonNode:
        """The node called ``name`` (``KeyError`` if there is none)."""
        try:
            return self._nodes[name]
        except KeyError:
            raise KeyError(f"no node {name!r} in {list(self._nodes)}") from None

    def __getitem__(self, name: str) -> ArakoonNode:
        return self.node(name)

    def __iter__(self) -> Iterator[ArakoonNode]:
        return iter(list(self._nodes.values()))

    def __len__(self) -> int:
        return len(self._nodes)

    # -- data -----------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The latest agreed state (what the master sees). Read it, do not write it:
        use :meth:`seed` to change data behind the clients' backs."""
        return self._state

    @property
    def txid(self) -> int:
        """The number of updates agreed so far."""
        return self._state.txid

    def seed(self, items: Mapping[Any, bytes | str | None]) -> int:
        """Apply ``items`` (keys and values ``bytes`` or ``str``; a ``None`` value
        deletes) as one update, replicated like a client write, whatever the
        master situation. Returns the new txid."""
        mutations = [
            (STRING.check(key), None if value is None else STRING.check(value))
            for key, value in items.items()
        ]
        self._commit(mutations)
        return self.txid

    def register_user_function(self, name: bytes | str, function: UserFunction) -> None:
        """Make ``function`` callable with the ``user_function`` command."""
        self.user_functions[STRING.check(name)] = function

    @property
    def lag(self) -> int:
        """How many updates slaves lag behind the master. Lowering it lets the
        slaves catch up at once."""
        return self._lag

    @lag.setter
    def lag(self, value: int) -> None:
        if value < 0:
            raise ValueError(f"lag must not be negative, not {value}")
        self._lag = value
        self._replicate()

    def catch_up(self) -> None:
        """Let every live slave apply everything agreed so far (as if the next
        update had been agreed, without one)."""
        for node in self._nodes.values():
            if node.alive:
                node.catch_up(self.txid)

    # -- mastership -------------------------------------------------------------

    @property
    def master(self) -> str | None:
        """The node holding mastership now, or ``None``."""
        return self._master

    def who_master(self) -> str | None:
        """What every node answers to ``who_master`` now (a dead master until
        its lease expires)."""
        return self._believed

    def _has_majority(self) -> bool:
        alive = sum(1 for node in self._nodes.values() if node.alive)
        return alive * 2 > len(self._nodes)

    def progress_possible(self) -> bool:
        """What ``expect_progress_possible`` answers now."""
        return (len(self._nodes) == 1 or self._believed is not None) and self._has_majority()

    def elect(self, name: str) -> None:
        """Make ``name`` master now (it catches up first). Cancels pending elections."""
        node = self.node(name)
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
        node.catch_up(self.txid)
        self._replicate()
        self._watch_majority()

    def drop_master(self) -> None:
        """The master gives up mastership: no master until the next election
        (after :attr:`election_delay`, choosing another node; or :meth:`elect`)."""
        old = self._master
        if old is None:
            return
        self._step_down()
        self._schedule_election(old)

    def drop_master_on_request(self) -> Deferred[None]:
        """``drop_master`` sent to the master: answer after half a lease."""
        self.drop_master()
        answered: Deferred[None] = Deferred()
        self.call_later(self.lease_period / 2, lambda: answered.callback(None))
        return answered

    def _step_down(self) -> None:
        old = self._master
        self._master = self._believed = None
        if self._stepdown is not None:
            self._stepdown.cancel()
            self._stepdown = None
        if old is not None:
            self._fail_held(self._nodes[old])

    def _schedule_election(self, previous: str | None) -> None:
        if self.election_delay is None or self._election is not None:
            return
        self._election = self.call_later(self.election_delay, lambda: self._run_election(previous))

    def _run_election(self, previous: str | None) -> None:
        self._election = None
        if self._master is not None or not self._has_majority():
            return
        names = list(self._nodes)
        start = names.index(previous) + 1 if previous in self._nodes else 0
        for offset in range(len(names)):
            candidate = names[(start + offset) % len(names)]
            if self._nodes[candidate].alive:
                self.elect(candidate)
                return

    def _lease_expired(self) -> None:
        self._lease = None
        previous = self._believed
        if self._master is None:
            self._believed = None
            self._schedule_election(previous)

    def _watch_majority(self) -> None:
        """Start the master's countdown if it has lost its majority."""
        if self._master is None or len(self._nodes) == 1 or self._has_majority():
            return
        if self._stepdown is None:
            self._stepdown = self.call_later(self.lease_period, self._majority_lost)

    def _majority_lost(self) -> None:
        self._stepdown = None
        if self._has_majority():
            return
        previous = self._master
        self._step_down()
        self._schedule_election(previous)

    # -- failures ---------------------------------------------------------------

    def kill(self, name: str) -> Deferred[None]:
        """Kill a node: its port stops listening (connections are refused) and
        its open connections are cut. The Deferred fires once they are closed
        (for in-memory connections: after the next :meth:`flush`)."""
        node = self.node(name)
        if not node.alive:
            return succeed(None)
        closed = node.crash()
        if name == self._master:
            self._master = None
            self._fail_held(node)
            if self._stepdown is not None:
                self._stepdown.cancel()
                self._stepdown = None
            # The others keep naming it until its lease runs out.
            self._lease = self.call_later(self.lease_period, self._lease_expired)
        else:
            self._watch_majority()
        return closed

    def revive(self, name: str) -> Deferred[None]:
        """Restart a killed node as a slave: it catches up, listens again on its
        old port (if the cluster listens), and may take part in elections. It is
        no longer stalled or going down (reply delays, cuts and
        ``max_connections`` stay). The Deferred fires once it listens."""
        node = self.node(name)
        if node.alive:
            return succeed(None)
        node.restart()
        self._replicate()
        listening = node.listen_again() if self._listening else succeed(None)
        if self._has_majority():
            if self._stepdown is not None:
                self._stepdown.cancel()
                self._stepdown = None
            self._release_held()
            if self._master is None and self._believed is None:
                self._schedule_election(None)
        return listening

    def no_longer_master(self, name: str, count: int = 1, applied: bool = True) -> None:
        """Make node ``name`` answer its next ``count`` writes with 0x21
        NoLongerMaster. ``applied``: whether those writes are applied anyway
        (default, what production usually did) or not. Mastership is unchanged."""
        self.node(name).no_longer_master(count, applied)

    # -- updates ----------------------------------------------------------------

    def live_txids(self) -> dict[str, int]:
        """How many updates each live node has applied, by name."""
        return {node.name: node.store.txid for node in self._nodes.values() if node.alive}

    def propose(self, proposer: str, run: Callable[[Transaction], T]) -> T | Deferred[T]:
        """Agree on one update that node ``proposer`` accepted (after its role checks)."""
        node = self.node(proposer)
        applied = node.pop_no_longer_master()
        if applied is not None:
            if applied:
                with suppress(ArakoonError):
                    self._execute(run)
            raise NoLongerMaster(NO_LONGER_MASTER_MESSAGE)
        if len(self._nodes) > 1 and not self._has_majority():
            waiting: Deferred[T] = Deferred()
            self._held.append(_Held(node, run, waiting))
            return waiting
        return self._execute(run)

    def _execute(self, run: Callable[[Transaction], T]) -> T:
        transaction = Transaction(self._state)
        try:
            result = run(transaction)
        except ArakoonError:
            # A failing update still takes its number (and keeps D19's deletions).
            self._commit(transaction.failed_mutations())
            raise
        self._commit(transaction.mutations())
        return result

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
                result = self._execute(item.run)
            except ArakoonError as error:
                item.deferred.errback(error)
            else:
                item.deferred.callback(result)

    def _commit(self, mutations: list[Mutation]) -> None:
        self._log.append(mutations)
        self._state.apply(mutations)
        self._replicate()

    def mutations_of(self, txid: int) -> list[Mutation]:
        """The writes of agreed update ``txid``, while some node has yet to apply it."""
        return self._log[txid - 1 - self._log_start]

    def _replicate(self) -> None:
        total = self.txid
        single = len(self._nodes) == 1
        for node in self._nodes.values():
            if node.alive:
                target = total if single or node.name == self._master else total - self._lag
                node.catch_up(target)
        # Forget updates every node has applied.
        oldest = min(node.store.txid for node in self._nodes.values())
        if oldest > self._log_start:
            del self._log[: oldest - self._log_start]
            self._log_start = oldest

    # -- time -----------------------------------------------------------------

    def call_later(self, delay: float, function: Callable[..., None], *args: Any) -> _Timer:
        """Call ``function(*args)`` after ``delay`` seconds on the cluster clock
        (cancelled by :meth:`stop`)."""
        timer = _Timer(self, delay, lambda: function(*args))
        self._timers.add(timer)
        return timer

    def advance(self, seconds: float) -> None:
        """Advance the cluster's :class:`~twisted.internet.task.Clock` by
        ``seconds``, then :meth:`flush` the in-memory connections."""
        if not isinstance(self.clock, Clock):
            raise TypeError("advance() needs the cluster clock to be a task.Clock")
        self.flush()
        self.clock.advance(seconds)
        self.flush()

    # -- running on real ports ----------------------------------------------------

    def listen(
        self,
        reactor: IReactorTCP,
        interface: str = "127.0.0.1",
        ports: Mapping[str, int] | None = None,
    ) -> dict[str, tuple[str, int]]:
        """Listen on TCP ports with every live node (``ports``: ``{name: port}``;
        0, the default, picks a free port); returns ``{name: (host, port)}``.
        Without an explicit ``clock``, the cluster now keeps time with
        ``reactor`` (pending elections move to it). Call :meth:`stop` when done."""
        if not self._clock_given and IReactorTime.providedBy(reactor):
            old, self.clock = self.clock, reactor
            for timer in list(self._timers):
                timer.move(old, self.clock)
            for node in self._nodes.values():
                node.clock_changed()
            self._clock_given = True
        self._listening = True
        ports = ports or {}
        for node in self._nodes.values():
            node.serve(reactor, interface, ports.get(node.name, 0))
        return self.addresses

    @property
    def addresses(self) -> dict[str, tuple[str, int]]:
        """``{name: (host, port)}`` of the nodes that listen (or did, if dead)."""
        return {
            name: node.address for name, node in self._nodes.items() if node.address is not None
        }

    def _address(self, name: str) -> tuple[str, int]:
        address = self.node(name).address
        if address is None:
            raise RuntimeError(f"node {name} has no port: call listen() first")
        return address

    def endpoint(self, name: str | None = None) -> str:
        """A client endpoint string for node ``name`` (default: the master),
        e.g. ``"tcp:host=127.0.0.1:port=4000"``."""
        host, port = self._address(self._name_or_master(name))
        return f"tcp:host={host}:port={port}"

    def config(self) -> ClusterConfig:
        """A client configuration for the cluster as it listens (needs
        :meth:`listen`)."""
        addresses = {name: self._address(name) for name in self._nodes}
        return ClusterConfig(
            self.cluster_id, {name: ([host], port) for name, (host, port) in addresses.items()}
        )

    def ini(self) -> str:
        """The cluster's client configuration in Arakoon's ``.ini`` form."""
        return self.config().to_ini()

    def nodes_spec(self) -> str:
        """``CLUSTER_ID@name=host:port,...``: the ``TXARAKOON_TEST_NODES`` format."""
        return self.config().to_spec()

    def stop(self) -> Deferred[None]:
        """Stop listening, cut every connection and cancel pending timers; the
        Deferred fires once every port and connection is closed."""
        for timer in list(self._timers):
            timer.cancel()
        self._election = self._lease = self._stepdown = None
        self._listening = False
        closing = [node.stop_serving() for node in self._nodes.values()]
        self.flush()
        return gatherResults(closing).addCallback(lambda _: None)

    # -- running in memory ---------------------------------------------------------

    def _name_or_master(self, name: str | None) -> str:
        if name is not None:
            return name
        if self._master is None:
            raise RuntimeError("there is no master: name the node to connect to")
        return self._master

    @overload
    def connect_in_memory(
        self, name: str | None = None, client: None = None
    ) -> MemoryConnection[ArakoonProtocol]: ...
    @overload
    def connect_in_memory(self, name: str | None, client: P) -> MemoryConnection[P]: ...
    def connect_in_memory(self, name: str | None = None, client: Any = None) -> Any:
        """Connect ``client`` (default: a new
        :class:`~txarakoon.protocol.ArakoonProtocol`) to node ``name`` (default:
        the master) without sockets. See :func:`~txarakoon.testing.memory.connect_in_memory`."""
        return connect_in_memory(self.node(self._name_or_master(name)), client)

    def flush(self) -> bool:
        """Move bytes over every in-memory connection until none move; whether
        any did."""
        return self._links.flush()
