"""Views of a blocking cluster client: with per-call settings, on one node,
or as a session that reads its own writes; the blocking counterparts of
:mod:`txarakoon.cluster.views`, with the same semantics."""

from __future__ import annotations

import logging
from typing import Any, Protocol, TypeVar

from ..admin import AdminMixin
from ..client import ClientMixin, Sync
from ..messages import Message
from ..retry import CallOptions
from ..sessions import SESSION_CALLS, TXID_LOST, OptionsView, ReadsOwnWrites, View, run_blocking

__all__ = ["CallOptions", "Calls", "ClientView", "NodeClient", "ReadYourWrites"]

T = TypeVar("T")

log = logging.getLogger("txarakoon.blocking_cluster")


class Calls(Protocol):
    """What the views use of their :class:`BlockingArakoonClient`."""

    @property
    def connected(self) -> bool: ...

    def submit(self, message: Message[T], options: CallOptions) -> T: ...

    def send_to(self, name: str, message: Message[T]) -> T: ...


class ClientView(OptionsView[Calls], ClientMixin[Sync]):
    """The commands of a :class:`BlockingArakoonClient`, with per-call settings."""

    def _process(self, message: Message[T]) -> T:
        return self.client.submit(message, self.options)


class NodeClient(View[Calls], ClientMixin[Sync], AdminMixin[Sync]):
    """Commands sent to one named node, without master discovery or retries.

    Calls share the client's connection to that node and its default deadline
    (:class:`~txarakoon.errors.RequestTimeout`). ``collapse_tlogs`` runs on a
    connection of its own, closed afterwards, without deadline (it may take
    long; the node must not stay silent longer than ``silence_timeout``
    between its progress reports).
    """

    def __init__(self, client: Calls, name: str) -> None:
        super().__init__(client)
        self.name = name

    def __repr__(self) -> str:
        return f"<NodeClient {self.name}>"

    def _process(self, message: Message[T]) -> T:
        return self.client.send_to(self.name, message)


class ReadYourWrites(ReadsOwnWrites[Calls], ClientMixin[Sync]):
    """A session over a :class:`BlockingArakoonClient` whose reads see its own
    writes, as :class:`txarakoon.cluster.ReadYourWrites` does.

    After each write made through the session, it asks the master for its txid
    (``get_txid``). Reads through the session that ask for the default
    (``Consistent``) consistency are sent to the read node with ``AtLeast`` that
    txid instead; if that node has not caught up yet
    (:class:`~txarakoon.errors.InconsistentRead`, usual right after a write, as
    a slave applies an update only once the next one is agreed), the read is
    made on the master. Reads that ask for another consistency are left alone.
    Before its first write, the session reads from the master; so it does after
    a write whose ``get_txid`` failed (the write's own result is still what the
    call returns: it succeeded).
    """

    def _txid_lost(self, message: Message[Any], error: Exception) -> None:
        log.info(TXID_LOST.format(command=message.command.name, error=error))

    def _process(self, message: Message[T]) -> T:
        return run_blocking(self._route(message, self._submit))

    def _submit(self, message: Message[T]) -> T:
        return self.client.submit(message, SESSION_CALLS)
