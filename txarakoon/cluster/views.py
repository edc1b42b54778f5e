"""Views of a cluster client: with per-call settings, on one node, or as a
session that reads its own writes."""

from __future__ import annotations

from typing import Any, TypeVar

from twisted.internet.defer import CancelledError, Deferred, fail
from twisted.logger import Logger

from .. import messages
from ..admin import AdminMixin
from ..client import Async, ClientMixin
from ..errors import NotConnectedError
from ..messages import Message
from ..sessions import SESSION_CALLS, TXID_LOST, OptionsView, ReadsOwnWrites, View
from .calls import AFTER_DISCONNECT, Attempt, Calls
from .links import NodeLink

__all__ = ["ClientView", "NodeClient", "ReadYourWrites"]

T = TypeVar("T")


class ClientView(OptionsView[Calls], ClientMixin[Async]):
    """The commands of an :class:`ArakoonClient`, with per-call settings."""

    def _process(self, message: Message[T]) -> Deferred[T]:
        return self.client.submit(message, self.options)


class NodeClient(View[Calls], ClientMixin[Async], AdminMixin[Async]):
    """Commands sent to one named node, without master discovery or retries.

    Calls share the client's connection to that node and its default deadline
    (:class:`~txarakoon.errors.RequestTimeout`). Two run on a connection of
    their own, closed afterwards, so that nothing waits behind them:
    ``drop_master``, which the master answers only after about 1.5 leases
    (PROTOCOL.md D27), and ``collapse_tlogs``, without deadline (it may take
    long: cancel its Deferred to give up).
    """

    def __init__(self, client: Calls, link: NodeLink) -> None:
        super().__init__(client)
        self._link = link
        self.name = link.node.name

    def _process(self, message: Message[T]) -> Deferred[T]:
        client = self.client
        if not client.connected:
            return fail(NotConnectedError(AFTER_DISCONNECT))
        command = message.command
        if command is messages.COLLAPSE_TLOGS:
            return client.run(lambda attempt: self._dedicated(message, attempt), None)
        if command is messages.DROP_MASTER:
            return client.run(lambda attempt: self._dedicated(message, attempt), client.timeout)
        return client.run(lambda attempt: self._send(message, attempt), client.timeout)

    async def _send(self, message: Message[T], attempt: Attempt) -> T:
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

    async def _dedicated(self, message: Message[T], attempt: Attempt) -> T:
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


class ReadYourWrites(ReadsOwnWrites[Calls], ClientMixin[Async]):
    """A session over an :class:`ArakoonClient` whose reads see its own writes.

    After each write made through the session, it asks the master for its txid
    (``get_txid``). Reads through the session that ask for the default
    (``Consistent``) consistency are sent to the read node with ``AtLeast`` that
    txid instead; if that node has not caught up yet
    (:class:`~txarakoon.errors.InconsistentRead`, which is usual right after a
    write, as a slave applies an update only once the next one is agreed), the
    read is made on the master. Reads that ask for another consistency are left
    alone. Before its first write, the session reads from the master; so it
    does after a write whose ``get_txid`` failed (the write's own result is
    still what the call returns: it succeeded).
    """

    log = Logger()

    def _txid_lost(self, message: Message[Any], error: Exception) -> None:
        self.log.info(TXID_LOST, command=message.command.name, error=error)

    def _process(self, message: Message[T]) -> Deferred[T]:
        return Deferred.fromCoroutine(self._route(message, self._submit))

    def _submit(self, message: Message[T]) -> Deferred[T]:
        return self.client.submit(message, SESSION_CALLS)
