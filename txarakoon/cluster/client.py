"""The cluster client: :class:`ArakoonClient` (see the package documentation)."""

from __future__ import annotations

import random as _random
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.interfaces import IReactorTime, IStreamClientEndpoint
from twisted.logger import Logger

from .. import messages, retry, stall_rule
from ..client import Async, ClientMixin
from ..config import ClusterConfig, NodeConfig, check_client_settings
from ..messages import Message
from .calls import Attempt, CallOptions
from .discovery import Discovery
from .dispatch import Dispatcher
from .links import LinkSettings, NodeLink, NodeProtocol
from .stalls import StallWatch
from .views import ClientView, NodeClient, ReadYourWrites

if TYPE_CHECKING:
    from ..tls import ClientTLS

__all__ = ["IDEMPOTENT_WRITES", "ArakoonClient", "EndpointFactory"]

T = TypeVar("T")

#: The names of the writes whose repetition has the effect of doing them once
#: (:attr:`~txarakoon.messages.Command.idempotent`).
IDEMPOTENT_WRITES = frozenset(
    command.name
    for command in messages.COMMANDS.values()
    if command.idempotent and not command.read_only
)

EndpointFactory = Callable[[NodeConfig, str], IStreamClientEndpoint]


class ArakoonClient(ClientMixin[Async], Service):
    """A client for a whole Arakoon cluster.

    It is usable from construction, and is also a Twisted
    :class:`~twisted.application.service.IService`: as a child of an
    application's service, :meth:`stopService` closes it (calls then fail with
    :class:`~txarakoon.errors.NotConnectedError`) and :meth:`startService`
    makes it usable again. :meth:`disconnect` is final.

    :param config: the :class:`~txarakoon.config.ClusterConfig`.
    :param reactor: the reactor: TCP connections (unless ``endpoint_factory``
        is given) and time (an ``IReactorTime``; a
        :class:`~twisted.internet.task.Clock` in tests).
    :param timeout: default deadline of a call, retries included (seconds).
        The default (30 s) rides through a real election, which takes about
        11 s with Arakoon's default 10 s lease.
    :param connect_timeout: per address, for the TCP connection, for the TLS
        handshake, and for each ``who_master`` question of a discovery; also
        how long a closing connection may take before it is aborted.
    :param silence_timeout: abort a connection whose node sends nothing for this
        long while requests are pending; it must exceed ``drop_master``'s silence
        (about 1.5 leases: PROTOCOL.md D27).
    :param stall_interval: when the master's connection receives nothing for
        this long while replies are owed, ask the other nodes who is master
        (then again every second, or every ``stall_interval`` if shorter,
        until a byte arrives: one question per other node each time), and
        leave it once they have elected another: within 2 s of that election
        unless ``stall_interval`` exceeds the lease (see
        :mod:`txarakoon.cluster.stalls`). ``None``: a quarter of
        the configuration's ``lease_period`` if it has one, else 1 s;
        ``math.inf``: never ask (only ``silence_timeout`` leaves a silent
        master).
    :param backoff: first and largest delay between retries; delays double,
        with ``jitter`` (a fraction) of randomness either way.
    :param read_node: the node for dirty reads; ``None`` picks one at random.
    :param max_in_flight: requests written and unanswered per connection;
        more wait unsent (and are then provably not applied).
    :param endpoint_factory: ``(node, host) -> IStreamClientEndpoint``, to
        connect some other way than TCP (e.g. in memory, in tests). TLS from
        ``config.tls`` is applied on top of the endpoint it returns.
    :param random: the source of randomness (discovery order, read node, jitter).

    Use it from Twisted code: every command method returns a Deferred.
    :meth:`disconnect` closes every connection; calls after it fail with
    :class:`~txarakoon.errors.NotConnectedError`.
    """

    log = Logger()

    def __init__(
        self,
        config: ClusterConfig,
        reactor: IReactorTime,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        silence_timeout: float = 30.0,
        stall_interval: float | None = None,
        backoff: tuple[float, float] = (0.1, 2.0),
        jitter: float = 0.5,
        read_node: str | None = None,
        max_in_flight: int | None = 1024,
        endpoint_factory: EndpointFactory | None = None,
        random: _random.Random | None = None,
    ) -> None:
        check_client_settings(
            config, read_node, timeout, connect_timeout, silence_timeout, stall_interval
        )
        self._backoff = retry.Backoff(backoff[0], backoff[1], jitter)
        self.config = config
        self.reactor = reactor
        self.clock: IReactorTime = reactor
        self.connect_timeout = connect_timeout
        self.silence_timeout = silence_timeout
        if stall_interval is None:
            stall_interval = stall_rule.default_interval(config.lease_period)
        self.stall_interval = stall_interval
        self.backoff = backoff
        self.jitter = jitter
        self.max_in_flight = max_in_flight
        self._random = random or _random.Random()
        self._endpoint_factory = endpoint_factory
        self._disconnected = False
        self._cluster_name = config.cluster_id.decode("utf-8", "backslashreplace")
        self._tls: ClientTLS | None = None
        if config.tls is not None:
            from ..tls import ClientTLS

            self._tls = ClientTLS(config.tls)
        settings = LinkSettings(
            config.cluster_id,
            self.clock,
            connect_timeout,
            silence_timeout,
            max_in_flight,
            config.keepalive,
            config.tls,
            self._endpoint_for,
            lambda: self._dispatch.closed,
            lambda: self._stalls,
        )
        self._links = {name: NodeLink(settings, node) for name, node in config.nodes.items()}
        self._discovery = Discovery(
            self._links, self.clock, connect_timeout, self._random, lambda: self._dispatch.closed
        )
        self._stalls: StallWatch | None = None
        if stall_rule.checks(len(self._links), stall_interval, silence_timeout):
            self._stalls = StallWatch(self._discovery, stall_interval)
        self._dispatch = Dispatcher(
            self._discovery,
            self._backoff,
            self._random,
            timeout,
            read_node or self._random.choice(list(config.nodes)),
        )
        if type(self)._process is ArakoonClient._process:
            # The command methods call self._process: the dispatcher's own
            # method, with no call of ours in between (about 150 instructions
            # a call, of the 4,700 the client adds to the protocol's:
            # bench/README). A subclass that overrides _process keeps it.
            self._process = self._dispatch.submit  # type: ignore[method-assign]

    # -- the facade's plumbing ------------------------------------------------

    def _process(self, message: Message[T]) -> Deferred[T]:
        return self._dispatch.submit(message)

    @property
    def connected(self) -> bool:
        """``False`` once :meth:`disconnect` or :meth:`stopService` was called
        (it connects on demand)."""
        return not self._dispatch.closed

    def connection(self, name: str) -> NodeProtocol | None:
        """The connection this client holds to node ``name``, if it holds one
        (it connects on demand, and forgets a connection once it is lost)."""
        if name not in self._links:
            raise KeyError(f"no node {name!r} in the cluster")
        return self._links[name].protocol

    @property
    def timeout(self) -> float:
        """The default deadline of a call (seconds)."""
        return self._dispatch.timeout

    @property
    def read_node(self) -> str:
        """The node dirty reads go to (another one once it fails)."""
        return self._dispatch.read_node

    @read_node.setter
    def read_node(self, name: str) -> None:
        if name not in self._links:
            raise KeyError(f"no node {name!r} in the cluster")
        self._dispatch.read_node = name

    @property
    def master(self) -> str | None:
        """The master this client currently sends to, if it knows one. This is a
        cache: :meth:`who_master` asks the cluster."""
        return self._discovery.master

    def using(self, *, timeout: float | None = None, retry_idempotent: bool = False) -> ClientView:
        """A view of this client whose calls use these settings.

        For example::

            await client.using(timeout=2).get(b"k")
            await client.using(retry_idempotent=True).set(b"k", b"v")
        """
        return ClientView(self, CallOptions(timeout, retry_idempotent))

    def node(self, name: str | bytes) -> NodeClient:
        """A client for one node: per-node state (``version()``, ``statistics()``,
        ``get_current_state()``, ``who_master()``, ``get_txid()``, …) and the admin
        commands of :class:`~txarakoon.admin.AdminMixin`. No retries. ``name``
        is text or bytes (what ``who_master()`` answers)."""
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        if not isinstance(name, str):
            raise TypeError(f"a node name is str or bytes, not {type(name).__name__}")
        if name not in self._links:
            raise KeyError(f"no node {name!r} in the cluster")
        return NodeClient(self, self._links[name])

    def read_your_writes(self) -> ReadYourWrites:
        """A session whose reads see its own earlier writes while going to the
        read node when it can (see :class:`ReadYourWrites`)."""
        return ReadYourWrites(self)

    def disconnect(self) -> Deferred[None]:
        """Stop every pending call and close every connection, for good; fires
        once all are closed. Pending calls fail with
        :class:`~txarakoon.errors.NotConnectedError` (writes already sent with
        :class:`~txarakoon.errors.OutcomeUnknown`), and so do later calls."""
        self._disconnected = True
        self.running = 0
        return self._close()

    # -- as a Twisted service --------------------------------------------------

    def startService(self) -> None:
        """Make the client usable again after :meth:`stopService` (it is
        usable from construction: starting it is only needed after a stop)."""
        if self._disconnected:
            raise RuntimeError("disconnect() is final: make a new ArakoonClient")
        self._dispatch.closed = False
        Service.startService(self)  # type: ignore[no-untyped-call]
        self.log.info("Arakoon client for cluster {cluster} started", cluster=self._cluster_name)

    def stopService(self) -> Deferred[None]:
        """Close the client as :meth:`disconnect` does, until the next
        :meth:`startService`; fires once every connection is closed."""
        Service.stopService(self)  # type: ignore[no-untyped-call]
        self.log.info("Arakoon client for cluster {cluster} stopped", cluster=self._cluster_name)
        return self._close()

    def _close(self) -> Deferred[None]:
        self._dispatch.closed = True
        # The calls first: each then fails as interrupted, not as cancelled.
        self._dispatch.interrupt_all(retry.Interruption.DISCONNECT)
        self._discovery.stop()
        if self._stalls is not None:
            self._stalls.stop()
        closing = [link.close() for link in self._links.values()]
        done: Deferred[Any] = DeferredList(closing, consumeErrors=True)
        return done.addCallback(lambda _: None)

    # -- calls ------------------------------------------------------------------

    def run(
        self, call: Callable[[Attempt], Coroutine[Any, Any, T]], timeout: float | None
    ) -> Deferred[T]:
        """Run ``call`` (a coroutine function of its :class:`Attempt`) under a
        deadline of ``timeout`` seconds (``None``: none), interruptible by
        :meth:`disconnect`: the plumbing of every call, and of the views."""
        return self._dispatch.run(call, timeout)

    def submit(self, message: Message[T], options: CallOptions) -> Deferred[T]:
        """Send ``message`` with master discovery, failover and retries, under
        ``options`` (what :meth:`using` does for a whole view)."""
        return self._dispatch.submit(message, options)

    # -- connections ---------------------------------------------------------

    def _endpoint_for(self, node: NodeConfig, host: str) -> IStreamClientEndpoint:
        endpoint: IStreamClientEndpoint
        if self._endpoint_factory is not None:
            endpoint = self._endpoint_factory(node, host)
        else:
            endpoint = HostnameEndpoint(self.reactor, host, node.port, timeout=self.connect_timeout)
        if self._tls is not None:
            endpoint = wrapClientTLS(self._tls.creator(host), endpoint)
        return endpoint
