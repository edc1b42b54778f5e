"""The blocking cluster client: :class:`BlockingArakoonClient` (see the
package documentation)."""

from __future__ import annotations

import logging
import random as _random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from .. import master_claims, messages, retry, stall_rule
from ..blocking import ClosedOnExit
from ..client import ClientMixin, Sync
from ..codec import DEFAULT_MAX_REPLY_LENGTH
from ..config import ClusterConfig, check_client_settings
from ..consistency import Consistent
from ..errors import NoMasterError, NotConnectedError
from ..messages import Message
from ..ssl_context import ClientContext
from .links import DeadlineReached, Link, LinkSettings, symptom_of
from .stalls import StallCheck, Watch
from .views import CallOptions, ClientView, NodeClient, ReadYourWrites

__all__ = ["BlockingArakoonClient"]

T = TypeVar("T")

log = logging.getLogger("txarakoon.blocking_cluster")

#: Why a call on a closed client fails.
CLOSED = "the client is closed: after close(), make a new BlockingArakoonClient"

#: The options of a call made on the client itself.
_DEFAULT = CallOptions()


class BlockingArakoonClient(ClosedOnExit, ClientMixin[Sync]):
    """A blocking client for a whole Arakoon cluster, for scripts and tools
    without a reactor: each command method returns its value (or raises).

    It finds the master, follows it through elections and retries only what
    is safe, exactly as :class:`~txarakoon.cluster.ArakoonClient` does: the
    decisions are :mod:`txarakoon.retry`'s, the same functions. One request at
    a time, on one connection per node it talks to.

    :param config: the :class:`~txarakoon.config.ClusterConfig` (its ``tls``
        is loaded here: a bad file is a :class:`~txarakoon.config.ConfigError`).
    :param timeout: default deadline of a call, retries included (seconds).
        The default (30 s) rides through a real election.
    :param connect_timeout: per address, for the TCP connection and the TLS
        handshake, and for each ``who_master`` question of a discovery (of
        a stall check too, but there at most the period between its rounds).
    :param silence_timeout: how long a node may stay silent while a reply is
        due before its connection counts as lost.
    :param stall_interval: when the master's connection receives nothing for
        this long while a reply is due, the other nodes are asked who is
        master, and again every second (every ``stall_interval`` if shorter)
        while the silence lasts; once they name and confirm another master,
        the silent one is left: the call is retried there if it is a read,
        and raises :class:`~txarakoon.errors.OutcomeUnknown` if it is a
        write (see :mod:`txarakoon.stall_rule` and the failover guide).
        ``None``: a quarter of the configuration's ``lease_period``, or 1 s
        without one. No check with one node, or with a ``stall_interval``
        no shorter than ``silence_timeout`` (``math.inf`` turns it off).
    :param backoff: first and largest delay between retries; delays double,
        with ``jitter`` (a fraction) of randomness either way.
    :param read_node: the node for dirty reads; ``None`` picks one at random.
    :param random: the source of randomness (discovery order, read node, jitter).

    Use it from one thread at a time: a call made while another thread's is
    in progress raises :class:`RuntimeError` at once (give each thread its own
    client). It connects on demand; :meth:`close` (or leaving a ``with``
    block) closes every connection, for good.
    """

    def __init__(
        self,
        config: ClusterConfig,
        timeout: float = 30.0,
        *,
        connect_timeout: float = 5.0,
        silence_timeout: float = 30.0,
        stall_interval: float | None = None,
        backoff: tuple[float, float] = (0.1, 2.0),
        jitter: float = 0.5,
        read_node: str | None = None,
        max_reply_length: int = DEFAULT_MAX_REPLY_LENGTH,
        random: _random.Random | None = None,
    ) -> None:
        check_client_settings(
            config, read_node, timeout, connect_timeout, silence_timeout, stall_interval
        )
        self._backoff = retry.Backoff(backoff[0], backoff[1], jitter)
        self.config = config
        self.timeout = timeout
        self.backoff = backoff
        self.jitter = jitter
        self.connect_timeout = connect_timeout
        self._random = random or _random.Random()
        settings = LinkSettings(
            config.cluster_id,
            connect_timeout,
            silence_timeout,
            max_reply_length,
            None if config.tls is None else ClientContext(config.tls),
            config.keepalive,
        )
        self._links = {name: Link(settings, node) for name, node in config.nodes.items()}
        self._read_node = read_node or self._random.choice(list(config.nodes))
        if stall_interval is None:
            stall_interval = stall_rule.default_interval(config.lease_period)
        self.stall_interval = stall_interval
        self._stalls: StallCheck | None = None
        if stall_rule.checks(len(self._links), stall_interval, silence_timeout):
            self._stalls = StallCheck(
                list(self._links),
                stall_interval,
                self._stall_question,
                self._random,
                connect_timeout,
            )
        self._master: str | None = None
        self._last_master: str | None = None
        self._hint: str | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._user: str | None = None

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"master {self._master or 'unknown'}"
        return f"<BlockingArakoonClient {self.config.to_spec()} {state}>"

    # -- the facade's plumbing ------------------------------------------------

    @property
    def connected(self) -> bool:
        """``False`` once :meth:`close` was called (it connects on demand)."""
        return not self._closed

    @property
    def master(self) -> str | None:
        """The master this client currently sends to, if it knows one. This is a
        cache: :meth:`who_master` asks the cluster."""
        return self._master

    @property
    def read_node(self) -> str:
        """The node dirty reads go to (another one once it fails)."""
        return self._read_node

    @read_node.setter
    def read_node(self, name: str) -> None:
        if name not in self._links:
            raise KeyError(f"no node {name!r} in the cluster")
        self._read_node = name

    def _process(self, message: Message[T]) -> T:
        return self.submit(message, _DEFAULT)

    def using(self, *, timeout: float | None = None, retry_idempotent: bool = False) -> ClientView:
        """A view of this client whose calls use these settings, e.g.
        ``client.using(timeout=2).get(b"k")`` or
        ``client.using(retry_idempotent=True).set(b"k", b"v")``."""
        return ClientView(self, CallOptions(timeout, retry_idempotent))

    def node(self, name: str | bytes) -> NodeClient:
        """A client for one node: per-node state (``version()``, ``statistics()``,
        ``get_current_state()``, ``who_master()``, ``get_txid()``, …) and the admin
        commands of :class:`~txarakoon.admin.AdminMixin`. No retries."""
        text = name.decode("utf-8", "replace") if isinstance(name, bytes) else name
        if text not in self._links:
            raise KeyError(f"no node {text!r} in the cluster")
        return NodeClient(self, text)

    def read_your_writes(self) -> ReadYourWrites:
        """A session whose reads see its own earlier writes while going to the
        read node when it can (see :class:`ReadYourWrites`)."""
        return ReadYourWrites(self)

    def close(self) -> None:
        """Close every connection, for good: later calls raise
        :class:`~txarakoon.errors.NotConnectedError`."""
        with self._exclusive():
            self._closed = True
            self._master = None
            for link in self._links.values():
                link.close()

    # -- calls ------------------------------------------------------------------

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One call at a time: a second caller is refused, not queued (two
        threads sharing a client would each wait for the other's replies)."""
        if not self._lock.acquire(blocking=False):
            raise RuntimeError(
                f"this BlockingArakoonClient is in use by thread {self._user!r}: "
                "use a client from one thread at a time (give each thread its own)"
            )
        self._user = threading.current_thread().name
        try:
            yield
        finally:
            self._user = None
            self._lock.release()

    def submit(self, message: Message[T], options: CallOptions) -> T:
        """Send ``message`` with master discovery, failover and retries, under
        ``options`` (what :meth:`using` does for a whole view)."""
        with self._exclusive():
            if self._closed:
                raise NotConnectedError(CLOSED)
            timeout = self.timeout if options.timeout is None else options.timeout
            deadline = time.monotonic() + timeout
            if message.command is messages.WHO_MASTER:
                return cast("T", self._ask_who_master(message, deadline))
            return self._call(message, options, deadline)

    def send_to(self, name: str, message: Message[T]) -> T:
        """Send ``message`` to node ``name``, without discovery or retries
        (:meth:`node`'s plumbing)."""
        with self._exclusive():
            if self._closed:
                raise NotConnectedError(CLOSED)
            link = self._links[name]
            if message.command is messages.COLLAPSE_TLOGS:
                # Long, and its progress keeps arriving: no deadline, and a
                # connection of its own, so the shared one is not held up.
                connection = link.open(time.monotonic() + self.connect_timeout)
                try:
                    return link.call(connection, message, float("inf"), None)
                finally:
                    connection.close()
            deadline = time.monotonic() + self.timeout
            try:
                return link.send(message, deadline)
            except DeadlineReached as reached:
                raise reached.error(repr(message), retry_unknown=True) from None

    def _call(self, message: Message[T], options: CallOptions, deadline: float) -> T:
        """The retry loop: attempts until one succeeds, the policy of
        :mod:`txarakoon.retry` says raise, or the deadline leaves no time."""
        command = message.command
        request = repr(message)
        retry_unknown = command.read_only or (options.retry_idempotent and command.idempotent)
        consistency = message.consistency
        dirty = consistency is not None and consistency is not Consistent
        avoid: set[str] = set()
        last: BaseException | None = None
        schedule = retry.Schedule(self._backoff, self._random)
        while True:
            if last is not None:
                wait = schedule.next_wait(deadline - time.monotonic())
                if wait is None:
                    raise last
                log.info("Retrying %s in %.3f s after %r", request, wait, last)
                time.sleep(wait)
            node: str | None = None
            first = False
            watch: Watch | None = None
            try:
                node = self._dirty_node(avoid) if dirty else self._find_master(deadline)
                link = self._links[node]
                link.connection(deadline)
                first = link.requests_sent == 0
                if self._stalls is not None and not dirty:
                    watch = self._stalls.watch(node, deadline)
                return link.send(message, deadline, watch=watch)
            except DeadlineReached as reached:
                raise reached.error(request, retry_unknown=retry_unknown, last_error=last) from last
            except Exception as error:
                if watch is not None and watch.new_master is not None:
                    self._hint = watch.new_master  # asked first by the next discovery
                decision = retry.after_failure(
                    error, first_on_connection=first, retry_unknown=retry_unknown, request=request
                )
                if isinstance(decision, retry.Raise):
                    if decision.forget_master:
                        self._forget(node, error)
                    if decision.error is error:
                        raise
                    raise decision.error from error
                self._forget(node, error, hint=decision.master_hint)
                if decision.avoid_node and dirty and node is not None:
                    avoid.add(node)
                last = error

    def _dirty_node(self, avoid: set[str]) -> str:
        node = retry.next_read_node(self._read_node, list(self._links), avoid, self._random)
        if node != self._read_node:
            self._read_node = node
            log.info("Dirty reads now go to %s", node)
        return node

    # -- the master ---------------------------------------------------------------

    def _forget(self, node: str | None, cause: BaseException, hint: bytes | None = None) -> None:
        """``node`` failed with ``cause``: if it is the master, discover again,
        asking ``hint`` (a ``NotMaster`` reply's) first."""
        if node is not None and self._master == node:
            log.info("Forgetting master %s: %r", node, cause)
            self._master = None
        if hint is not None:
            name = hint.decode("utf-8", "replace")
            if name in self._links:
                self._hint = name

    def _find_master(self, deadline: float) -> str:
        """The cached master, or the one a discovery confirms
        (:func:`txarakoon.master_claims.discover`)."""
        if self._master is not None:
            return self._master
        order = master_claims.order(self._links, self._random, self._hint)
        self._hint = None
        fresh: dict[str, bool] = {}

        def ask(name: str) -> master_claims.Answer:
            # A failure at the first reply of a new connection says more.
            fresh[name] = not self._links[name].connected
            return self._who_master_on(name, deadline)

        plan = master_claims.discover(
            order,
            self._links,
            lambda name, error: symptom_of(error, first_reply=fresh.get(name, False)),
            self.config.cluster_id.decode("utf-8", "backslashreplace"),
        )
        master = master_claims.drive(plan, ask)
        if master != self._last_master:
            log.info("Master is %s (was %s)", master, self._last_master)
        self._master = self._last_master = master
        return master

    def _who_master_on(self, name: str, deadline: float) -> master_claims.Answer:
        try:
            answer = self._links[name].send(messages.WHO_MASTER(), deadline, self.connect_timeout)
        except DeadlineReached:
            raise
        except Exception as error:
            return error
        return None if answer is None else answer.decode("utf-8", "replace")

    def _stall_question(self, name: str, deadline: float) -> master_claims.Answer:
        """The stall check's ``who_master`` question to ``name``: a failure,
        the deadline's included, is an answer, not the call's end."""
        try:
            return self._who_master_on(name, deadline)
        except DeadlineReached as reached:
            return reached

    def _ask_who_master(self, message: Message[Any], deadline: float) -> bytes | None:
        """``who_master()`` on the cluster: a fresh discovery, never the cache."""
        self._master = None
        try:
            name = self._find_master(deadline)
        except NoMasterError as error:
            # None only when a node answered; else why none could be asked.
            if error.answered:
                return None
            raise
        except DeadlineReached:
            raise retry.when_interrupted(
                retry.Interruption.DEADLINE,
                sent=False,
                retry_unknown=True,
                last_error=None,
                request=repr(message),
            ) from None
        return name.encode("utf-8")
