"""Administrative commands, on one node: mix :class:`AdminMixin` into a client.

:class:`~txarakoon.protocol.ArakoonProtocol` and
:class:`~txarakoon.blocking.SocketClient` include it, since each talks to one
node; the cluster client offers it per node (``client.node(name)``). Node-role
rules (PROTOCOL.md §6.2): ``optimize_db``, ``defrag_db`` and ``copy_db_to_head``
are refused on the master with :class:`~txarakoon.errors.NotSupported`;
``drop_master`` on a single-node cluster likewise.

As in :mod:`txarakoon.client`, each method is written once, as the builder of
its message, and shows the signature of both flavours.
"""

from __future__ import annotations

from collections.abc import Callable

from . import messages
from .facade import Facade, M, command
from .messages import Message

__all__ = ["AdminMixin"]

#: A callback that receives each collapse_tlogs progress value.
Progress = Callable[[int], object]


class AdminMixin(Facade[M]):
    """Maintenance commands for the node a client is connected to."""

    optimize_db = command.sends(
        messages.OPTIMIZE_DB,
        """Rewrite the node's database compactly (a slave only).""",
    )

    defrag_db = command.sends(
        messages.DEFRAG_DB,
        """Defragment the node's database (a slave only).""",
    )

    drop_master = command.sends(
        messages.DROP_MASTER,
        """Ask the master to give up mastership: it stops renewing its lease,
        and keeps serving until the lease runs out. It answers half a lease
        after another node has taken over, about 1.5 leases in all (about 16 s by
        default); any other node answers at once.""",
    )

    flush_store = command.sends(
        messages.FLUSH_STORE,
        """Flush the node's pending store writes to disk.""",
    )

    @command
    def copy_db_to_head(tlogs_to_keep: int) -> Message[None]:
        """Copy the database to the head database, keeping ``tlogs_to_keep``
        (at least 1) transaction logs (a slave only)."""
        return messages.COPY_DB_TO_HEAD(tlogs_to_keep)

    @command
    def collapse_tlogs(count: int, progress: Progress | None = None) -> Message[int]:
        """Collapse the node's transaction logs, keeping ``count`` (at least 1).

        The server streams one progress value per step; each is passed to
        ``progress`` as it arrives. They are opaque, increasing numbers, not
        durations (PROTOCOL.md D14). Returns the number of steps reported.
        Long-running: prefer a dedicated connection, and close it afterwards.
        """
        return messages.collapse_tlogs(count, progress)
