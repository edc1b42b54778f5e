"""Administrative commands, on one node: mix :class:`AdminMixin` into a client.

:class:`~txarakoon.protocol.ArakoonProtocol` and
:class:`~txarakoon.blocking.SocketClient` include it, since each talks to one
node; the cluster client offers it per node (``client.node(name)``). Node-role
rules (PROTOCOL.md §6.2): ``optimize_db``, ``defrag_db`` and ``copy_db_to_head``
are refused on the master with :class:`~txarakoon.errors.NotSupported`;
``drop_master`` on a single-node cluster likewise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, overload

from . import messages
from .client import Async, M, Sync
from .messages import Message

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

__all__ = ["AdminMixin"]

Progress = Callable[[int], object]


class AdminMixin(Generic[M]):
    """Maintenance commands for the node a client is connected to."""

    def _process(self, message: Message[Any]) -> Any:
        raise NotImplementedError

    @overload
    def optimize_db(self: AdminMixin[Async]) -> Deferred[None]: ...
    @overload
    def optimize_db(self: AdminMixin[Sync]) -> None: ...
    def optimize_db(self) -> Any:
        """Rewrite the node's database compactly (a slave only)."""
        return self._process(messages.OPTIMIZE_DB())

    @overload
    def defrag_db(self: AdminMixin[Async]) -> Deferred[None]: ...
    @overload
    def defrag_db(self: AdminMixin[Sync]) -> None: ...
    def defrag_db(self) -> Any:
        """Defragment the node's database (a slave only)."""
        return self._process(messages.DEFRAG_DB())

    @overload
    def drop_master(self: AdminMixin[Async]) -> Deferred[None]: ...
    @overload
    def drop_master(self: AdminMixin[Sync]) -> None: ...
    def drop_master(self) -> Any:
        """Ask the master to give up mastership. It answers after about half a
        lease (5 s by default); any other node answers at once."""
        return self._process(messages.DROP_MASTER())

    @overload
    def flush_store(self: AdminMixin[Async]) -> Deferred[None]: ...
    @overload
    def flush_store(self: AdminMixin[Sync]) -> None: ...
    def flush_store(self) -> Any:
        """Flush the node's pending store writes to disk."""
        return self._process(messages.FLUSH_STORE())

    @overload
    def copy_db_to_head(self: AdminMixin[Async], tlogs_to_keep: int) -> Deferred[None]: ...
    @overload
    def copy_db_to_head(self: AdminMixin[Sync], tlogs_to_keep: int) -> None: ...
    def copy_db_to_head(self, tlogs_to_keep: int) -> Any:
        """Copy the database to the head database, keeping ``tlogs_to_keep``
        (at least 1) transaction logs (a slave only)."""
        return self._process(messages.COPY_DB_TO_HEAD(tlogs_to_keep))

    @overload
    def collapse_tlogs(
        self: AdminMixin[Async], count: int, progress: Progress | None = ...
    ) -> Deferred[int]: ...
    @overload
    def collapse_tlogs(
        self: AdminMixin[Sync], count: int, progress: Progress | None = ...
    ) -> int: ...
    def collapse_tlogs(self, count: int, progress: Progress | None = None) -> Any:
        """Collapse the node's transaction logs, keeping ``count`` (at least 1).

        The server streams one progress value per step; each is passed to
        ``progress`` as it arrives. They are opaque, increasing numbers, not
        durations (PROTOCOL.md D14). Returns the number of steps reported.
        Long-running: prefer a dedicated connection, and close it afterwards.
        """
        return self._process(messages.collapse_tlogs(count, progress))
