"""The cluster client: :class:`ArakoonClient` (see the package documentation)."""

from __future__ import annotations

import random as _random
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar, cast

from twisted.internet.defer import CancelledError, Deferred, DeferredList, fail
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.interfaces import IReactorTime, IStreamClientEndpoint
from twisted.internet.task import deferLater
from twisted.logger import Logger

from .. import messages, retry
from ..client import Async, ClientMixin
from ..config import ClusterConfig, NodeConfig
from ..consistency import Consistent
from ..errors import NoMasterError, NotConnectedError
from ..messages import Message
from ..protocol import CancelledBeforeSending
from .calls import AFTER_DISCONNECT, Attempt, CallOptions
from .discovery import Discovery
from .links import LinkSettings, NodeLink, NodeProtocol
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
        long while requests are pending; it must exceed ``drop_master``'s silence
        (about 1.5 leases: PROTOCOL.md D27).
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
            lambda: self._closed,
        )
        self._links = {name: NodeLink(settings, node) for name, node in config.nodes.items()}
        self._discovery = Discovery(
            self._links, self.clock, connect_timeout, self._random, lambda: self._closed
        )
        self._attempts: set[Attempt] = set()
        self.read_node = read_node or self._random.choice(list(config.nodes))
        self._closed = False

    # -- the facade's plumbing ------------------------------------------------

    @property
    def connected(self) -> bool:
        """``False`` once :meth:`disconnect` was called (it connects on demand)."""
        return not self._closed

    def connection(self, name: str) -> NodeProtocol | None:
        """The connection this client holds to node ``name``, if it holds one
        (it connects on demand, and forgets a connection once it is lost)."""
        if name not in self._links:
            raise KeyError(f"no node {name!r} in the cluster")
        return self._links[name].protocol

    @property
    def master(self) -> str | None:
        """The master this client currently sends to, if it knows one. This is a
        cache: :meth:`who_master` asks the cluster."""
        return self._discovery.master

    def _process(self, message: Message[T]) -> Deferred[T]:
        return self.submit(message, CallOptions())

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
        # The calls first: each then fails as interrupted, not as cancelled.
        for attempt in list(self._attempts):
            attempt.interrupt(retry.Interruption.DISCONNECT)
        self._discovery.stop()
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
        deadline = float("inf") if timeout is None else self.clock.seconds() + timeout
        attempt = Attempt(deadline)
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

    def submit(self, message: Message[T], options: CallOptions) -> Deferred[T]:
        """Send ``message`` with master discovery, failover and retries, under
        ``options`` (what :meth:`using` does for a whole view)."""
        if self._closed:
            return fail(NotConnectedError(AFTER_DISCONNECT))
        timeout = options.timeout if options.timeout is not None else self.timeout
        if message.command is messages.WHO_MASTER:
            asking = cast("Message[Any]", message)
            return self.run(lambda attempt: self._ask_who_master(asking, attempt), timeout)
        return self.run(lambda attempt: self._call(message, options, attempt), timeout)

    async def _call(self, message: Message[T], options: CallOptions, attempt: Attempt) -> T:
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
                    raise NotConnectedError(AFTER_DISCONNECT)
                node = self._dirty_node(avoid) if dirty else await self._discovery.find()
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
                        self._discovery.forget(node, error)
                    if decision.error is error:
                        raise
                    raise decision.error from None
                self._discovery.forget(node, error, hint=decision.master_hint)
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

    async def _ask_who_master(self, message: Message[Any], attempt: Attempt) -> Any:
        """``who_master()`` on the cluster: a fresh discovery, never the cache."""
        self._discovery.master = None
        try:
            name = await self._discovery.find()
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
