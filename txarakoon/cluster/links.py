"""The cluster client's connections: one link per node, connecting on demand
through the node's addresses, with the TLS handshake and TCP keepalive."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from twisted.internet.defer import CancelledError, Deferred, DeferredList, fail, succeed
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IHandshakeListener, IReactorTime, IStreamClientEndpoint
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from ..config import KeepAlive, NodeConfig, TLSConfig
from ..errors import NotConnectedError, RequestNotProcessed
from ..messages import Message
from ..protocol import ArakoonProtocol, ArakoonProtocolFactory
from ..retry import Symptom
from .calls import AFTER_DISCONNECT, Shared
from .symptoms import CannotConnect, ConnectFailed, symptom_of

__all__ = [
    "LinkSettings",
    "NodeLink",
    "NodeProtocol",
    "SilenceHooks",
    "set_keepalive",
    "socket_of",
]

T = TypeVar("T")

log = Logger()


class SilenceHooks(Protocol):
    """What a connection's silence timer asks of the client's stall check
    (:class:`~txarakoon.cluster.stalls.StallWatch`)."""

    def period(self, protocol: NodeProtocol, seconds: float) -> float:
        """The period to arm ``protocol``'s silence timer with, instead of
        ``seconds`` (shorter on the master's connection)."""

    def silent(self, protocol: NodeProtocol) -> bool:
        """``protocol``'s silence timer fired: whether the hooks took care
        of it (``False``: the silence timeout is reached, abort)."""


def _no_stall_check() -> SilenceHooks | None:
    return None


@dataclass(frozen=True)
class LinkSettings:
    """What a node link needs from the client that owns it."""

    cluster_id: bytes
    clock: IReactorTime
    #: Per address, for the TCP connection and the TLS handshake; also how
    #: long a closing connection may take before it is aborted.
    connect_timeout: float
    silence_timeout: float
    max_in_flight: int | None
    keepalive: KeepAlive
    #: With TLS, a connection is ready once its handshake is done.
    tls: TLSConfig | None
    endpoint_for: Callable[[NodeConfig, str], IStreamClientEndpoint]
    #: Whether the client was disconnected: a connection made since is closed.
    closed: Callable[[], bool]
    #: The client's stall check, if it has one (asked when connecting).
    stalls: Callable[[], SilenceHooks | None] = _no_stall_check


@implementer(IHandshakeListener)
class NodeProtocol(ArakoonProtocol):
    """An :class:`ArakoonProtocol` that counts the requests written on it and
    tells when its TLS handshake (if any) is done."""

    def __init__(
        self,
        cluster_id: bytes | str,
        *,
        close_timeout: float | None = None,
        stalls: SilenceHooks | None = None,
        **settings: Any,
    ) -> None:
        self.stalls = stalls
        super().__init__(cluster_id, **settings)
        self.close_timeout = close_timeout
        self.requests_sent = 0
        self._handshake_waiters: list[Deferred[None]] = []
        self._handshake_done = False
        self._lost_reason: BaseException | None = None
        self._aborted = False

    @property
    def lost_reason(self) -> BaseException | None:
        """Why the connection was lost, once it is."""
        return self._lost_reason

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

    # -- the silence timer also times the stall check (stalls.py) -------------

    def setTimeout(self, period: float | None) -> float | None:
        if period is not None and self.stalls is not None:
            period = self.stalls.period(self, period)
        return super().setTimeout(period)

    def timeoutConnection(self) -> None:
        if self.stalls is None or not self.stalls.silent(self):
            super().timeoutConnection()

    def abandon(self, cause: BaseException) -> None:
        """Give up on the connection now, as its silence timeout does:
        written requests fail with ``ConnectionLost`` (``cause``), unsent ones
        with ``RequestNotProcessed``."""
        if not self._finished():
            self._abort(cause)

    # ---------------------------------------------------------------------------

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


class NodeProtocolFactory(ArakoonProtocolFactory):
    def buildProtocol(self, addr: object) -> NodeProtocol:
        protocol = NodeProtocol(self.cluster_id, **self.settings)
        protocol.factory = self
        return protocol


class NodeLink:
    """The client's connection to one node: connects on demand, trying the
    node's addresses in turn, and forgets the connection when it is lost."""

    log = Logger()

    def __init__(self, settings: LinkSettings, node: NodeConfig) -> None:
        self.settings = settings
        self.node = node
        self.protocol: NodeProtocol | None = None
        self._connecting: Shared[NodeProtocol] | None = None
        self._dedicated: set[NodeProtocol] = set()
        self._next_host = 0

    def get(self) -> Deferred[NodeProtocol]:
        """A connected protocol to this node (connecting if needed)."""
        if self.protocol is not None and self.protocol.connected:
            return succeed(self.protocol)
        if self._connecting is None:
            connecting = Deferred.fromCoroutine(self.open())
            # Cache the connection before its waiters resume and send on it.
            connecting.addBoth(self._connected)
            shared = Shared(connecting)
            if shared.done:  # it connected (or failed) synchronously
                return shared.wait()
            self._connecting = shared
        return self._connecting.wait()

    def _connected(self, result: Any) -> Any:
        self._connecting = None
        if isinstance(result, NodeProtocol):
            if self.settings.closed():
                result.close()
                return Failure(NotConnectedError(AFTER_DISCONNECT))  # type: ignore[no-untyped-call]
            self.protocol = result
            result.when_lost().addCallback(self._lost, result)
            self.log.debug("Connected to {node}", node=self.node.name)
        return result

    def _lost(self, _: object, protocol: NodeProtocol) -> None:
        if self.protocol is protocol:
            self.log.info(
                "Connection to {node} lost: {reason}",
                node=self.node.name,
                reason=protocol._lost_reason,
            )
            self.protocol = None

    async def open(self) -> NodeProtocol:
        """A new connection, not cached (also used for dedicated connections)."""
        hosts = self.node.hosts
        causes: list[str] = []
        symptoms: set[Symptom] = set()
        for step in range(len(hosts)):
            index = (self._next_host + step) % len(hosts)
            host = hosts[index]
            try:
                protocol = await self._connect(host)
            except CancelledError:
                raise
            except Exception as error:  # any way of failing to connect
                causes.append(f"{host}:{self.node.port}: {error}")
                symptoms.add(
                    symptom_of(error, first_reply=False, tls=self.settings.tls is not None)
                )
                continue
            self._next_host = index
            return protocol
        self._next_host = (self._next_host + 1) % len(hosts)
        # Only when every address failed alike does the node fail that way.
        symptom = symptoms.pop() if len(symptoms) == 1 else Symptom.TRANSIENT
        raise CannotConnect(f"cannot connect to {self.node.name} ({'; '.join(causes)})", symptom)

    async def _connect(self, host: str) -> NodeProtocol:
        settings = self.settings
        endpoint = settings.endpoint_for(self.node, host)
        factory = NodeProtocolFactory(
            settings.cluster_id,
            max_in_flight=settings.max_in_flight,
            silence_timeout=settings.silence_timeout,
            clock=settings.clock,
            close_timeout=settings.connect_timeout,
            stalls=settings.stalls(),
        )
        attempt: Deferred[Any] = endpoint.connect(factory)
        attempt.addTimeout(settings.connect_timeout, settings.clock)
        protocol: NodeProtocol = await attempt
        try:
            if settings.tls is not None:
                await self._handshake(protocol)
            if not protocol.connected:
                # E.g. a MaxConnections/GoingDown frame that arrived before the
                # first request (the protocol aborts on it): the node refused
                # the connection. A clean close without a byte is what a node
                # does after a prologue naming another cluster.
                clean = isinstance(protocol.lost_reason, ConnectionDone)
                raise ConnectFailed(
                    "the node closed the connection at once "
                    + ("without a reply" if clean else "(going down, or too many clients?)"),
                    Symptom.CLOSED_AFTER_PROLOGUE if clean else Symptom.TRANSIENT,
                )
        except BaseException:
            protocol.abort()
            raise
        set_keepalive(protocol, settings.keepalive)
        return protocol

    async def _handshake(self, protocol: NodeProtocol) -> None:
        settings = self.settings
        done = protocol.when_handshake_done()
        done.addTimeout(settings.connect_timeout, settings.clock)
        try:
            await done
        except CancelledError:
            raise
        except Exception as error:
            from ..tls import handshake_symptom, verify_failure, version_advice

            text = f"TLS handshake failed: {error}"
            why = verify_failure(protocol.transport)
            if why is not None:
                text += f": {why}"
            advice = version_advice(error, settings.tls.version if settings.tls else None)
            if advice is not None:
                text += f" ({advice})"
            raise ConnectFailed(text, handshake_symptom(error)) from error

    async def open_dedicated(self) -> NodeProtocol:
        """A connection of its own, closed by :meth:`close` too."""
        protocol = await self.open()
        if self.settings.closed():
            protocol.close()
            raise NotConnectedError(AFTER_DISCONNECT)
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


def socket_of(transport: Any) -> socket.socket | None:
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


def set_keepalive(protocol: ArakoonProtocol, keepalive: KeepAlive) -> None:
    """Turn on TCP keepalive on the connection's socket, as configured (a
    transport without a TCP socket, e.g. in memory, is left alone)."""
    handle = socket_of(protocol.transport)
    if handle is None or not keepalive.enabled:
        return
    try:
        keepalive.set_on(handle)
    except OSError as error:
        log.debug("Cannot set TCP keepalive: {error}", error=error)
