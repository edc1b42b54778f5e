"""How the calls of a cluster client are sent: at once on the hot path,
through the retry loop otherwise, each under its deadline.

The hot path: when the node a call goes to (the master, or the read node for
a dirty read) is known and its connection is up, the request is written at
once with :meth:`~txarakoon.protocol.ArakoonProtocol.submit`, and the caller
gets the protocol's own Deferred with nothing added to it: no coroutine, no
Deferred or callback of ours, no timer (the connection times the deadline,
with one timer for all its requests). The master's connection is kept at
hand once a call found it usable, until the master is found or forgotten
again or the client closes, so that a call to the master costs one read and
its connection's ``connected`` rather than the lookups. A failure comes to
:meth:`Dispatcher._send_failed` before the caller sees it; when the policy of
:mod:`txarakoon.retry` says retry, the call enters the retry loop, a
coroutine, under the same deadline, and the caller's Deferred follows it (it
stays unfired until the retry ends). Every other call starts in the retry
loop: discovery, connecting, backoff; its deadline is the client's
:class:`~txarakoon.cluster.deadlines.Deadlines`'.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Coroutine, Mapping
from functools import partial
from typing import Any, TypeVar, cast

from twisted.internet.defer import CancelledError, Deferred, fail
from twisted.internet.task import deferLater
from twisted.logger import Logger

from .. import messages, retry
from ..consistency import Consistent
from ..errors import NoMasterError, NotConnectedError
from ..messages import Command, Message
from ..protocol import (
    CancelledBeforeSending,
    DeadlinePassed,
    FailureHandler,
    OwnedRequest,
    RequestInterrupted,
)
from .calls import AFTER_DISCONNECT, Attempt, CallOptions
from .deadlines import Deadlines
from .discovery import Discovery
from .links import NodeProtocol

__all__ = ["DEFAULT_OPTIONS", "Dispatcher"]

#: The options of a call made on the client itself.
DEFAULT_OPTIONS = CallOptions()

T = TypeVar("T")

#: Whether each command takes a consistency (``Message.consistency``, looked
#: up rather than computed: the hot path asks for every call). Not
#: ``who_master``, which always runs a discovery.
_TAKES_CONSISTENCY: Mapping[Command[Any], bool] = {
    command: command.takes_consistency
    for command in messages.DECLARED_COMMANDS.values()
    if command is not messages.WHO_MASTER
}


class Dispatcher:
    """Sends the calls of one cluster client.

    It reaches the nodes through ``discovery`` (its ``links``, on its
    ``clock``).

    :param timeout: the default deadline of a call (seconds).
    :param read_node: the node dirty reads go to first.
    :ivar closed: set by the client's ``disconnect()``; calls then fail.
    """

    #: The master's connection while the hot path may use it: set by a call
    #: that found it so (the master known, its connection up and past its
    #: first request), dropped when the master is set (found or forgotten)
    #: or the client closed; a lost connection says so itself
    #: (``connected``). One read then stands for the checks of every call.
    _hot: NodeProtocol | None = None
    _hot_handler: FailureHandler

    log = Logger()

    def __init__(
        self,
        discovery: Discovery,
        backoff: retry.Backoff,
        rng: random.Random,
        timeout: float,
        read_node: str,
    ) -> None:
        self._discovery = discovery
        self.clock = clock = discovery.clock
        self._links = links = discovery.links
        self._backoff = backoff
        self._random = rng
        self.timeout = float(timeout)  # a float: the protocol's fast path takes no int
        self.read_node = read_node
        self._closed = False
        discovery.watch(self._forget_hot)
        self._deadlines = Deadlines(clock)
        # Made once: the hot path uses them for every call. A handler per
        # node, so that the context of a call is its options alone (no tuple
        # made per call, for the collector to follow).
        self._failure_handlers = {name: partial(self._send_failed, name) for name in links}

    @property
    def closed(self) -> bool:
        return self._closed

    @closed.setter
    def closed(self, closed: bool) -> None:
        self._closed = closed
        self._hot = None

    def _forget_hot(self) -> None:
        self._hot = None

    def interrupt_all(self, why: retry.Interruption) -> None:
        """Stop every pending call (the client is being disconnected)."""
        for link in self._links.values():
            protocol = link.protocol
            if protocol is not None:
                protocol.interrupt_owned(why)  # the calls of the hot path
        self._deadlines.interrupt_all(why)

    def run(
        self, call: Callable[[Attempt], Coroutine[Any, Any, T]], timeout: float | None
    ) -> Deferred[T]:
        """Run ``call`` (a coroutine function of its :class:`Attempt`) under a
        deadline of ``timeout`` seconds (``None``: none), interruptible by
        :meth:`interrupt_all`: the plumbing of every call, and of the views."""
        deadline = float("inf") if timeout is None else self.clock.seconds() + timeout
        return self._start(Attempt(deadline), call, timeout)

    def _start(
        self,
        attempt: Attempt,
        call: Callable[[Attempt], Coroutine[Any, Any, T]],
        timeout: float | None,
    ) -> Deferred[T]:
        result: Deferred[T] = Deferred.fromCoroutine(call(attempt))
        if result.called:
            return result
        attempt.result = result
        deadlines = self._deadlines
        deadlines.add_attempt(attempt, timeout)
        return result.addBoth(deadlines.attempt_finished, attempt)

    def submit(self, message: Message[T], options: CallOptions = DEFAULT_OPTIONS) -> Deferred[T]:
        """Send ``message`` with master discovery, failover and retries, under
        ``options`` (what :meth:`using` does for a whole view).

        The hot path is written out here, not in a method of its own: it runs
        for every call, and a call frame is a noticeable part of its cost. Nor
        is there a closure here: a variable a lambda uses becomes a cell,
        made at every call."""
        hot = self._hot
        if hot is not None and hot.connected:
            try:
                reads = _TAKES_CONSISTENCY[message.command]  # (who_master is not there)
            except KeyError:
                pass
            else:
                if not reads or message.arguments[0] is Consistent:
                    try:
                        return hot.submit(
                            message,
                            self._hot_handler,
                            options,
                            None,
                            options.timeout or self.timeout,
                        )
                    except Exception:
                        pass  # the retry loop meets the error again, and decides
        return self._route(message, options)

    def _route(self, message: Message[T], options: CallOptions) -> Deferred[T]:
        """:meth:`submit` without the master's connection at hand: the node
        the call goes to, its connection if it is up (the hot path, which
        the next calls take at once if it is the master's), else the retry
        loop."""
        if self.closed:
            return fail(NotConnectedError(AFTER_DISCONNECT))
        timeout = options.timeout or self.timeout  # (None, or positive)
        command = message.command
        takes_consistency = _TAKES_CONSISTENCY.get(command)
        if takes_consistency is None:
            if command is messages.WHO_MASTER:
                return self._who_master(cast("Message[Any]", message), timeout)
            takes_consistency = command.takes_consistency  # not one of ours
        master = not takes_consistency or message.arguments[0] is Consistent
        node = self._discovery.master if master else self.read_node
        if node is not None:
            protocol = self._links[node].protocol
            # (A connection's first request takes the retry loop, which knows
            # what a refusal at connect means: requests_sent is not 0 here.)
            if protocol is not None and protocol.connected and protocol.requests_sent:
                handler = self._failure_handlers[node]
                if master:
                    self._hot, self._hot_handler = protocol, handler
                # The hot path: the caller gets the protocol's own Deferred,
                # untouched; the protocol times it, and a failure comes to
                # _send_failed first.
                try:
                    return protocol.submit(message, handler, options, None, timeout)
                except Exception:
                    pass  # the retry loop meets the error again, and decides
        return self._retry_loop(message, options, timeout)

    def _retry_loop(self, message: Message[T], options: CallOptions, timeout: float) -> Deferred[T]:
        return self.run(lambda attempt: self._call(message, options, attempt), timeout)

    def _who_master(self, message: Message[Any], timeout: float) -> Deferred[Any]:
        return self.run(lambda attempt: self._ask_who_master(message, attempt), timeout)

    def _send_failed(
        self, node: str, request: OwnedRequest, error: BaseException
    ) -> BaseException | Deferred[Any]:
        """A hot-path attempt failed: the error to raise, as the policy says,
        or the retry loop under the same deadline, which the caller's
        Deferred then follows."""
        message: Message[Any] = request.message
        options: CallOptions = request.context
        deadline = request.deadline
        assert deadline is not None
        command = message.command
        retry_unknown = command.read_only or (options.retry_idempotent and command.idempotent)
        if isinstance(error, RequestInterrupted):
            # Its deadline, or disconnect(): a hot-path call is never retried then.
            why = retry.Interruption.DEADLINE if isinstance(error, DeadlinePassed) else error.why
            assert isinstance(why, retry.Interruption)  # (interrupt_all's)
            return retry.when_interrupted(
                why,
                sent=error.sent,
                retry_unknown=retry_unknown,
                last_error=None,
                request=repr(message),
            )
        if not isinstance(error, Exception):
            return error
        avoid: set[str] = set()
        raised = self._give_up(error, message, node, False, retry_unknown, avoid)
        if raised is not None:
            return raised
        return self._start(
            Attempt(deadline),
            lambda attempt: self._call(message, options, attempt, last=error, avoid=avoid),
            self.timeout if options.timeout is None else options.timeout,
        )

    def _give_up(
        self,
        error: Exception,
        message: Message[Any],
        node: str | None,
        first: bool,
        retry_unknown: bool,
        avoid: set[str],
    ) -> BaseException | None:
        """Apply the retry policy to an attempt at ``message`` on ``node`` that
        failed with ``error``: the error to raise, or ``None`` to retry."""
        decision = retry.after_failure(
            error, first_on_connection=first, retry_unknown=retry_unknown, request=repr(message)
        )
        if isinstance(decision, retry.Raise):
            if decision.forget_master:
                self._discovery.forget(node, error)
            return decision.error
        self._discovery.forget(node, error, hint=decision.master_hint)
        consistency = message.consistency
        dirty = consistency is not None and consistency is not Consistent
        if decision.avoid_node and dirty and node is not None:
            avoid.add(node)
        return None

    async def _call(
        self,
        message: Message[T],
        options: CallOptions,
        attempt: Attempt,
        last: BaseException | None = None,
        avoid: set[str] | None = None,
    ) -> T:
        """The retry loop: attempts until one succeeds, the policy says raise,
        or the deadline leaves no time; ``last`` is the error of an attempt
        already made (and ``avoid`` the nodes a dirty read should not ask)."""
        command = message.command
        retry_unknown = command.read_only or (options.retry_idempotent and command.idempotent)
        consistency = message.consistency
        dirty = consistency is not None and consistency is not Consistent
        avoid = set() if avoid is None else avoid
        schedule = retry.Schedule(self._backoff, self._random)
        while True:
            if last is not None:
                wait = schedule.next_wait(attempt.deadline - self.clock.seconds())
                if wait is None:
                    raise last
                self.log.info(
                    "Retrying {request} in {delay:.3f} s after {error!r}",
                    request=repr(message),
                    delay=wait,
                    error=last,
                )
                await deferLater(self.clock, wait)
            sent = first = False
            node: str | None = None
            try:
                if self.closed:
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
                raised = self._give_up(error, message, node, first, retry_unknown, avoid)
                if raised is error:
                    raise
                if raised is not None:
                    raise raised from None
                last = error

    def _dirty_node(self, avoid: set[str]) -> str:
        node = retry.next_read_node(self.read_node, list(self._links), avoid, self._random)
        if node != self.read_node:
            self.read_node = node
            self.log.info("Dirty reads now go to {node}", node=node)
        return node

    async def _ask_who_master(self, message: Message[Any], attempt: Attempt) -> Any:
        """``who_master()`` on the cluster: a fresh discovery, never the cache;
        ``None`` when some node answered and none confirmed a master, the
        round's error (each node's cause) when no node could be asked."""
        self._discovery.master = None
        try:
            name = await self._discovery.find()
        except NoMasterError as error:
            if error.answered:
                return None
            raise
        except CancelledError:
            if attempt.interrupted is None:
                raise
            raise attempt.error(message, sent=False) from None
        return name.encode("utf-8")
