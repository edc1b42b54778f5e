"""One in-memory Arakoon node: a Twisted ``ServerFactory`` speaking the real protocol.

:class:`ArakoonNode` belongs to an :class:`~txarakoon.testing.cluster.ArakoonCluster`
(a single node is a cluster of one), which it sees only as a
:class:`~txarakoon.testing.view.ClusterView`. Each connection is a
:class:`NodeProtocol` (:mod:`txarakoon.testing.server`) that reads the prologue
and then one request at a time with the receive coroutines of
:mod:`txarakoon.messages` (the very declarations the client uses), has the node
execute it and writes the reply with
:func:`~txarakoon.messages.encode_success` / :func:`~txarakoon.messages.encode_error`.
The node runs each request with the handler of its declaration
(:mod:`txarakoon.testing.commands`).

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

The server behaviours it reproduces on purpose (PROTOCOL.md §11: D16, D19–D32),
so that your tests see what production does, are listed in the testing guide
(:ref:`observed-behaviours`). Every update (a write, a failing one included,
``nop``, a user function, a lease renewal) takes the next transaction number:
``get_txid`` counts them; elections add no update.

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
running user hooks, the node-to-node ``last_entries*`` streams (they get
"command not found"), read-only nodes, witnesses, and the internal sequence steps
(TestAndSet, UserFunction, AdminSet, ... — :mod:`txarakoon.sequence` does not
decode them, so a sequence containing one gets 0xff ``unknown failure``; on a
real node a UserFunction step may crash the cluster, D18).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Final

from twisted.internet.defer import Deferred, gatherResults, maybeDeferred, succeed
from twisted.internet.interfaces import IAddress, IListeningPort, IReactorTCP
from twisted.internet.protocol import ServerFactory
from twisted.logger import Logger

from ..errors import ArakoonError, GoingDown, MaxConnections
from ..messages import Command, Statistics
from .commands import ARAKOON_VERSION, AdminCommands, ReadCommands, WriteCommands
from .core import handlers_of
from .holds import Holds
from .links import MemoryLinks
from .quoting import NO_LONGER_MASTER_MESSAGE, ocaml_quoted
from .server import NodeProtocol
from .statistics import node_is
from .updates import MAX_BUFFER_SIZE
from .view import ClusterView, UserFunction

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

_CLOSING: Final = b"closing socket"
_TOO_MANY: Final = b"too many clients"


class ArakoonNode(ReadCommands, WriteCommands, AdminCommands, ServerFactory):
    """One node of an in-memory cluster; a ``ServerFactory`` for its client port.

    Create nodes through :class:`~txarakoon.testing.cluster.ArakoonCluster`.
    Besides serving connections, a node offers controls for tests:
    :meth:`delay_replies`, :meth:`stall` / :meth:`unstall`,
    :meth:`cut_connections_after`, :meth:`drop_connections`, and the attributes
    :attr:`going_down` and :attr:`max_connections` (and ``cluster.freeze(name)``).

    :ivar name: the node name (``str``).
    :ivar cluster: its cluster (the
        :class:`~txarakoon.testing.cluster.ArakoonCluster`), seen as a
        :class:`~txarakoon.testing.view.ClusterView`.
    :ivar store: the node's own copy of the data; on a slave it lags the master
        (see :attr:`ArakoonCluster.lag <txarakoon.testing.cluster.ArakoonCluster.lag>`).
    :ivar address: ``(host, port)`` once listening on a real port, else ``None``.
    :ivar memory_links: the in-memory connections of its cluster, which a
        :class:`~txarakoon.testing.memory.MemoryConnection` to it joins.
    :ivar going_down: when true, new connections get 0x10 ``closing socket``
        at once and are closed (a node shutting down, §1.3).
    :ivar max_connections: when set, a connection beyond this many open ones
        gets 0xfe ``too many clients`` at once and is closed (§1.3).
    :ivar reply_delay: seconds (on the cluster clock) each reply waits before
        it is written; the request itself is executed at once.
    :ivar holds: the requests it holds back (``cluster.hold_replies``).
    """

    noisy = False
    log = Logger()

    def __init__(self, cluster: ClusterView, name: str, memory_links: MemoryLinks) -> None:
        super().__init__(cluster, name)
        self.memory_links = memory_links
        self.address: tuple[str, int] | None = None
        self.going_down = False
        self.max_connections: int | None = None
        self.reply_delay = 0.0
        self.cut_after: int | None = None
        self.holds = Holds()
        self._stalled = False
        self._frozen = False
        self._alive = True
        self._connections: list[NodeProtocol] = []
        self._accepted: list[NodeProtocol] = []
        self._no_longer_master: deque[bool] = deque()
        self._port: IListeningPort | None = None
        self._reactor: IReactorTCP | None = None
        self._interface = "127.0.0.1"
        self._stopping: Deferred[None] = succeed(None)
        self._idle_waiters: list[Deferred[None]] = []

    def __repr__(self) -> str:
        role = "master" if self.is_master else "slave"
        state = role if self._alive else "dead"
        state += " frozen" if self._frozen else ""
        return f"<ArakoonNode {self.name} {state} txid={self.store.txid}>"

    # -- state ----------------------------------------------------------------

    @property
    def alive(self) -> bool:
        """Whether the node runs (see ``cluster.kill`` / ``cluster.revive``)."""
        return self._alive

    @property
    def frozen(self) -> bool:
        """Whether the node is paused (see ``cluster.freeze`` / ``cluster.thaw``)."""
        return self._frozen

    @property
    def running(self) -> bool:
        """Whether the node takes part in the cluster: alive and not frozen."""
        return self._alive and not self._frozen

    @property
    def stalled(self) -> bool:
        """Whether its connections do nothing now (:meth:`stall`, or frozen)."""
        return self._stalled or self._frozen

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
        return self.cluster.who_master()

    def statistics(self) -> Statistics:
        """The node's statistics, in the real server's field layout (§8.1)."""
        heard = node_is(
            self.name, self.cluster.master, len(self.cluster), self.cluster.live_txids()
        )
        return self._statistics.report(self.cluster.clock.seconds(), heard)

    # -- controls -------------------------------------------------------------

    def delay_replies(self, seconds: float) -> None:
        """Write every reply ``seconds`` after its request was executed (0: stop)."""
        if seconds < 0:
            raise ValueError(f"delay must not be negative, not {seconds}")
        self.reply_delay = seconds

    def stall(self) -> None:
        """Stop serving clients: connections are accepted but nothing is read,
        executed or written until :meth:`unstall`. The node keeps its part in
        the cluster (a stalled master keeps renewing its lease); for a stopped
        process, use ``cluster.freeze(name)``."""
        self._stalled = True

    def unstall(self) -> None:
        """Resume a stalled node: held replies are written, buffered requests run
        (once thawed, if it is frozen too)."""
        self._stalled = False
        self.serve_held()

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

    # -- ServerFactory, and what its connections ask (ServedNode) -------------

    def buildProtocol(self, addr: IAddress | None) -> NodeProtocol | None:
        if not self._alive:
            return None
        protocol = NodeProtocol(self)
        protocol.factory = self
        return protocol

    def connection_opened(self, connection: NodeProtocol) -> None:
        """``connection`` is open: count it (it may still be refused)."""
        self._connections.append(connection)

    def admit(self, connection: NodeProtocol) -> ArakoonError | None:
        """The error to send at connect time, or None to accept (§1.3)."""
        if self.going_down:
            return GoingDown(_CLOSING)
        if self.max_connections is not None and len(self._accepted) >= self.max_connections:
            return MaxConnections(_TOO_MANY)
        self._accepted.append(connection)
        return None

    def connection_closed(self, connection: NodeProtocol) -> None:
        """``connection`` is closed: forget it."""
        if connection in self._connections:
            self._connections.remove(connection)
        if connection in self._accepted:
            self._accepted.remove(connection)
        if not self._connections:
            waiters, self._idle_waiters = self._idle_waiters, []
            for waiter in waiters:
                waiter.callback(None)

    def execute(self, command: Command[Any], arguments: tuple[Any, ...]) -> Any:
        """Run ``command`` with its handler: the result, or a Deferred of it."""
        self.cluster.keep_time()
        hold = self.holds.catching(command, arguments)
        if hold is not None:
            return hold.hold(lambda: _HANDLERS[command](self, *arguments))
        return _HANDLERS[command](self, *arguments)

    # -- life cycle, driven by the cluster ------------------------------------
    # ArakoonCluster calls these and updates mastership around them: tests use
    # its kill(), revive(), listen() and stop().

    def serve(self, reactor: IReactorTCP, interface: str, port: int) -> None:
        """Listen on ``interface``:``port`` (0: a free port) unless listening
        already; a dead node only remembers where, for :meth:`listen_again`."""
        if self._port is not None:
            return
        if self._alive:
            self._listen(reactor, interface, port)
        else:
            self._reactor, self._interface = reactor, interface

    def listen_again(self) -> Deferred[None]:
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

    def stop_serving(self) -> Deferred[None]:
        """Stop listening and cut every connection; fires when all are gone."""
        port, self._port = self._port, None
        if port is not None:
            stopped: Deferred[Any] = maybeDeferred(port.stopListening)
            self._stopping = stopped.addCallback(lambda _: None)
        self.drop_connections()
        waiting = gatherResults([self._stopping, self._when_idle()])
        return waiting.addCallback(lambda _: None)

    def crash(self) -> Deferred[None]:
        """Die like a killed process: refuse connections, stop serving; fires
        once every connection is closed."""
        self._alive = False
        self.holds.dropped()
        return self.stop_serving()

    def restart(self) -> None:
        """Run again, as a restarted process: neither stalled, frozen nor
        shutting down."""
        self._alive = True
        self._stalled = self._frozen = self.going_down = False

    def freeze(self) -> None:
        """Pause: answer and apply nothing (connections stay open)."""
        self._frozen = True

    def thaw(self) -> None:
        """Run again; the cluster then lets it catch up and :meth:`serve_held`."""
        self._frozen = False

    def serve_held(self) -> None:
        """Unless stalled or frozen, write the replies held meanwhile and run
        the requests that waited, in order."""
        if not self.stalled:
            for connection in list(self._connections):
                connection.resume()

    def catch_up(self, txid: int) -> None:
        """Apply the agreed updates up to ``txid``."""
        store = self.store
        while store.txid < txid:
            store.apply(self.cluster.mutations_of(store.txid + 1))

    def clock_changed(self) -> None:
        """The cluster keeps time with another clock now: statistics start anew."""
        self._statistics.start = self.cluster.clock.seconds()

    def pop_no_longer_master(self) -> bool | None:
        """Whether the next write gets NoLongerMaster applied (True) or not
        applied (False); None when no such answer is armed."""
        return self._no_longer_master.popleft() if self._no_longer_master else None

    def _listen(self, reactor: IReactorTCP, interface: str, port: int) -> None:
        self._reactor = reactor
        self._interface = interface
        self._port = reactor.listenTCP(port, self, interface=interface)
        self.address = (interface, self._port.getHost().port)  # type: ignore[attr-defined]

    def _when_idle(self) -> Deferred[None]:
        if not self._connections:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._idle_waiters.append(waiter)
        return waiter


#: The handler of each command, keyed by its declaration.
_HANDLERS: Final[dict[Command[Any], Callable[..., Any]]] = handlers_of(
    reversed(ArakoonNode.__mro__)
)


def iter_handlers() -> Iterator[str]:
    """The names of the commands this node implements (one handler each)."""
    for command in _HANDLERS:
        yield command.name
