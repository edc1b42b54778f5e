"""The cluster client: one object that is "the cluster".

:class:`ArakoonClient` finds the master, keeps one pipelined
:class:`~txarakoon.protocol.ArakoonProtocol` connection per node it talks to,
follows the master through elections, and retries only what is safe. "Reads"
are the commands declared :attr:`~txarakoon.messages.Command.read_only`; every other
command is a write. What is retried after which failure is decided by the
sans-IO policy of :mod:`txarakoon.retry`; its matrix is in
:ref:`the failover guide <retry-matrix>`.

``client.using(retry_idempotent=True)`` also retries ``set``, ``confirm`` and
``nop`` where the table says ``OutcomeUnknown``: doing them twice has the same
effect as doing them once (unless another client wrote the key in between).
Retries back off exponentially with jitter until the call's deadline, then the
last error is raised. ``who_master()`` on the client runs a fresh discovery and
answers ``None`` when no master can be confirmed.

Reads with ``allow_dirty=True``, ``NoGuarantees`` or ``AtLeast(i)`` go to the
*read node* (by default one chosen at random, falling back to others); the
rest go to the master.
"""

from __future__ import annotations

import random as _random
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from twisted.internet.defer import (
    CancelledError,
    Deferred,
    DeferredList,
    fail,
    succeed,
)
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.interfaces import IHandshakeListener, IReactorTime, IStreamClientEndpoint
from twisted.internet.protocol import connectionDone
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from . import messages, retry
from .admin import AdminMixin
from .client import Async, ClientMixin
from .config import ClusterConfig, NodeConfig
from .consistency import AtLeast, Consistent
from .errors import (
    InconsistentRead,
    NoMasterError,
    NotConnectedError,
    RequestNotProcessed,
    explain,
)
from .messages import Message
from .protocol import ArakoonProtocol, ArakoonProtocolFactory, CancelledBeforeSending

if TYPE_CHECKING:
    from .tls import ClientTLS

__all__ = ["ArakoonClient", "CallOptions", "ClientView", "NodeClient", "ReadYourWrites"]

T = TypeVar("T")

#: The names of the writes whose repetition has the effect of doing them once
#: (:attr:`~txarakoon.messages.Command.idempotent`).
IDEMPOTENT_WRITES = frozenset(
    command.name
    for command in messages.COMMANDS.values()
    if command.idempotent and not command.read_only
)

EndpointFactory = Callable[[NodeConfig, str], IStreamClientEndpoint]

# Why a call on a client after its disconnect() fails; disconnect() is final.
_AFTER_DISCONNECT = (
    "the client was disconnected: make a new ArakoonClient to reach the cluster again"
)


@dataclass(frozen=True)
class CallOptions:
    """Per-call settings (see :meth:`ArakoonClient.using`)."""

    timeout: float | None = None
    retry_idempotent: bool = False


class _Attempt:
    """State of one call across its retries."""

    __slots__ = ("deadline", "interrupted", "result")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.interrupted: retry.Interruption | None = None
        self.result: Deferred[Any] | None = None

    def error(
        self,
        message: Message[Any],
        *,
        sent: bool,
        retry_unknown: bool = True,
        last_error: BaseException | None = None,
    ) -> BaseException:
        """The error of this call, interrupted while sending ``message``."""
        assert self.interrupted is not None
        return retry.when_interrupted(
            self.interrupted,
            sent=sent,
            retry_unknown=retry_unknown,
            last_error=last_error,
            request=repr(message),
        )

    def interrupt(self, why: retry.Interruption) -> None:
        if self.interrupted is None and self.result is not None:
            self.interrupted = why
            self.result.cancel()


class _Shared(Generic[T]):
    """Several callers waiting for one operation (a connection, a discovery).

    Each caller gets its own Deferred, so that awaiting one (which consumes its
    result) or cancelling one does not affect the others. When every caller has
    cancelled, the operation itself is cancelled: nothing keeps running (or
    keeps a timer) for nobody.
    """

    def __init__(self, source: Deferred[T]) -> None:
        self._source = source
        self._waiters: list[Deferred[T]] = []
        self._outcome: list[Any] = []
        source.addBoth(self._settle)

    @property
    def done(self) -> bool:
        return bool(self._outcome)

    def _settle(self, result: Any) -> None:
        self._outcome.append(result)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            _fire(waiter, result)
        # Every waiter got the failure, if any: the chain ends here.

    def wait(self) -> Deferred[T]:
        if self._outcome:
            done: Deferred[T] = Deferred()
            _fire(done, self._outcome[0])
            return done
        waiter: Deferred[T] = Deferred(self._abandon)
        self._waiters.append(waiter)
        return waiter

    def _abandon(self, waiter: Deferred[T]) -> None:
        if waiter in self._waiters:
            self._waiters.remove(waiter)
        if not self._waiters and not self._outcome:
            self._source.cancel()

    def cancel(self) -> None:
        """Cancel the operation (its waiters get ``CancelledError``)."""
        if not self._outcome:
            self._source.cancel()


def _fire(waiter: Deferred[Any], result: Any) -> None:
    if waiter.called:
        return  # cancelled by its caller
    if isinstance(result, Failure):
        waiter.errback(result)
    else:
        waiter.callback(result)


@implementer(IHandshakeListener)
class _NodeProtocol(ArakoonProtocol):
    """An :class:`ArakoonProtocol` that counts the requests written on it and
    tells when its TLS handshake (if any) is done."""

    def __init__(
        self, cluster_id: bytes | str, *, close_timeout: float | None = None, **settings: Any
    ) -> None:
        super().__init__(cluster_id, **settings)
        self.close_timeout = close_timeout
        self.requests_sent = 0
        self._handshake_waiters: list[Deferred[None]] = []
        self._handshake_done = False
        self._lost_reason: BaseException | None = None
        self._aborted = False

    def send(self, message: Message[T]) -> Deferred[T]:
        """Send ``message``; :class:`~txarakoon.errors.RequestNotProcessed` if
        the connection died since it was handed out."""
        if not self.connected:
            return fail(RequestNotProcessed("the connection is closed", repr(message)))
        self.requests_sent += 1
        return self._process(message)

    def close(self) -> Deferred[None]:
        """Close the connection; abort it if it is not closed after
        ``close_timeout`` seconds (a TLS close waits for the peer's answer)."""
        transport: Any = self.transport
        if transport is None or self._lost_reason is not None:
            return super().close()
        closing = super().close()
        if not closing.called and self.clock is not None and self.close_timeout is not None:
            timer = self.clock.callLater(self.close_timeout, self.abort)

            def closed(result: object) -> object:
                if timer.active():
                    timer.cancel()
                return result

            closing.addBoth(closed)
        return closing

    def abort(self) -> None:
        """Drop the connection at once."""
        transport: Any = self.transport
        if transport is not None and not self._aborted:
            self._aborted = True
            transport.abortConnection()

    def handshakeCompleted(self) -> None:
        self._handshake_done = True
        waiters, self._handshake_waiters = self._handshake_waiters, []
        for waiter in waiters:
            if not waiter.called:  # not cancelled
                waiter.callback(None)

    def when_handshake_done(self) -> Deferred[None]:
        """Fires once the TLS handshake has completed; fails with the reason
        the connection was lost if it is lost before."""
        if self._handshake_done:
            return succeed(None)
        if self._lost_reason is not None:
            return fail(self._lost_reason)
        waiter: Deferred[None] = Deferred(lambda _: self.abort())
        self._handshake_waiters.append(waiter)
        return waiter

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        lost = self._lost_reason = reason.value
        super().connectionLost(reason)
        waiters, self._handshake_waiters = self._handshake_waiters, []
        for waiter in waiters:
            if not waiter.called:  # not cancelled
                waiter.errback(lost)


class _NodeProtocolFactory(ArakoonProtocolFactory):
    def buildProtocol(self, addr: object) -> _NodeProtocol:
        protocol = _NodeProtocol(self.cluster_id, **self.settings)
        protocol.factory = self
        return protocol


class _NodeLink:
    """The client's connection to one node: connects on demand, trying the
    node's addresses in turn, and forgets the connection when it is lost."""

    log = Logger()

    def __init__(self, client: ArakoonClient, node: NodeConfig) -> None:
        self.client = client
        self.node = node
        self.protocol: _NodeProtocol | None = None
        self._connecting: _Shared[_NodeProtocol] | None = None
        self._dedicated: set[_NodeProtocol] = set()
        self._next_host = 0

    def get(self) -> Deferred[_NodeProtocol]:
        """A connected protocol to this node (connecting if needed)."""
        if self.protocol is not None and self.protocol.connected:
            return succeed(self.protocol)
        if self._connecting is None:
            connecting = Deferred.fromCoroutine(self.open())
            # Cache the connection before its waiters resume and send on it.
            connecting.addBoth(self._connected)
            shared = _Shared(connecting)
            if shared.done:  # it connected (or failed) synchronously
                return shared.wait()
            self._connecting = shared
        return self._connecting.wait()

    def _connected(self, result: Any) -> Any:
        self._connecting = None
        if isinstance(result, _NodeProtocol):
            if self.client._closed:
                result.close()
                return Failure(NotConnectedError(_AFTER_DISCONNECT))  # type: ignore[no-untyped-call]
            self.protocol = result
            result.when_lost().addCallback(self._lost, result)
            self.log.debug("Connected to {node}", node=self.node.name)
        return result

    def _lost(self, _: object, protocol: _NodeProtocol) -> None:
        if self.protocol is protocol:
            self.log.info(
                "Connection to {node} lost: {reason}",
                node=self.node.name,
                reason=protocol._lost_reason,
            )
            self.protocol = None

    async def open(self) -> _NodeProtocol:
        """A new connection, not cached (also used for dedicated connections)."""
        hosts = self.node.hosts
        causes: list[str] = []
        for step in range(len(hosts)):
            index = (self._next_host + step) % len(hosts)
            host = hosts[index]
            try:
                protocol = await self._connect(host)
            except CancelledError:
                raise
            except Exception as error:  # any way of failing to connect
                causes.append(f"{host}:{self.node.port}: {error}")
                continue
            self._next_host = index
            return protocol
        self._next_host = (self._next_host + 1) % len(hosts)
        raise RequestNotProcessed(f"cannot connect to {self.node.name} ({'; '.join(causes)})", None)

    async def _connect(self, host: str) -> _NodeProtocol:
        client = self.client
        endpoint = client._endpoint_for(self.node, host)
        factory = _NodeProtocolFactory(
            client.config.cluster_id,
            max_in_flight=client.max_in_flight,
            silence_timeout=client.silence_timeout,
            clock=client.clock,
            close_timeout=client.connect_timeout,
        )
        attempt: Deferred[Any] = endpoint.connect(factory)
        attempt.addTimeout(client.connect_timeout, client.clock)
        protocol: _NodeProtocol = await attempt
        try:
            if client._tls is not None:
                await self._handshake(protocol)
            if not protocol.connected:
                # E.g. a MaxConnections/GoingDown frame that arrived before the
                # first request: the node refused the connection.
                raise ConnectionError(
                    "the node closed the connection at once (going down, or too many clients?)"
                )
        except BaseException:
            protocol.abort()
            raise
        client._configure_socket(protocol)
        return protocol

    async def _handshake(self, protocol: _NodeProtocol) -> None:
        client = self.client
        done = protocol.when_handshake_done()
        done.addTimeout(client.connect_timeout, client.clock)
        try:
            await done
        except CancelledError:
            raise
        except Exception as error:
            from .tls import version_advice

            text = f"TLS handshake failed: {error}"
            advice = version_advice(error, client.config.tls.version if client.config.tls else None)
            if advice is not None:
                text += f" ({advice})"
            raise ConnectionError(text) from error

    async def open_dedicated(self) -> _NodeProtocol:
        """A connection of its own, closed by :meth:`close` too."""
        protocol = await self.open()
        if self.client._closed:
            protocol.close()
            raise NotConnectedError(_AFTER_DISCONNECT)
        self._dedicated.add(protocol)
        protocol.when_lost().addCallback(lambda _: self._dedicated.discard(protocol))
        return protocol

    def close(self) -> Deferred[None]:
        """Stop connecting, and close every connection to this node."""
        if self._connecting is not None:
            self._connecting.cancel()
        protocols = [self.protocol, *self._dedicated]
        self.protocol = None
        closing = [protocol.close() for protocol in protocols if protocol is not None]
        done: Deferred[Any] = DeferredList(closing, consumeErrors=True)
        return done.addCallback(lambda _: None)


class ArakoonClient(ClientMixin[Async]):
    """A client for a whole Arakoon cluster.

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
        long while requests are pending; it must exceed ``drop_master``'s wait
        (half a lease).
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
            if not value > 0:
                raise ValueError(f"{name} must be positive, not {value}")
        self._backoff = retry.Backoff(backoff[0], backoff[1], jitter)
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
        self._tls: ClientTLS | None = None
        if config.tls is not None:
            from .tls import ClientTLS

            self._tls = ClientTLS(config.tls)
        self._links = {name: _NodeLink(self, node) for name, node in config.nodes.items()}
        self._master: str | None = None
        self._last_master: str | None = None
        self._master_hint: str | None = None
        self._discovery: _Shared[str] | None = None
        self._attempts: set[_Attempt] = set()
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
        """A view of this client whose calls use these settings.

        For example::

            await client.using(timeout=2).get(b"k")
            await client.using(retry_idempotent=True).set(b"k", b"v")
        """
        if timeout is not None and not timeout > 0:
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
        """Stop every pending call and close every connection; fires once all
        are closed. Pending calls fail with
        :class:`~txarakoon.errors.NotConnectedError` (writes already sent with
        :class:`~txarakoon.errors.OutcomeUnknown`), and so do later calls."""
        self._closed = True
        self._master = None
        for attempt in list(self._attempts):
            attempt.interrupt(retry.Interruption.DISCONNECT)
        if self._discovery is not None:
            self._discovery.cancel()
        closing = [link.close() for link in self._links.values()]
        done: Deferred[Any] = DeferredList(closing, consumeErrors=True)
        return done.addCallback(lambda _: None)

    # -- calls ------------------------------------------------------------------

    def _run(
        self, call: Callable[[_Attempt], Coroutine[Any, Any, T]], timeout: float | None
    ) -> Deferred[T]:
        """Run ``call`` under a deadline (``None``: none), interruptible by
        :meth:`disconnect`."""
        deadline = float("inf") if timeout is None else self.clock.seconds() + timeout
        attempt = _Attempt(deadline)
        result: Deferred[T] = Deferred.fromCoroutine(call(attempt))
        if result.called:
            return result
        attempt.result = result
        self._attempts.add(attempt)
        timer = None
        if timeout is not None:
            timer = self.clock.callLater(timeout, attempt.interrupt, retry.Interruption.DEADLINE)

        def finished(outcome: object) -> object:
            self._attempts.discard(attempt)
            if timer is not None and timer.active():
                timer.cancel()
            return outcome

        return result.addBoth(finished)

    def _submit(self, message: Message[T], options: CallOptions) -> Deferred[T]:
        if self._closed:
            return fail(NotConnectedError(_AFTER_DISCONNECT))
        timeout = options.timeout if options.timeout is not None else self.timeout
        if message.command is messages.WHO_MASTER:
            asking = cast("Message[Any]", message)
            return self._run(lambda attempt: self._ask_who_master(asking, attempt), timeout)
        return self._run(lambda attempt: self._call(message, options, attempt), timeout)

    async def _call(self, message: Message[T], options: CallOptions, attempt: _Attempt) -> T:
        command = message.command
        retry_unknown = command.read_only or (options.retry_idempotent and command.idempotent)
        consistency = message.consistency
        dirty = consistency is not None and consistency is not Consistent
        retries = 0
        last_attempt = False
        avoid: set[str] = set()
        last: BaseException | None = None
        while True:
            sent = first = False
            node: str | None = None
            try:
                if self._closed:
                    raise NotConnectedError(_AFTER_DISCONNECT)
                node = self._dirty_node(avoid) if dirty else await self._find_master()
                protocol = await self._links[node].get()
                first = protocol.requests_sent == 0
                reply = protocol.send(message)
                sent = True
                return await reply
            except CancelledError as cancelled:
                if attempt.interrupted is None:
                    raise  # the caller cancelled
                if isinstance(cancelled, CancelledBeforeSending):
                    sent = False  # it waited unsent in the protocol: never written
                raise attempt.error(
                    message, sent=sent, retry_unknown=retry_unknown, last_error=last
                ) from None
            except Exception as error:
                decision = retry.after_failure(
                    error,
                    first_on_connection=first,
                    retry_unknown=retry_unknown,
                    request=repr(message),
                )
                if isinstance(decision, retry.Raise):
                    if decision.forget_master:
                        self._forget(node, error)
                    if decision.error is error:
                        raise
                    raise decision.error from None
                self._forget(node, error, hint=decision.master_hint)
                if decision.avoid_node and dirty and node is not None:
                    avoid.add(node)
                last = error
            remaining = attempt.deadline - self.clock.seconds()
            wait = (
                None
                if last_attempt
                else self._backoff.wait(retries, remaining, self._random.random())
            )
            if wait is None:
                raise last
            last_attempt = self._backoff.is_last(wait, remaining)
            self.log.info(
                "Retrying {request} in {delay:.3f} s after {error!r}",
                request=repr(message),
                delay=wait,
                error=last,
            )
            await deferLater(self.clock, wait)
            retries += 1

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
        if node is not None and self._master == node:
            self.log.info("Forgetting master {node}: {cause!r}", node=node, cause=cause)
            self._master = None
        if hint is not None:
            name = hint.decode("utf-8", "replace")
            if name in self._links:
                self._master_hint = name

    # -- master discovery -------------------------------------------------------

    def _find_master(self) -> Deferred[str]:
        if self._master is not None:
            return succeed(self._master)
        if self._discovery is None:
            discovering = Deferred.fromCoroutine(self._discover())
            discovering.addBoth(self._discovered)
            shared = _Shared(discovering)
            if shared.done:
                return shared.wait()
            self._discovery = shared
        return self._discovery.wait()

    def _discovered(self, result: Any) -> Any:
        self._discovery = None
        if isinstance(result, str) and not self._closed:
            if result != self._last_master:
                self.log.info(
                    "Master is {node} (was {previous})", node=result, previous=self._last_master
                )
            self._master = self._last_master = result
        return result

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
                causes.append(f"{name}: {explain(error)}")
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
                causes.append(f"{answer} (named by {name}): {explain(error)}")
                continue
            if confirmed == answer:
                return answer
            causes.append(f"{name} names {answer}, which names {confirmed}")
        raise NoMasterError("; ".join(causes) or "no node answered", None)

    async def _who_master_on(self, name: str) -> str | None:
        protocol = await self._links[name].get()
        question = protocol.send(messages.WHO_MASTER())
        question.addTimeout(self.connect_timeout, self.clock)
        answer = await question
        return None if answer is None else answer.decode("utf-8", "replace")

    async def _ask_who_master(self, message: Message[Any], attempt: _Attempt) -> Any:
        """``who_master()`` on the cluster: a fresh discovery, never the cache."""
        self._master = None
        try:
            name = await self._find_master()
        except NoMasterError:
            return None
        except CancelledError:
            if attempt.interrupted is None:
                raise
            raise attempt.error(message, sent=False) from None
        return name.encode("utf-8")

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

    def _configure_socket(self, protocol: ArakoonProtocol) -> None:
        keepalive = self.config.keepalive
        handle = _socket_of(protocol.transport)
        if handle is None or not keepalive.enabled:
            return
        try:
            handle.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            for option, value in (
                ("TCP_KEEPIDLE", keepalive.idle),
                ("TCP_KEEPINTVL", keepalive.interval),
                ("TCP_KEEPCNT", keepalive.probes),
            ):
                if hasattr(socket, option):
                    handle.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)
        except OSError as error:
            self.log.debug("Cannot set TCP keepalive: {error}", error=error)


def _socket_of(transport: Any) -> socket.socket | None:
    """The TCP socket under ``transport``, looking through TLS (whose
    ``getHandle()`` is the OpenSSL connection, its ``transport`` the TCP one)."""
    for _ in range(4):
        if transport is None:
            return None
        get_handle = getattr(transport, "getHandle", None)
        handle = get_handle() if callable(get_handle) else None
        if isinstance(handle, socket.socket):
            return handle
        transport = getattr(transport, "transport", None)
    return None


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

    Calls share the client's connection to that node and its default deadline
    (:class:`~txarakoon.errors.RequestTimeout`). ``collapse_tlogs`` runs on a
    connection of its own, closed afterwards, without deadline (it may take
    long: cancel its Deferred to give up).
    """

    def __init__(self, client: ArakoonClient, link: _NodeLink) -> None:
        self.client = client
        self._link = link
        self.name = link.node.name

    @property
    def connected(self) -> bool:
        return self.client.connected

    def _process(self, message: Message[T]) -> Deferred[T]:
        client = self.client
        if client._closed:
            return fail(NotConnectedError(_AFTER_DISCONNECT))
        if message.command is messages.COLLAPSE_TLOGS:
            return client._run(lambda attempt: self._dedicated(message, attempt), None)
        return client._run(lambda attempt: self._send(message, attempt), client.timeout)

    async def _send(self, message: Message[T], attempt: _Attempt) -> T:
        sent = False
        try:
            protocol = await self._link.get()
            reply = protocol.send(message)
            sent = True
            return await reply
        except CancelledError:
            if attempt.interrupted is None:
                raise
            raise attempt.error(message, sent=sent) from None

    async def _dedicated(self, message: Message[T], attempt: _Attempt) -> T:
        try:
            protocol = await self._link.open_dedicated()
        except CancelledError:
            if attempt.interrupted is None:
                raise
            raise attempt.error(message, sent=False) from None
        try:
            return await protocol.send(message)
        except CancelledError:
            if attempt.interrupted is None:
                raise
            raise attempt.error(message, sent=True) from None
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
        if not message.command.read_only:
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
