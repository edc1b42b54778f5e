"""The blocking cluster client's connections: one :class:`Link` per node, a
:class:`~txarakoon.blocking.SocketClient` made on demand through the node's
addresses, and each request under the call's deadline."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TypeVar

from ..blocking import SocketClient
from ..config import KeepAlive, NodeConfig
from ..errors import ConnectionLost, ProtocolViolation, RequestNotProcessed, RequestTimeout
from ..messages import Message
from ..retry import Interruption, Symptom, when_interrupted
from ..ssl_context import ClientContext, TLSFailure
from .stalls import Watch

__all__ = ["DeadlineReached", "Link", "LinkSettings"]

T = TypeVar("T")

log = logging.getLogger("txarakoon.blocking_cluster")


class DeadlineReached(Exception):
    """The call's deadline ran out during an attempt (not some shorter
    timeout): the retry policy's :func:`~txarakoon.retry.when_interrupted`
    says what the call raises.

    :ivar sent: whether the request had been written.
    """

    def __init__(self, sent: bool) -> None:
        super().__init__("the call's deadline ran out")
        self.sent = sent

    def error(
        self, request: str, *, retry_unknown: bool, last_error: BaseException | None = None
    ) -> BaseException:
        """What the call of ``request`` raises, by the retry policy."""
        return when_interrupted(
            Interruption.DEADLINE,
            sent=self.sent,
            retry_unknown=retry_unknown,
            last_error=last_error,
            request=request,
        )


@dataclass(frozen=True)
class LinkSettings:
    """What a link needs from the client that owns it."""

    cluster_id: bytes
    #: Per address, for the TCP connection and the TLS handshake.
    connect_timeout: float
    #: How long a node may stay silent while a reply is due.
    silence_timeout: float
    max_reply_length: int
    tls: ClientContext | None
    keepalive: KeepAlive


class Link:
    """The client's connection to one node: made on demand, trying the
    node's addresses in turn; forgotten once it is closed."""

    def __init__(self, settings: LinkSettings, node: NodeConfig) -> None:
        self.settings = settings
        self.node = node
        self._client: SocketClient | None = None
        self._next_host = 0
        #: Requests written on the current connection.
        self.requests_sent = 0

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    def connection(self, deadline: float) -> SocketClient:
        """The connection to this node, connecting first if need be."""
        client = self._client
        if client is not None and client.connected:
            return client
        self._client = None
        self._client = self.open(deadline)
        self.requests_sent = 0
        log.debug("Connected to %s", self.node.name)
        return self._client

    def open(self, deadline: float) -> SocketClient:
        """A new connection, not kept (also for ``collapse_tlogs``'s own).

        Raises :class:`~txarakoon.errors.RequestNotProcessed` naming every
        address's failure, or :class:`DeadlineReached` when the deadline came
        first."""
        settings = self.settings
        hosts = self.node.hosts
        causes: list[str] = []
        last: OSError | None = None
        for step in range(len(hosts)):
            index = (self._next_host + step) % len(hosts)
            host = hosts[index]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineReached(sent=False)
            bounded_by_deadline = remaining < settings.connect_timeout
            client = SocketClient(
                (host, self.node.port),
                settings.cluster_id,
                timeout=min(remaining, settings.connect_timeout),
                max_reply_length=settings.max_reply_length,
                tls=settings.tls,
                keepalive=settings.keepalive,
            )
            try:
                client.connect()
            except TimeoutError as error:
                if bounded_by_deadline:
                    raise DeadlineReached(sent=False) from error
                causes.append(f"{host}:{self.node.port}: {error or 'timed out'}")
                last = error
                continue
            except OSError as error:  # refused, unreachable, TLS
                causes.append(f"{host}:{self.node.port}: {error}")
                last = error
                continue
            self._next_host = index
            return client
        self._next_host = (self._next_host + 1) % len(hosts)
        # The last failure stays reachable as the cause (a TLS failure, say),
        # not only as text.
        raise RequestNotProcessed(
            f"cannot connect to {self.node.name} ({'; '.join(causes)})", None
        ) from last

    def send(
        self,
        message: Message[T],
        deadline: float,
        timeout: float | None = None,
        watch: Watch | None = None,
    ) -> T:
        """Send ``message`` on the connection (made first if need be) and
        return its value, within ``deadline`` and, if given, ``timeout``
        seconds (a ``who_master`` question's own bound); ``watch``: the stall
        check's, when this node is the master."""
        client = self.connection(deadline)
        return self.call(client, message, deadline, timeout, watch)

    def call(
        self,
        client: SocketClient,
        message: Message[T],
        deadline: float,
        bound: float | None,
        watch: Watch | None = None,
    ) -> T:
        """Send ``message`` on ``client`` (this link's, or one of its own)."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineReached(sent=False)
        own = self.settings.silence_timeout if bound is None else bound
        client.timeout = min(remaining, own)
        self.requests_sent += client is self._client
        try:
            if watch is None:
                return client.send(message)
            return client.send(message, watch.patience(client, min(remaining, own)))
        except RequestTimeout as timeout:
            if watch is not None and watch.reason is not None:
                # Another master is in charge: as a lost connection, which
                # the retry policy weighs (a read again; a write unknown).
                raise ConnectionLost(watch.reason, repr(message)) from timeout
            if remaining <= own:
                raise DeadlineReached(sent=True) from timeout
            # The node kept silent: as the Twisted flavour, a lost connection,
            # which the retry policy weighs (a read again; a write unknown).
            reason = f"the node sent nothing for {own:g} s"
            raise ConnectionLost(reason, repr(message)) from timeout

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()


def symptom_of(error: BaseException, *, first_reply: bool) -> Symptom:
    """The :class:`~txarakoon.retry.Symptom` of ``error``, a failure to
    connect to a node or to get a reply (``first_reply``: to the first request
    of a new connection), as the blocking flavour raises them. As
    :func:`txarakoon.cluster.links.symptom_of` for the Twisted one, this reads
    exceptions; :mod:`txarakoon.retry` decides what the symptoms mean."""
    if isinstance(error, ProtocolViolation):
        return Symptom.NOT_ARAKOON
    tls = next((e for e in _causes(error) if isinstance(e, TLSFailure)), None)
    if tls is not None:
        return Symptom.TLS_ON_PLAIN_PORT if tls.closed_in_handshake else Symptom.TLS_REFUSED
    if isinstance(error, ConnectionLost) and first_reply:
        return Symptom.CLOSED_AFTER_PROLOGUE
    return Symptom.TRANSIENT


def _causes(error: BaseException) -> list[BaseException]:
    """``error``, its reason (a ConnectionLost's) and its causes."""
    seen: list[BaseException] = []
    pending: list[object] = [error]
    while pending:
        item = pending.pop()
        if isinstance(item, BaseException) and item not in seen:
            seen.append(item)
            pending += [getattr(item, "reason", None), item.__cause__]
    return seen
