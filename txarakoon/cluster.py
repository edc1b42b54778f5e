"""The cluster client: one object that is "the cluster".

:class:`ArakoonClient` finds the master, keeps one pipelined
:class:`~txarakoon.protocol.ArakoonProtocol` connection per node it talks to,
follows the master through elections, and retries only what is safe:

=====================================  ============  ==============================
failure                                reads         writes
=====================================  ============  ==============================
``NotMaster`` reply                    retried       retried (not applied)
``RequestNotProcessed``                retried       retried (not applied)
connection refused / unreachable       retried       retried (not applied)
no master known                        retried       retried (not applied)
``MaxConnections``/``GoingDown`` as    retried       retried (sent before the
the first reply on a new connection                  server read anything)
``ConnectionLost`` after sending       retried       ``OutcomeUnknown``
``NoLongerMaster``                     retried       ``OutcomeUnknown``
``GoingDown`` after sending            retried       ``OutcomeUnknown``
the call's deadline                    ``RequestTimeout``  ``OutcomeUnknown`` if sent
any other ``ArakoonError``             raised        raised
=====================================  ============  ==============================

``client.using(retry_idempotent=True)`` also retries ``set``, ``confirm`` and
``nop`` where the table says ``OutcomeUnknown``: doing them twice has the same
effect as doing them once. Retries back off exponentially with jitter until the
call's deadline, then the last error is raised.

Reads with ``allow_dirty=True``, ``NoGuarantees`` or ``AtLeast(i)`` go to the
*read node* (by default one chosen at random, falling back to others); the
rest go to the master.
"""

from __future__ import annotations

import random as _random
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from twisted.internet.defer import (
    CancelledError,
    Deferred,
    DeferredList,
    fail,
    succeed,
)
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.interfaces import IReactorTime, IStreamClientEndpoint
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure

from . import messages
from .admin import AdminMixin
from .client import Async, ClientMixin
from .config import ClusterConfig, NodeConfig
from .consistency import AtLeast, Consistent
from .errors import (
    ConnectionLost,
    GoingDown,
    InconsistentRead,
    MaxConnections,
    NoLongerMaster,
    NoMasterError,
    NotConnectedError,
    NotMaster,
    OutcomeUnknown,
    RequestNotProcessed,
    RequestTimeout,
)
from .messages import Message
from .protocol import ArakoonProtocol, ArakoonProtocolFactory

__all__ = ["ArakoonClient", "ClientView", "NodeClient", "ReadYourWrites"]

T = TypeVar("T")

#: Writes whose repetition has the effect of doing them once.
IDEMPOTENT_WRITES = frozenset({"set", "confirm", "nop"})

EndpointFactory = Callable[[NodeConfig, str], IStreamClientEndpoint]


@dataclass(frozen=True)
class CallOptions:
    """Per-call settings (see :meth:`ArakoonClient.using`)."""

    timeout: float | None = None
    retry_idempotent: bool = False


class _Attempt:
    """State of one call across its retries."""

    __slots__ = ("deadline", "timed_out")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.timed_out = False


def _share(source: Deferred[T]) -> Callable[[], Deferred[T]]:
    """Let several callers wait for ``source``: each gets its own Deferred, so
    that awaiting (which consumes a Deferred's result) or cancelling one does
    not affect the others."""
    waiters: list[Deferred[T]] = []
    outcome: list[Any] = []

    def settle(result: Any) -> Any:
        outcome.append(result)
        for waiter in waiters:
            _fire(waiter, result)
        waiters.clear()
        return result

    source.addBoth(settle)

    def wait() -> Deferred[T]:
        waiter: Deferred[T] = Deferred()
        if outcome:
            _fire(waiter, outcome[0])
        else:
            waiters.append(waiter)
        return waiter

    return wait


def _fire(waiter: Deferred[Any], result: Any) -> None:
    if waiter.called:
        return  # cancelled by its caller
    if isinstance(result, Failure):
        waiter.errback(result)
    else:
        waiter.callback(result)


class _NodeLink:
    """The client's connection to one node: connects on demand, trying the
    node's addresses in turn, and forgets the connection when it is lost."""

    log = Logger()

    def __init__(self, client: ArakoonClient, node: NodeConfig) -> None:
        self.client = client
        self.node = node
        self.protocol: ArakoonProtocol | None = None
        self.requests_on_protocol = 0
        self._connecting: Callable[[], Deferred[ArakoonProtocol]] | None = None
        self._next_host = 0

    def get(self) -> Deferred[ArakoonProtocol]:
        """A connected protocol to this node (connecting if needed)."""
        if self.protocol is not None and self.protocol.connected:
            return succeed(self.protocol)
        wait = self._connecting
        if wait is None:
            connecting = Deferred.fromCoroutine(self.open())
            wait = self._connecting = _share(connecting)
            connecting.addBoth(self._connected)
        return wait()

    def _connected(self, result: Any) -> None:
        self._connecting = None
        if isinstance(result, ArakoonProtocol):
            self.protocol = result
            self.requests_on_protocol = 0
            result.when_lost().addCallback(self._lost, result)

    def _lost(self, _: object, protocol: ArakoonProtocol) -> None:
        if self.protocol is protocol:
            self.log.info("Connection to {node} lost", node=self.node.name)
            self.protocol = None

    async def open(self) -> ArakoonProtocol:
        """A new connection, not cached (also used for dedicated connections)."""
        client = self.client
        hosts = self.node.hosts
        causes: list[str] = []
        for step in range(len(hosts)):
            index = (self._next_host + step) % len(hosts)
            host = hosts[index]
            endpoint = client._endpoint_for(self.node, host)
            factory = ArakoonProtocolFactory(
                client.config.cluster_id,
                max_in_flight=client.max_in_flight,
                silence_timeout=client.silence_timeout,
                clock=client.reactor,
            )
            attempt: Deferred[Any] = endpoint.connect(factory)
            attempt.addTimeout(client.connect_timeout, client.reactor)
            try:
                protocol: ArakoonProtocol = await attempt
            except CancelledError:
                raise
            except Exception as error:  # any way of failing to connect
                causes.append(f"{host}:{self.node.port}: {error}")
                continue
            self._next_host = index
            client._configure_socket(protocol)
            return protocol
        self._next_host = (self._next_host + 1) % len(hosts)
        raise RequestNotProcessed(f"cannot connect to {self.node.name} ({'; '.join(causes)})", None)

    def close(self) -> Deferred[None]:
        protocol, self.protocol = self.protocol, None
        if protocol is None:
            return succeed(None)
        return protocol.close()


class ArakoonClient(ClientMixin[Async]):
    """A client for a whole Arakoon cluster.

    :param config: the :class:`~txarakoon.config.ClusterConfig`.
    :param reactor: the reactor (TCP connections and time).
    :param timeout: default deadline of a call, retries included (seconds).
    :param connect_timeout: per address and per discovery question.
    :param silence_timeout: abort a connection whose node sends nothing for this
        long while requests are pending; it must exceed ``drop_master``'s wait
        (half a lease).
    :param backoff: first and largest delay between retries; delays double,
        with ``jitter`` (a fraction) of randomness either way.
    :param read_node: the node for dirty reads; ``None`` picks one at random.
    :param endpoint_factory: ``(node, host) -> IStreamClientEndpoint``, to
        connect some other way than TCP (e.g. in memory, in tests).

    Use it from Twisted code: every command method returns a Deferred.
    :meth:`disconnect` closes every connection; calls after it fail with
    :class:`~txarakoon.errors.NotConnectedError`.
    """

    log = Logger()

    def __init__(
        self,
        config: ClusterConfig,
        reactor: Any,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        silence_timeout: float = 30.0,
        backoff: tuple[float, float] = (0.1, 2.0),
        jitter: float = 0.5,
        read_node: str | None = None,
        max_in_flight: int | None = 1024,
        endpoint_factory: EndpointFactory | None = None,
        random: _random.Random | None = None,
    ) -> None:
        if read_node is not None and read_node not in config.nodes:
            raise ValueError(f"read_node {read_node!r} is not a node of the cluster")
        for name, value in (
            ("timeout", timeout),
            ("connect_timeout", connect_timeout),
            ("silence_timeout", silence_timeout),
        ):
            if value <= 0:
                raise ValueError(f"{name} must be positive, not {value}")
        if not 0 < backoff[0] <= backoff[1]:
            raise ValueError(
                f"backoff must be (first, largest) with 0 < first <= largest: {backoff}"
            )
        if not 0 <= jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), not {jitter}")
        self.config = config
        self.reactor = reactor
        self.clock: IReactorTime = reactor
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.silence_timeout = silence_timeout
        self.backoff = backoff
        self.jitter = jitter
        self.max_in_flight = max_in_flight
        self._random = random or _random.Random()
        self._endpoint_factory = endpoint_factory
        self._links = {name: _NodeLink(self, node) for name, node in config.nodes.items()}
        self._master: str | None = None
        self._master_hint: str | None = None
        self._discovery: Callable[[], Deferred[str]] | None = None
        self.read_node = read_node or self._random.choice(list(config.nodes))
        self._closed = False

    # -- the facade's plumbing ------------------------------------------------

    @property
    def connected(self) -> bool:
        """``False`` once :meth:`disconnect` was called (it connects on demand)."""
        return not self._closed

    @property
    def master(self) -> str | None:
        """The master this client currently sends to, if it knows one. This is a
        cache: :meth:`who_master` asks the cluster."""
        return self._master

    def _process(self, message: Message[T]) -> Deferred[T]:
        return self._submit(message, CallOptions())

    def using(self, *, timeout: float | None = None, retry_idempotent: bool = False) -> ClientView:
        """A view of this client whose calls use these settings::

        await client.using(timeout=2).get(b"k")
        await client.using(retry_idempotent=True).set(b"k", b"v")
        """
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout}")
        if not isinstance(retry_idempotent, bool):
            raise TypeError("retry_idempotent must be a bool")
        return ClientView(self, CallOptions(timeout, retry_idempotent))

    def node(self, name: str) -> NodeClient:
        """A client for one node: per-node state (``version()``, ``statistics()``,
        ``get_current_state()``, ``who_master()``, ``get_txid()``, …) and the admin
        commands of :class:`~txarakoon.admin.AdminMixin`. No retries."""
        if name not in self._links:
            raise KeyError(f"no node {name!r} in the cluster")
        return NodeClient(self, self._links[name])

    def read_your_writes(self) -> ReadYourWrites:
        """A session whose reads see its own earlier writes while going to the
        read node when it can (see :class:`ReadYourWrites`)."""
        return ReadYourWrites(self)

    def disconnect(self) -> Deferred[None]:
        """Close every connection; fires once all are closed."""
        self._closed = True
        self._master = None
        closing = [link.close() for link in self._links.values()]
        done: Deferred[Any] = DeferredList(closing, consumeErrors=True)
        return done.addCallback(lambda _: None)

    # -- routing --------------------------------------------------------------

    def _submit(self, message: Message[T], options: CallOptions) -> Deferred[T]:
        if self._closed:
            return fail(NotConnectedError("the client was disconnected"))
        timeout = options.timeout or self.timeout
        attempt = _Attempt(self.clock.seconds() + timeout)
        if message.command is messages.WHO_MASTER:
            call: Coroutine[Any, Any, Any] = self._ask_who_master(attempt)
        else:
            call = self._call(message, options, attempt)
        result: Deferred[T] = Deferred.fromCoroutine(call)

        def expire() -> None:
            attempt.timed_out = True
            result.cancel()

        timer = self.clock.callLater(timeout, expire)

        def stop_timer(outcome: object) -> object:
            if timer.active():
                timer.cancel()
            return outcome

        return result.addBoth(stop_timer)

    async def _call(self, message: Message[T], options: CallOptions, attempt: _Attempt) -> T:
        name = message.command.name
        is_read = name in messages.READ_ONLY_COMMANDS
        retry_unknown = is_read or (options.retry_idempotent and name in IDEMPOTENT_WRITES)
        consistency = message.consistency
        dirty = consistency is not None and consistency is not Consistent
        delay = self.backoff[0]
        avoid: set[str] = set()
        last: BaseException | None = None
        while True:
            sent = first = False
            node: str | None = None
            try:
                if self._closed:
                    raise NotConnectedError("the client was disconnected")
                node = self._dirty_node(avoid) if dirty else await self._find_master()
                link = self._links[node]
                protocol = await link.get()
                first = link.requests_on_protocol == 0
                link.requests_on_protocol += 1
                sent = True
                return await protocol._process(message)
            except CancelledError:
                if not attempt.timed_out:
                    raise
                if not sent and last is not None:
                    raise last from None
                timeout = RequestTimeout(
                    f"no answer within the deadline (last error: {last})",
                    repr(message),
                    applied=None if sent else False,
                )
                if sent and not retry_unknown:
                    raise OutcomeUnknown(timeout, repr(message)) from None
                raise timeout from None
            except (MaxConnections, GoingDown) as error:
                if not (first or retry_unknown):
                    raise OutcomeUnknown(error, repr(message)) from None
                self._forget(node, error)
                last = error
            except NotMaster as error:
                self._forget(node, error, hint=error.master_hint)
                last = error
            except (RequestNotProcessed, NoMasterError) as error:
                self._forget(node, error)
                last = error
                if dirty and node is not None and not sent:
                    avoid.add(node)
            except (ConnectionLost, NoLongerMaster) as error:
                self._forget(node, error)
                if not retry_unknown:
                    raise OutcomeUnknown(error, repr(message)) from None
                last = error
                if dirty and node is not None:
                    avoid.add(node)
            self.log.info(
                "Retrying {request} in {delay:.3f} s after {error}",
                request=message,
                delay=delay,
                error=last,
            )
            wait = delay * (1 + self.jitter * (2 * self._random.random() - 1))
            if self.clock.seconds() + wait >= attempt.deadline:
                assert last is not None
                raise last
            await deferLater(self.clock, wait)
            delay = min(delay * 2, self.backoff[1])

    def _dirty_node(self, avoid: set[str]) -> str:
        if self.read_node not in avoid:
            return self.read_node
        candidates = [name for name in self._links if name not in avoid]
        if not candidates:
            avoid.clear()
            candidates = list(self._links)
        self.read_node = self._random.choice(candidates)
        self.log.info("Dirty reads now go to {node}", node=self.read_node)
        return self.read_node

    def _forget(self, node: str | None, cause: BaseException, hint: bytes | None = None) -> None:
        if self._master == node:
            self.log.info("Forgetting master {node}: {cause}", node=node, cause=cause)
            self._master = None
        if hint is not None:
            name = hint.decode("utf-8", "replace")
            if name in self._links:
                self._master_hint = name

    # -- master discovery -------------------------------------------------------

    def _find_master(self) -> Deferred[str]:
        if self._master is not None:
            return succeed(self._master)
        wait = self._discovery
        if wait is None:
            discovering = Deferred.fromCoroutine(self._discover())
            wait = self._discovery = _share(discovering)

            def done(result: Any) -> None:
                # The waiters got the result (or failure); the chain ends here.
                self._discovery = None
                if isinstance(result, str):
                    if result != self._master:
                        self.log.info("Master is {node}", node=result)
                    self._master = result

            discovering.addBoth(done)
        return wait()

    async def _discover(self) -> str:
        """Ask the nodes, in random order, who is master; accept an answer only
        when the named node names itself."""
        order = list(self._links)
        self._random.shuffle(order)
        if self._master_hint in order:
            order.remove(self._master_hint)
            order.insert(0, self._master_hint)
            self._master_hint = None
        causes: list[str] = []
        for name in order:
            try:
                answer = await self._who_master_on(name)
            except CancelledError:
                raise
            except Exception as error:
                causes.append(f"{name}: {error}")
                continue
            if answer is None:
                causes.append(f"{name}: knows no master")
                continue
            if answer == name:
                return name
            if answer not in self._links:
                causes.append(f"{name}: names unknown node {answer!r}")
                continue
            try:
                confirmed = await self._who_master_on(answer)
            except CancelledError:
                raise
            except Exception as error:
                causes.append(f"{answer} (named by {name}): {error}")
                continue
            if confirmed == answer:
                return answer
            causes.append(f"{name} names {answer}, which names {confirmed}")
        raise NoMasterError("; ".join(causes) or "no node answered", None)

    async def _who_master_on(self, name: str) -> str | None:
        protocol = await self._links[name].get()
        question = protocol.who_master()
        question.addTimeout(self.connect_timeout, self.clock)
        answer = await question
        return None if answer is None else answer.decode("utf-8", "replace")

    async def _ask_who_master(self, attempt: _Attempt) -> bytes | None:
        """``who_master()`` on the cluster: a fresh discovery, never the cache."""
        self._master = None
        try:
            name = await self._find_master()
        except NoMasterError:
            return None
        return name.encode("utf-8")

    # -- connections ---------------------------------------------------------

    def _endpoint_for(self, node: NodeConfig, host: str) -> IStreamClientEndpoint:
        if self._endpoint_factory is not None:
            return self._endpoint_factory(node, host)
        endpoint: IStreamClientEndpoint = HostnameEndpoint(
            self.reactor, host, node.port, timeout=self.connect_timeout
        )
        if self.config.tls is not None:
            from .tls import client_connection_creator

            endpoint = wrapClientTLS(client_connection_creator(self.config.tls, host), endpoint)
        return endpoint

    def _configure_socket(self, protocol: ArakoonProtocol) -> None:
        keepalive = self.config.keepalive
        transport: Any = protocol.transport
        # Through TLS, the TCP transport is the wrapper's own transport.
        while transport is not None and not hasattr(transport, "getHandle"):
            transport = getattr(transport, "transport", None)
        if transport is None or not keepalive.enabled:
            return
        try:
            handle = transport.getHandle()
            handle.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            for option, value in (
                ("TCP_KEEPIDLE", keepalive.idle),
                ("TCP_KEEPINTVL", keepalive.interval),
                ("TCP_KEEPCNT", keepalive.probes),
            ):
                if hasattr(socket, option):
                    handle.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)
        except (OSError, AttributeError):
            pass  # not a TCP socket: nothing to keep alive


class ClientView(ClientMixin[Async]):
    """The commands of an :class:`ArakoonClient`, with per-call settings."""

    def __init__(self, client: ArakoonClient, options: CallOptions) -> None:
        self.client = client
        self.options = options

    @property
    def connected(self) -> bool:
        return self.client.connected

    def _process(self, message: Message[T]) -> Deferred[T]:
        return self.client._submit(message, self.options)


class NodeClient(ClientMixin[Async], AdminMixin[Async]):
    """Commands sent to one named node, without master discovery or retries.

    ``collapse_tlogs`` runs on a connection of its own, closed afterwards.
    """

    def __init__(self, client: ArakoonClient, link: _NodeLink) -> None:
        self.client = client
        self._link = link
        self.name = link.node.name

    @property
    def connected(self) -> bool:
        return self.client.connected

    def _process(self, message: Message[T]) -> Deferred[T]:
        if not self.client.connected:
            return fail(NotConnectedError("the client was disconnected"))
        if message.command is messages.COLLAPSE_TLOGS:
            return Deferred.fromCoroutine(self._dedicated(message))
        result = Deferred.fromCoroutine(self._send(message))
        return result.addTimeout(self.client.timeout, self.client.clock)

    async def _send(self, message: Message[T]) -> T:
        protocol = await self._link.get()
        return await protocol._process(message)

    async def _dedicated(self, message: Message[T]) -> T:
        protocol = await self._link.open()
        try:
            return await protocol._process(message)
        finally:
            protocol.close()


class ReadYourWrites(ClientMixin[Async]):
    """A session over an :class:`ArakoonClient` whose reads see its own writes.

    After each write made through the session, it asks the master for its txid
    (``get_txid``). Reads through the session that ask for the default
    (``Consistent``) consistency are sent to the read node with ``AtLeast`` that
    txid instead; if that node has not caught up yet
    (:class:`~txarakoon.errors.InconsistentRead`, which is usual right after a
    write, as a slave applies an update only once the next one is agreed), the
    read is made on the master. Reads that ask for another consistency are left
    alone. Before its first write, the session reads from the master.
    """

    def __init__(self, client: ArakoonClient) -> None:
        self.client = client
        self.txid: AtLeast | None = None

    @property
    def connected(self) -> bool:
        return self.client.connected

    def _process(self, message: Message[T]) -> Deferred[T]:
        return Deferred.fromCoroutine(self._route(message))

    async def _route(self, message: Message[T]) -> T:
        client = self.client
        if message.command.name not in messages.READ_ONLY_COMMANDS:
            result = await client._process(message)
            txid = await client._process(messages.GET_TXID())
            if isinstance(txid, AtLeast) and (self.txid is None or txid.i > self.txid.i):
                self.txid = txid
            return result
        if message.consistency is not Consistent or self.txid is None:
            return await client._process(message)
        fresh = Message(message.command, (self.txid, *message.arguments[1:]))
        try:
            return await client._process(fresh)
        except InconsistentRead:
            return await client._process(message)
