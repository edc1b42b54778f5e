"""Which node is master, as far as one cluster client knows: the cached
answer, the discovery that finds it, and what makes the client forget it."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet.defer import CancelledError, Deferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from .. import master_claims, messages
from ..retry import Symptom
from .calls import Shared
from .links import NodeLink
from .symptoms import symptom_of

__all__ = ["Discovery"]


class Discovery:
    """The master of one client's cluster: asked once, shared by every call
    waiting for it, forgotten when a failure says it may have moved.

    :param links: the client's link to each node, by name (the other parts
        of the client read them here: ``links``, ``clock``,
        ``question_timeout``).
    :param question_timeout: how long each ``who_master`` question may take.
    :param closed: whether the client was disconnected (an answer found
        since is not cached).
    """

    log = Logger()

    def __init__(
        self,
        links: Mapping[str, NodeLink],
        clock: IReactorTime,
        question_timeout: float,
        rng: random.Random,
        closed: Callable[[], bool],
    ) -> None:
        self.links = links
        self.clock = clock
        self.question_timeout = question_timeout
        self._random = rng
        self._closed = closed
        self._master: str | None = None
        self._watchers: list[Callable[[], None]] = []
        self._last_master: str | None = None
        self._hint: str | None = None
        self._running: Shared[str] | None = None

    @property
    def master(self) -> str | None:
        """The master's name, while it is known."""
        return self._master

    @master.setter
    def master(self, name: str | None) -> None:
        self._master = name
        for watcher in self._watchers:
            watcher()

    def watch(self, watcher: Callable[[], None]) -> None:
        """Call ``watcher()`` whenever :attr:`master` is set (found, forgotten)."""
        self._watchers.append(watcher)

    def find(self) -> Deferred[str]:
        """The master: the cached one, or the result of a discovery (one at a
        time, whoever asks)."""
        if self.master is not None:
            return succeed(self.master)
        if self._running is None:
            discovering = Deferred.fromCoroutine(self._discover())
            discovering.addBoth(self._discovered)
            shared = Shared(discovering)
            if shared.done:
                return shared.wait()
            self._running = shared
        return self._running.wait()

    def forget(self, node: str | None, cause: BaseException, hint: bytes | None = None) -> None:
        """``node`` failed with ``cause``: if it is the master, discover again,
        asking ``hint`` (a ``NotMaster`` reply's) first."""
        if node is not None and self.master == node:
            self.log.info("Forgetting master {node}: {cause!r}", node=node, cause=cause)
            self.master = None
        if hint is not None:
            name = hint.decode("utf-8", "replace")
            if name in self.links:
                self._hint = name

    def stop(self) -> None:
        """Forget the master and stop a discovery under way (disconnect)."""
        self.master = None
        if self._running is not None:
            self._running.cancel()

    def _discovered(self, result: Any) -> Any:
        self._running = None
        if isinstance(result, str) and not self._closed():
            if result != self._last_master:
                self.log.info(
                    "Master is {node} (was {previous})", node=result, previous=self._last_master
                )
            self.master = self._last_master = result
        return result

    async def _discover(self) -> str:
        """One round of :func:`txarakoon.master_claims.discover` (the rule both
        flavours follow), asking each node it names over the node's link."""
        order = master_claims.order(self.links, self._random, self._hint)
        self._hint = None
        symptoms: dict[str, Symptom] = {}
        some_link = next(iter(self.links.values()), None)
        cluster_id = None if some_link is None else some_link.settings.cluster_id
        plan = master_claims.discover(
            order,
            self.links,
            lambda name, error: symptoms.get(name, Symptom.TRANSIENT),
            None if cluster_id is None else cluster_id.decode("utf-8", "replace"),
        )
        name = next(plan)
        while True:
            answer: master_claims.Answer
            try:
                answer = await self._who_master_on(name)
            except CancelledError:
                raise
            except _Failed as failed:
                symptoms[name] = failed.symptom
                answer = failed.error
            try:
                name = plan.send(answer)
            except StopIteration as done:
                master: str = done.value
                return master

    async def _who_master_on(self, name: str) -> str | None:
        link = self.links[name]
        tls = link.settings.tls is not None
        try:
            protocol = await link.get()
        except CancelledError:
            raise
        except Exception as error:
            raise _Failed(error, symptom_of(error, first_reply=False, tls=tls)) from None
        first = protocol.requests_sent == 0
        question = protocol.send(messages.WHO_MASTER())
        question.addTimeout(self.question_timeout, self.clock)
        try:
            answer = await question
        except CancelledError:
            raise
        except Exception as error:
            raise _Failed(error, symptom_of(error, first_reply=first, tls=tls)) from None
        return None if answer is None else answer.decode("utf-8", "replace")


class _Failed(Exception):
    """Connecting to or asking a node failed with ``error``."""

    def __init__(self, error: Exception, symptom: Symptom) -> None:
        super().__init__(error)
        self.error = error
        self.symptom = symptom
