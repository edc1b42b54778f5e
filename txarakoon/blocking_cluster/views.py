"""Views of a blocking cluster client: with per-call settings, on one node,
or as a session that reads its own writes; the blocking counterparts of
:mod:`txarakoon.cluster.views`, with the same semantics."""

from __future__ import annotations

import logging
from typing import Protocol, TypeVar

from .. import messages
from ..admin import AdminMixin
from ..client import ClientMixin, Sync
from ..consistency import AtLeast, Consistent
from ..errors import InconsistentRead
from ..messages import Message
from ..retry import CallOptions

__all__ = ["CallOptions", "Calls", "ClientView", "NodeClient", "ReadYourWrites"]

T = TypeVar("T")

log = logging.getLogger("txarakoon.blocking_cluster")


#: The calls of a session: the client's defaults.
_DEFAULT = CallOptions()


class Calls(Protocol):
    """What the views use of their :class:`BlockingArakoonClient`."""

    @property
    def connected(self) -> bool: ...

    def submit(self, message: Message[T], options: CallOptions) -> T: ...

    def send_to(self, name: str, message: Message[T]) -> T: ...


class ClientView(ClientMixin[Sync]):
    """The commands of a :class:`BlockingArakoonClient`, with per-call settings."""

    def __init__(self, client: Calls, options: CallOptions) -> None:
        self.client = client
        self.options = options

    @property
    def connected(self) -> bool:
        return self.client.connected

    def _process(self, message: Message[T]) -> T:
        return self.client.submit(message, self.options)


class NodeClient(ClientMixin[Sync], AdminMixin[Sync]):
    """Commands sent to one named node, without master discovery or retries.

    Calls share the client's connection to that node and its default deadline
    (:class:`~txarakoon.errors.RequestTimeout`). ``collapse_tlogs`` runs on a
    connection of its own, closed afterwards, without deadline (it may take
    long; the node must not stay silent longer than ``silence_timeout``
    between its progress reports).
    """

    def __init__(self, client: Calls, name: str) -> None:
        self.client = client
        self.name = name

    def __repr__(self) -> str:
        return f"<NodeClient {self.name}>"

    @property
    def connected(self) -> bool:
        return self.client.connected

    def _process(self, message: Message[T]) -> T:
        return self.client.send_to(self.name, message)


class ReadYourWrites(ClientMixin[Sync]):
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

    def __init__(self, client: Calls) -> None:
        self.client = client
        self.txid: AtLeast | None = None

    @property
    def connected(self) -> bool:
        return self.client.connected

    def _process(self, message: Message[T]) -> T:
        client = self.client
        if not message.command.read_only:
            result = client.submit(message, _DEFAULT)
            try:
                txid = client.submit(messages.GET_TXID(), _DEFAULT)
            except Exception as error:
                # The write's own outcome is what the caller asked for: it
                # succeeded. Without its txid, only the master is sure to
                # have it, so the session reads there until the next write.
                self.txid = None
                log.info(
                    "read_your_writes: after %s succeeded, get_txid failed (%s); "
                    "reading from the master until the next write",
                    message.command.name,
                    error,
                )
                return result
            if isinstance(txid, AtLeast) and (self.txid is None or txid.i > self.txid.i):
                self.txid = txid
            return result
        if message.consistency is not Consistent or self.txid is None:
            return client.submit(message, _DEFAULT)
        fresh = Message(message.command, (self.txid, *message.arguments[1:]))
        try:
            return client.submit(fresh, _DEFAULT)
        except InconsistentRead:
            return client.submit(message, _DEFAULT)
