"""How tests reach the nodes of an in-memory cluster: :class:`ClusterAccess`.

By name (``cluster["n1"]``), over TCP ports with a reactor (:meth:`~ClusterAccess.listen`,
then :meth:`~ClusterAccess.endpoint`, :meth:`~ClusterAccess.ini`,
:meth:`~ClusterAccess.nodes_spec`), or over in-memory connections moved by
:meth:`~ClusterAccess.flush` (:mod:`txarakoon.testing.memory`); all on the
cluster's clock. It is the base of
:class:`~txarakoon.testing.cluster.ArakoonCluster`, which adds the data,
mastership and failures.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar, overload

from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.interfaces import IDelayedCall, IReactorTCP, IReactorTime
from twisted.internet.protocol import Protocol
from twisted.internet.task import Clock

from ..config import ClusterConfig
from ..protocol import ArakoonProtocol
from .links import MemoryLinks
from .memory import MemoryConnection, connect_in_memory
from .node import ArakoonNode
from .timers import Timers

__all__ = ["ClusterAccess"]

P = TypeVar("P", bound=Protocol)


class ClusterAccess:
    """A cluster's nodes, its clock, and the ways to reach them.

    :ivar cluster_id: the cluster id, as bytes.
    """

    def __init__(self, cluster_id: bytes, clock: IReactorTime | None) -> None:
        self.cluster_id = cluster_id
        self._clock_given = clock is not None
        self._timers = Timers(clock if clock is not None else Clock())
        # Filled by the subclass, which builds the nodes.
        self._nodes: dict[str, ArakoonNode] = {}
        self._links = MemoryLinks()
        self._listening = False

    @property
    def master(self) -> str | None:
        """The node holding mastership now, or ``None``."""
        raise NotImplementedError

    @property
    def lease_period(self) -> float:
        """The master lease, in seconds (a client derives its stall check from it)."""
        raise NotImplementedError

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

    # -- time -----------------------------------------------------------------

    @property
    def clock(self) -> IReactorTime:
        """The clock of leases, elections and delays."""
        return self._timers.clock

    def delayed_calls(self) -> list[IDelayedCall]:
        """The calls the cluster itself has scheduled on its clock (leases,
        elections, reply delays): what else is on the clock is its clients'."""
        return [timer.delayed_call for timer in self._timers]

    def _clock_changing(self, clock: IReactorTime) -> None:
        """Keep time with ``clock`` from now on (pending calls move to it)."""
        self._timers.move_to(clock)
        for node in self._nodes.values():
            node.clock_changed()

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
            self._clock_changing(reactor)
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
            self.cluster_id,
            {name: ([host], port) for name, (host, port) in addresses.items()},
            lease_period=self.lease_period,
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
        self._timers.cancel_all()
        self._listening = False
        closing = [node.stop_serving() for node in self._nodes.values()]
        self.flush()
        return gatherResults(closing).addCallback(lambda _: None)

    # -- running in memory ---------------------------------------------------------

    def _name_or_master(self, name: str | None) -> str:
        if name is not None:
            return name
        if self.master is None:
            raise RuntimeError("there is no master: name the node to connect to")
        return self.master

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
