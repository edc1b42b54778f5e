"""One in-memory Arakoon node: a Twisted ``ServerFactory`` speaking the real protocol.

:class:`ArakoonNode` belongs to an :class:`~txarakoon.testing.cluster.ArakoonCluster`
(a single node is a cluster of one). Each connection is a :class:`NodeProtocol`
that reads the prologue and then one request at a time with the receive
coroutines of :mod:`txarakoon.messages` (the very declarations the client
uses), executes it and writes the reply with
:func:`~txarakoon.messages.encode_success` / :func:`~txarakoon.messages.encode_error`.

What a client sees is what Arakoon 1.9.25 does (PROTOCOL.md §1, §4–§8):

* a wrong prologue (magic, version, cluster id) closes the connection without a
  byte; a command word without the magic gets only ``01 00 00 00`` (NoMagic) and
  the connection is closed; an unknown opcode gets code 5 with
  ``"<opcode in hex>: command not found"`` and the connection is closed;
* a request whose arguments cannot be decoded (a consistency tag other than
  0/1/2, a bad bool or option byte) closes the connection silently, except for
  ``hello``, ``test_and_set``, ``replace``, ``delete_prefix``, ``sequence`` and
  ``synced_sequence``, whose argument reading the server wraps: those answer
  0xff ``unknown failure`` (``should have been a sequence`` for a payload that
  is not a Sequence) and close;
* after an error reply the connection is closed unless the code is 0x05, 0x07,
  0x21, 0x26 or 0x80 (§1.5);
* requests pipelined in one packet are answered in order, one at a time;
* a value of ``max_value_size`` (8 MiB) or more in ``set``, ``confirm``,
  ``test_and_set`` or ``replace`` gets 0xff ``unknown failure`` and the connection
  is closed (§6.3, D5);
* writes and Consistent reads on a node that is not the master get 0x04
  NotMaster naming the master (or ``None``) and the connection is closed;
  ``AtLeast(i)`` reads on a node that has not applied update ``i`` get 0x80
  ``store not fresh enough``.

Observed server behaviours reproduced on purpose (PROTOCOL.md §11), so that your
tests see what production does:

* **D16** — ``test_and_set`` of a missing key with an expected value returns
  ``None`` and changes nothing; it never answers NotFound.
* **D19** — a failing ``sequence`` does not undo an earlier ``DeletePrefix``
  step: the keys it deleted stay deleted, every point write is undone.
* **D20** — inside a sequence, ``DeletePrefix`` and ``AssertRange`` see the
  store as it was before the sequence; ``Delete``, ``Assert`` and
  ``AssertExists`` see the writes of earlier steps.
* **D21** — the 8 MiB value limit does not apply to ``Set``/``Replace`` steps; an
  update (e.g. a sequence) whose serialized size exceeds ``max_buffer_size``
  (32 MiB) gets 0x26 ``update <description> has size N > M``.
* **D22** — any negative ``max_elements`` means "all".
* **D23** — a failing ``AssertRange`` answers 0x07 with
  ``ContainsExactly [ "<keys joined by '; ' in the server's order>" ] actual:
  <matching keys joined by ','>``. The server compares the keys *as it read
  them* (wire order reversed) with the ascending actual keys, so keys must be
  sent descending (:class:`txarakoon.sequence.AssertRange` does that).

Every update (a write, a failing one included, ``nop``, a user function) takes
the next transaction number: ``get_txid`` counts them. Unlike a real node, an
idle cluster's txid does not advance (D24), and elections add no update.

User functions are Python callables registered on the cluster,
``function(transaction, argument) -> bytes | None``, where ``transaction`` is a
:class:`~txarakoon.testing.store.Transaction` (``get``, ``exists``, ``put``,
``set``, ``delete``, ``prefix_keys``, ``range_entries``, ...) whose writes are
committed atomically when the function returns. An unknown name gets 0x26
``User function "name" could not be found`` (connection kept); a function that
raises gets 0x81 with ``str(exception)`` (connection closed) — unless it raises
an :class:`~txarakoon.errors.ArakoonError`, whose code and message are sent as
they are, as the real server does for its own exceptions.

Deliberately not implemented: the nursery/interval commands, ``get_db``,
``user_hook``, the node-to-node ``last_entries*`` streams (they get "command not
found"), read-only nodes, witnesses, and the internal sequence steps
(TestAndSet, UserFunction, AdminSet, ... — :mod:`txarakoon.sequence` does not
decode them, so a sequence containing one gets 0xff ``unknown failure``; on a
real node a UserFunction step may crash the cluster, D18).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final, TypeVar

from twisted.internet.defer import Deferred, gatherResults, maybeDeferred, succeed
from twisted.internet.interfaces import IAddress, IListeningPort, IReactorTCP
from twisted.internet.protocol import Protocol, ServerFactory, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from .. import messages
from ..codec import DEFAULT_MAX_REPLY_LENGTH, STRING, UINT32, Product
from ..consistency import AtLeast, Consistency, Consistent
from ..errors import (
    ArakoonError,
    AssertionFailed,
    BadInput,
    GoingDown,
    InconsistentRead,
    MaxConnections,
    NoMagic,
    NotFound,
    NotMaster,
    NotSupported,
    ProtocolViolation,
    UnknownFailure,
    UnsupportedCommand,
    UserFunctionFailure,
)
from ..messages import Command, Statistics, Version
from ..reader import NEED_DATA, Decoder, Reader
from ..sequence import Delete, DeletePrefix, Replace, Sequence, Set
from .quoting import NO_LONGER_MASTER_MESSAGE, UNKNOWN_FAILURE, ocaml_quoted
from .statistics import NodeStatistics
from .steps import run_steps
from .store import Store, Transaction
from .updates import (
    MAX_BUFFER_SIZE,
    NOP,
    SyncedSequenceUpdate,
    TestAndSetUpdate,
    Update,
    UserFunctionUpdate,
    describe,
    serialized_size,
)

if TYPE_CHECKING:
    from .cluster import ArakoonCluster

# Some of these live with their kin now, and stay importable from here.
__all__ = [
    "ARAKOON_VERSION",
    "MAX_BUFFER_SIZE",
    "NO_LONGER_MASTER_MESSAGE",
    "ArakoonNode",
    "NodeProtocol",
    "UserFunction",
    "iter_handlers",
    "ocaml_quoted",
]

T = TypeVar("T")

#: The version this server claims to be: ``hello`` and ``version`` answer it.
ARAKOON_VERSION: Final = (1, 9, 25)

#: A user function: ``(transaction, argument) -> result``.
UserFunction = Callable[[Transaction, "bytes | None"], "bytes | str | None"]

_HELLO: Final = b"Arakoon %d.%d.%d" % ARAKOON_VERSION
_NOT_FRESH: Final = b"store not fresh enough"
_ON_MASTER: Final = b"Operation cannot be performed on master node"
_SINGLETON: Final = b"drop master not supported for singletons"
_CLOSING: Final = b"closing socket"
_TOO_MANY: Final = b"too many clients"
_MASK: Final = 0x0000FFFF

_NOT_A_SEQUENCE: Final = "should have been a sequence"

# The collapse_tlogs progress values are opaque (§8.6); these grow like the
# server's (about 0.6 ms apart in its units of 2**-22 s).
_COLLAPSE_STEP: Final = 2621


# ---------------------------------------------------------------------------
# The node.


F = TypeVar("F", bound=Callable[..., Any])


def _handles(command: Command[Any]) -> Callable[[F], F]:
    """Mark a method of :class:`ArakoonNode` as the handler of ``command``."""

    def mark(function: F) -> F:
        function.handles = command  # type: ignore[attr-defined]
        return function

    return mark


class ArakoonNode(ServerFactory):
    """One node of an in-memory cluster; a ``ServerFactory`` for its client port.

    Create nodes through :class:`~txarakoon.testing.cluster.ArakoonCluster`.
    Besides serving connections, a node offers controls for tests:
    :meth:`delay_replies`, :meth:`stall` / :meth:`unstall`,
    :meth:`cut_connections_after`, :meth:`drop_connections`, and the attributes
    :attr:`going_down` and :attr:`max_connections`.

    :ivar name: the node name (``str``).
    :ivar store: the node's own copy of the data; on a slave it lags the master
        (see :attr:`ArakoonCluster.lag <txarakoon.testing.cluster.ArakoonCluster.lag>`).
    :ivar address: ``(host, port)`` once listening on a real port, else ``None``.
    :ivar going_down: when true, new connections get 0x10 ``closing socket``
        at once and are closed (a node shutting down, §1.3).
    :ivar max_connections: when set, a connection beyond this many open ones
        gets 0xfe ``too many clients`` at once and is closed (§1.3).
    :ivar reply_delay: seconds (on the cluster clock) each reply waits before
        it is written; the request itself is executed at once.
    """

    noisy = False
    log = Logger()

    def __init__(self, cluster: ArakoonCluster, name: str) -> None:
        self.cluster = cluster
        self.name = name
        self.name_bytes = name.encode("utf-8")
        self.store = Store()
        self.address: tuple[str, int] | None = None
        self.going_down = False
        self.max_connections: int | None = None
        self.reply_delay = 0.0
        self.stalled = False
        self.cut_after: int | None = None
        self._alive = True
        self._connections: list[NodeProtocol] = []
        self._accepted: list[NodeProtocol] = []
        self._no_longer_master: deque[bool] = deque()
        self._collapsed_upto = 0
        self._statistics = NodeStatistics(cluster.clock.seconds())
        self._port: IListeningPort | None = None
        self._reactor: IReactorTCP | None = None
        self._interface = "127.0.0.1"
        self._stopping: Deferred[None] = succeed(None)
        self._idle_waiters: list[Deferred[None]] = []

    def __repr__(self) -> str:
        role = "master" if self.is_master else "slave"
        state = role if self._alive else "dead"
        return f"<ArakoonNode {self.name} {state} txid={self.store.txid}>"

    # -- state ----------------------------------------------------------------

    @property
    def alive(self) -> bool:
        """Whether the node runs (see ``cluster.kill`` / ``cluster.revive``)."""
        return self._alive

    @property
    def is_master(self) -> bool:
        """Whether this node holds mastership now."""
        return self.cluster.master == self.name

    @property
    def connections(self) -> list[NodeProtocol]:
        """The open server-side connections of this node."""
        return list(self._connections)

    def who_master(self) -> str | None:
        """What ``who_master`` answers on this node."""
        return self.cluster._believed_master()

    # -- controls -------------------------------------------------------------

    def delay_replies(self, seconds: float) -> None:
        """Write every reply ``seconds`` after its request was executed (0: stop)."""
        if seconds < 0:
            raise ValueError(f"delay must not be negative, not {seconds}")
        self.reply_delay = seconds

    def stall(self) -> None:
        """Freeze the node like a stopped process: connections are accepted but
        nothing is read, executed or written until :meth:`unstall`."""
        self.stalled = True

    def unstall(self) -> None:
        """Resume a stalled node: held replies are written, buffered requests run."""
        self.stalled = False
        for connection in list(self._connections):
            connection._resume()

    def cut_connections_after(self, reply_bytes: int | None) -> None:
        """Close each connection (open ones and new ones) once it has written
        ``reply_bytes`` more reply bytes; a reply crossing the limit is cut
        in the middle. ``None`` disarms."""
        if reply_bytes is not None and reply_bytes < 0:
            raise ValueError(f"reply_bytes must not be negative, not {reply_bytes}")
        self.cut_after = reply_bytes
        for connection in self._connections:
            connection.cut_after(reply_bytes)

    def no_longer_master(self, count: int = 1, applied: bool = True) -> None:
        """Answer the next ``count`` writes with 0x21 NoLongerMaster. With
        ``applied`` the write is applied anyway (what usually happened in
        production); without, it is not. The node keeps its role."""
        if count < 0:
            raise ValueError(f"count must not be negative, not {count}")
        self._no_longer_master.extend([applied] * count)

    def drop_connections(self) -> None:
        """Cut every open connection of this node at once (no reply)."""
        for connection in list(self._connections):
            connection.abort()

    # -- ServerFactory --------------------------------------------------------

    def buildProtocol(self, addr: IAddress | None) -> NodeProtocol | None:
        if not self._alive:
            return None
        protocol = NodeProtocol(self)
        protocol.factory = self
        return protocol

    # -- listening and connections (used by the cluster) ----------------------

    def _listen(self, reactor: IReactorTCP, interface: str, port: int) -> None:
        self._reactor = reactor
        self._interface = interface
        self._port = reactor.listenTCP(port, self, interface=interface)
        self.address = (interface, self._port.getHost().port)  # type: ignore[attr-defined]

    def _relisten(self) -> Deferred[None]:
        """Listen again on the same port, once the old one is closed."""
        done: Deferred[None] = Deferred()

        def listen(result: object) -> object:
            if self._reactor is not None and self._alive and self._port is None:
                port = self.address[1] if self.address is not None else 0
                try:
                    self._listen(self._reactor, self._interface, port)
                except Exception:
                    done.errback()
                    return result
            done.callback(None)
            return result

        self._stopping.addBoth(listen)
        return done

    def _shut(self) -> Deferred[None]:
        """Stop listening and cut every connection; fires when all are gone."""
        port, self._port = self._port, None
        if port is not None:
            stopped: Deferred[Any] = maybeDeferred(port.stopListening)
            self._stopping = stopped.addCallback(lambda _: None)
        self.drop_connections()
        waiting = gatherResults([self._stopping, self._when_idle()])
        return waiting.addCallback(lambda _: None)

    def _when_idle(self) -> Deferred[None]:
        if not self._connections:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._idle_waiters.append(waiter)
        return waiter

    def _connection_lost(self, connection: NodeProtocol) -> None:
        if connection in self._connections:
            self._connections.remove(connection)
        if connection in self._accepted:
            self._accepted.remove(connection)
        if not self._connections:
            waiters, self._idle_waiters = self._idle_waiters, []
            for waiter in waiters:
                waiter.callback(None)

    def _refusal(self, connection: NodeProtocol) -> ArakoonError | None:
        """The error to send at connect time, or None to accept (§1.3)."""
        if self.going_down:
            return GoingDown(_CLOSING)
        if self.max_connections is not None and len(self._accepted) >= self.max_connections:
            return MaxConnections(_TOO_MANY)
        self._accepted.append(connection)
        return None

    def _catch_up(self, target: int) -> None:
        store = self.store
        while store.txid < target:
            store.apply(self.cluster._update_mutations(store.txid + 1))

    # -- role checks (sync_backend.ml) ----------------------------------------

    def _write_allowed(self) -> None:
        if len(self.cluster.nodes) == 1:
            return
        master = self.who_master()
        if master is None:
            raise NotMaster(b"None")
        if master != self.name:
            raise NotMaster(master.encode("utf-8"))

    def _read_allowed(self, consistency: Consistency) -> None:
        if consistency is Consistent:
            self._write_allowed()
        elif isinstance(consistency, AtLeast) and consistency.i > self.store.txid:
            raise InconsistentRead(_NOT_FRESH)

    def _not_if_master(self) -> None:
        if self.who_master() == self.name:
            raise NotSupported(_ON_MASTER)

    def _check_value_size(self, value: bytes | None) -> None:
        # The server raises an exception its reply mapper does not know (D5).
        if value is not None and len(value) >= self.cluster.max_value_size:
            raise UnknownFailure(UNKNOWN_FAILURE)

    def _update(self, update: Update, run: Callable[[Transaction], T]) -> T | Deferred[T]:
        """Push an update through "Paxos": role check, size check, commit."""
        self._write_allowed()
        size = serialized_size(update)
        limit = self.cluster.max_buffer_size
        if size > limit:
            raise BadInput(b"update %s has size %d > %d" % (describe(update), size, limit))
        return self.cluster._push(self, run)

    # -- commands -------------------------------------------------------------

    def _dispatch(self, command: Command[Any], args: tuple[Any, ...]) -> Any:
        return _HANDLERS[command](self, *args)

    @_handles(messages.HELLO)
    def _cmd_hello(self, client_id: bytes, cluster_id: bytes) -> bytes:
        if cluster_id != self.cluster.cluster_id:
            raise UnknownFailure(UNKNOWN_FAILURE)
        return _HELLO

    @_handles(messages.WHO_MASTER)
    def _cmd_who_master(self) -> bytes | None:
        master = self.who_master()
        return None if master is None else master.encode("utf-8")

    @_handles(messages.EXISTS)
    def _cmd_exists(self, consistency: Consistency, key: bytes) -> bool:
        self._read_allowed(consistency)
        return key in self.store

    @_handles(messages.GET)
    def _cmd_get(self, consistency: Consistency, key: bytes) -> bytes:
        self._read_allowed(consistency)
        value = self.store.get(key)
        if value is None:
            raise NotFound(b"Not_found")
        self._statistics.record("get_info", "avg_get_size", len(value))
        return value

    @_handles(messages.SET)
    def _cmd_set(self, key: bytes, value: bytes) -> Any:
        self._check_value_size(value)

        def run(transaction: Transaction) -> None:
            transaction.set(key, value)
            self._statistics.record("set_info", "avg_set_size", len(value))

        return self._update(Set(key, value), run)

    @_handles(messages.DELETE)
    def _cmd_delete(self, key: bytes) -> Any:
        def run(transaction: Transaction) -> None:
            if not transaction.delete(key):
                raise NotFound(key)
            self._statistics.record("del_info")

        return self._update(Delete(key), run)

    # The range reads take (consistency, *bounds): first or high, its
    # inclusive flag, last or low, its flag, max_elements, as Store's do.

    @_handles(messages.RANGE)
    def _cmd_range(self, consistency: Consistency, *bounds: Any) -> list[bytes]:
        self._read_allowed(consistency)
        keys = self.store.range(*bounds)
        self._statistics.record("range_info", "avg_range_size", len(keys))
        return keys

    @_handles(messages.RANGE_ENTRIES)
    def _cmd_range_entries(
        self, consistency: Consistency, *bounds: Any
    ) -> list[tuple[bytes, bytes]]:
        self._read_allowed(consistency)
        entries = self.store.range_entries(*bounds)
        self._statistics.record("range_entries_info", "avg_range_entries_size", len(entries))
        return entries

    @_handles(messages.REV_RANGE_ENTRIES)
    def _cmd_rev_range_entries(
        self, consistency: Consistency, *bounds: Any
    ) -> list[tuple[bytes, bytes]]:
        self._read_allowed(consistency)
        entries = self.store.rev_range_entries(*bounds)
        self._statistics.record(
            "rev_range_entries_info", "avg_rev_range_entries_size", len(entries)
        )
        return entries

    @_handles(messages.PREFIX_KEYS)
    def _cmd_prefix_keys(
        self, consistency: Consistency, prefix: bytes, max_elements: int
    ) -> list[bytes]:
        self._read_allowed(consistency)
        keys = self.store.prefix_keys(prefix, max_elements)
        self._statistics.record("prefix_info", "avg_prefix_size", len(keys))
        return keys

    @_handles(messages.TEST_AND_SET)
    def _cmd_test_and_set(self, key: bytes, expected: bytes | None, wanted: bytes | None) -> Any:
        self._check_value_size(wanted)

        def run(transaction: Transaction) -> bytes | None:
            current = transaction.get(key)
            if current == expected:  # D16: a missing key never matches Some
                transaction.put(key, wanted)
            self._statistics.record("tas_info")
            return current

        return self._update(TestAndSetUpdate(key, expected, wanted), run)

    @_handles(messages.REPLACE)
    def _cmd_replace(self, key: bytes, wanted: bytes | None) -> Any:
        self._check_value_size(wanted)

        def run(transaction: Transaction) -> bytes | None:
            current = transaction.get(key)
            transaction.put(key, wanted)
            self._statistics.record("replace_info")
            return current

        return self._update(Replace(key, wanted), run)

    def _sequence(self, update: Update, steps: Sequence) -> Any:
        def run(transaction: Transaction) -> None:
            run_steps(transaction, steps.steps)
            self._statistics.record("seq_info")

        return self._update(update, run)

    @_handles(messages.SEQUENCE)
    def _cmd_sequence(self, steps: Sequence) -> Any:
        return self._sequence(steps, steps)

    @_handles(messages.SYNCED_SEQUENCE)
    def _cmd_synced_sequence(self, steps: Sequence) -> Any:
        return self._sequence(SyncedSequenceUpdate(steps), steps)

    @_handles(messages.MULTI_GET)
    def _cmd_multi_get(self, consistency: Consistency, keys: list[bytes]) -> list[bytes | None]:
        self._read_allowed(consistency)
        # The server walks the keys in the order it read them (wire order
        # reversed) and stops at the first missing one (§6.2).
        for key in reversed(keys):
            if key not in self.store:
                raise NotFound(key)
        self._statistics.record("mget_info")
        return [self.store.get(key) for key in keys]

    @_handles(messages.MULTI_GET_OPTION)
    def _cmd_multi_get_option(
        self, consistency: Consistency, keys: list[bytes]
    ) -> list[bytes | None]:
        self._read_allowed(consistency)
        self._statistics.record("mget_option_info")
        return [self.store.get(key) for key in keys]

    @_handles(messages.EXPECT_PROGRESS_POSSIBLE)
    def _cmd_expect_progress_possible(self) -> bool:
        return self.cluster._progress_possible()

    @_handles(messages.STATISTICS_COMMAND)
    def _cmd_statistics(self) -> Statistics:
        return self.statistics()

    @_handles(messages.COLLAPSE_TLOGS)
    def _cmd_collapse_tlogs(self, count: int) -> list[int]:
        if count < 1:
            raise UnknownFailure(b"%d is not acceptable" % count)
        entries = self.cluster.tlog_max_entries
        completed = (self.store.txid - self._collapsed_upto) // entries
        to_collapse = max(0, completed - count)
        self._collapsed_upto += to_collapse * entries
        # The 1.9 server announces tlogs to collapse + 2 frames (§8.6).
        frames = to_collapse + 2 if to_collapse else 0
        return [(index + 1) * _COLLAPSE_STEP for index in range(frames)]

    @_handles(messages.USER_FUNCTION)
    def _cmd_user_function(self, name: bytes, argument: bytes | None) -> Any:
        function = self.cluster.user_functions.get(name)
        if function is None:
            raise BadInput(b"User function %s could not be found" % ocaml_quoted(name))

        def run(transaction: Transaction) -> bytes | None:
            try:
                result = function(transaction, argument)
            except ArakoonError:
                raise
            except Exception as error:
                raise UserFunctionFailure(str(error).encode("utf-8", "backslashreplace")) from error
            if isinstance(result, str):
                return result.encode("utf-8")
            if result is not None and not isinstance(result, bytes):
                raise UserFunctionFailure(
                    b"user function returned %s, not bytes" % type(result).__name__.encode()
                )
            return result

        return self._update(UserFunctionUpdate(name, argument), run)

    @_handles(messages.ASSERT)
    def _cmd_assert(self, consistency: Consistency, key: bytes, value: bytes | None) -> None:
        self._read_allowed(consistency)
        if self.store.get(key) != value:
            raise AssertionFailed(key)

    @_handles(messages.GET_KEY_COUNT)
    def _cmd_get_key_count(self) -> int:
        self._read_allowed(Consistent)
        return len(self.store)

    @_handles(messages.CONFIRM)
    def _cmd_confirm(self, key: bytes, value: bytes) -> Any:
        self._check_value_size(value)
        self._read_allowed(Consistent)
        if self.store.get(key) == value:
            return None  # no update at all: the txid does not move
        return self._cmd_set(key, value)

    @_handles(messages.OPTIMIZE_DB)
    def _cmd_optimize_db(self) -> None:
        self._not_if_master()

    @_handles(messages.DEFRAG_DB)
    def _cmd_defrag_db(self) -> None:
        self._not_if_master()

    @_handles(messages.DELETE_PREFIX)
    def _cmd_delete_prefix(self, prefix: bytes) -> Any:
        def run(transaction: Transaction) -> int:
            count = transaction.delete_prefix(prefix)
            self._statistics.record("delete_prefix_info", "avg_del_prefix_size", count)
            return count

        return self._update(DeletePrefix(prefix), run)

    @_handles(messages.VERSION_COMMAND)
    def _cmd_version(self) -> Version:
        info = b"revision: %s\ncompiled: %s\nmachine: %s\n" % (
            ocaml_quoted(b"txarakoon.testing"),
            ocaml_quoted(b"in-memory"),
            ocaml_quoted(self.name_bytes),
        )
        return (*ARAKOON_VERSION, info)

    @_handles(messages.ASSERT_EXISTS)
    def _cmd_assert_exists(self, consistency: Consistency, key: bytes) -> None:
        self._read_allowed(consistency)
        if key not in self.store:
            raise AssertionFailed(key)

    @_handles(messages.DROP_MASTER)
    def _cmd_drop_master(self) -> Deferred[None] | None:
        if len(self.cluster.nodes) == 1:
            raise NotSupported(_SINGLETON)
        if self.who_master() == self.name:
            return self.cluster._drop_master_command(self)
        return None

    @_handles(messages.CURRENT_STATE)
    def _cmd_current_state(self) -> bytes:
        if self.is_master:
            return b"Stable_master"
        if self.who_master() is not None:
            return b"Slave_steady_state"
        return b"Slave_waiting_for_prepare"

    @_handles(messages.NOP)
    def _cmd_nop(self) -> Any:
        return self._update(NOP, lambda transaction: None)

    @_handles(messages.FLUSH_STORE)
    def _cmd_flush_store(self) -> None:
        return None

    @_handles(messages.GET_TXID)
    def _cmd_get_txid(self) -> Consistency:
        return AtLeast(self.store.txid)

    @_handles(messages.COPY_DB_TO_HEAD)
    def _cmd_copy_db_to_head(self, tlogs_to_keep: int) -> None:
        if tlogs_to_keep < 1:
            raise UnknownFailure(b"tlogs_to_keep=%d is not acceptable" % tlogs_to_keep)
        self._not_if_master()

    # -- statistics -------------------------------------------------------------

    def statistics(self) -> Statistics:
        """The node's statistics, in the real server's field layout (§8.1)."""
        node_is = {node.name: node.store.txid for node in self.cluster if node.alive}
        return self._statistics.report(self.cluster.clock.seconds(), node_is)


#: The prologue's magic and version; its cluster id (a string) follows.
_PROLOGUE_HEAD: Final = Product(UINT32, UINT32)


def _command_for(word: int) -> Command[Any]:
    """The command a request's first word names, or _Close with the reply the
    real server gives."""
    if word & messages.MAGIC != messages.MAGIC:
        raise _Close(messages.encode_error(NoMagic()))
    opcode = word & _MASK
    command = messages.COMMANDS_BY_OPCODE.get(opcode)
    if command is None:
        message = b"%x: command not found" % opcode
        raise _Close(messages.encode_error(UnsupportedCommand(message)))
    return command


def _bad_arguments(command: Command[Any], error: ProtocolViolation) -> _Close:
    """How the real server answers arguments it cannot decode."""
    if not command.answers_bad_arguments:
        return _Close(b"")
    text = str(error)
    message = text.encode() if text == _NOT_A_SEQUENCE else UNKNOWN_FAILURE
    return _Close(messages.encode_error(UnknownFailure(message)))


class _Close(Exception):
    """Write ``reply`` (possibly nothing) and close the connection."""

    def __init__(self, reply: bytes) -> None:
        super().__init__(reply)
        self.reply = reply


class NodeProtocol(Protocol):
    """One client connection to an :class:`ArakoonNode`.

    Reads incrementally (bytes may arrive in any chunks) with a linear buffer,
    handles one request at a time, in order.

    :ivar node: the node.
    :ivar requests: how many requests were answered on this connection.
    :ivar bytes_written: how many reply bytes were written.
    """

    log = Logger()

    def __init__(self, node: ArakoonNode, limit: int = DEFAULT_MAX_REPLY_LENGTH) -> None:
        self.node = node
        self.limit = limit
        self.requests = 0
        self.bytes_written = 0
        self._reader = Reader(limit)
        # What comes next on the wire: the prologue's head, its cluster id, a
        # request's command word, or the arguments of `_command`.
        self._expecting: Decoder[Any] = _PROLOGUE_HEAD
        self._command: Command[Any] | None = None
        self._started = False
        self._greeted = False
        self._busy = False
        self._draining = False
        self._closing = False
        self._cut_remaining: int | None = node.cut_after
        self._held: list[tuple[bytes, bool]] = []

    def __repr__(self) -> str:
        return f"<NodeProtocol {self.node.name} requests={self.requests}>"

    @property
    def closing(self) -> bool:
        """Whether this connection is closed or closing."""
        return self._closing

    def cut_after(self, reply_bytes: int | None) -> None:
        """Close this connection once it has written ``reply_bytes`` more bytes."""
        self._cut_remaining = reply_bytes

    def abort(self) -> None:
        """Cut the connection now, without a reply."""
        self._closing = True
        if self.transport is not None:
            self.transport.abortConnection()  # type: ignore[attr-defined]

    # -- Protocol ---------------------------------------------------------------

    def connectionMade(self) -> None:
        self.node._connections.append(self)
        if not self.node.stalled:
            self._start()

    def dataReceived(self, data: bytes) -> None:
        if self._closing:
            return
        self._reader.feed(data)
        self._drain()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._closing = True
        self._reader.clear()
        self.node._connection_lost(self)

    # -- internals ----------------------------------------------------------------

    def _start(self) -> None:
        self._started = True
        refusal = self.node._refusal(self)
        if refusal is not None:
            self._write(messages.encode_error(refusal))
            self._close()
            return
        self._drain()

    def _resume(self) -> None:
        if self._closing:
            return
        if not self._started:
            self._start()
            return
        held, self._held = self._held, []
        for reply, close in held:
            self._deliver(reply, close)
        self._drain()

    def _drain(self) -> None:
        if self._draining:
            return
        self._draining = True
        try:
            self._drain_loop()
        finally:
            self._draining = False

    def _drain_loop(self) -> None:
        while self._started and not (self._busy or self._closing or self.node.stalled):
            try:
                if not self._read_next():
                    return
            except _Close as close:
                if close.reply:
                    self._write(close.reply)
                self._close()
            except Exception:
                self.log.failure("Closing a connection to {node}", node=self.node.name)
                self._close()

    def _read_next(self) -> bool:
        """Read what comes next and act on it; False if its bytes are not all
        there yet."""
        expecting = self._expecting
        try:
            value = self._reader.read(expecting)
        except ProtocolViolation as error:
            if self._command is None:
                raise
            raise _bad_arguments(self._command, error) from error
        if value is NEED_DATA:
            return False
        if expecting is _PROLOGUE_HEAD:
            magic, version = value
            if magic != messages.MAGIC or version != messages.PROTOCOL_VERSION:
                raise _Close(b"")
            self._expecting = STRING
        elif not self._greeted:
            if value != self.node.cluster.cluster_id:
                raise _Close(b"")
            self._greeted = True
            self._expecting = UINT32
        elif self._command is None:
            self._command = _command_for(value)
            self._expecting = self._command.arguments_type
        else:
            command, self._command = self._command, None
            self._expecting = UINT32
            self._received(command, value)
        return True

    def _received(self, command: Command[Any], arguments: tuple[Any, ...]) -> None:
        self._busy = True
        try:
            result = self.node._dispatch(command, arguments)
        except Exception as error:
            self._reply_error(error)
            return
        if isinstance(result, Deferred):
            result.addCallbacks(
                lambda value: self._reply_value(command, value),
                lambda failure: self._reply_error(failure.value),
            )
            result.addErrback(lambda failure: self.log.failure("Reply failed", failure))
        else:
            self._reply_value(command, result)

    def _reply_value(self, command: Command[Any], value: Any) -> None:
        try:
            reply = messages.encode_success(command.result, value)
        except Exception as error:
            self._reply_error(error)
            return
        self._send(reply, False)

    def _reply_error(self, error: BaseException) -> None:
        if isinstance(error, ArakoonError):
            self._send(messages.encode_error(error), error.closes_connection)
            return
        self.log.failure(
            "Unexpected error on {node}",
            Failure(error),  # type: ignore[no-untyped-call]
            node=self.node.name,
        )
        self._send(messages.encode_error(UnknownFailure(UNKNOWN_FAILURE)), True)

    def _send(self, reply: bytes, close: bool) -> None:
        delay = self.node.reply_delay
        if delay > 0:
            self.node.cluster._call_later(delay, self._deliver, reply, close)
        else:
            self._deliver(reply, close)

    def _deliver(self, reply: bytes, close: bool) -> None:
        if self._closing:
            return
        if self.node.stalled:
            self._held.append((reply, close))
            return
        if not self._write(reply):
            return
        self.requests += 1
        if close:
            self._close()
            return
        self._busy = False
        self._drain()

    def _write(self, data: bytes) -> bool:
        """Write reply bytes; False when the connection was cut instead."""
        assert self.transport is not None
        remaining = self._cut_remaining
        if remaining is not None and len(data) >= remaining:
            self.transport.write(data[:remaining])
            self.bytes_written += remaining
            self._close()
            return False
        if remaining is not None:
            self._cut_remaining = remaining - len(data)
        self.transport.write(data)
        self.bytes_written += len(data)
        return True

    def _close(self) -> None:
        self._closing = True
        if self.transport is not None:
            self.transport.loseConnection()


#: The handler of each command, keyed by its declaration.
_HANDLERS: Final[dict[Command[Any], Callable[..., Any]]] = {
    function.handles: function
    for function in vars(ArakoonNode).values()
    if isinstance(getattr(function, "handles", None), Command)
}


def iter_handlers() -> Iterator[str]:
    """The names of the commands this node implements (one handler each)."""
    for command in _HANDLERS:
        yield command.name
