"""The handlers of the commands about the node and the cluster: who is who,
versions, statistics, transaction numbers, and node maintenance (§6.2, §8)."""

from __future__ import annotations

from typing import Final

from twisted.internet.defer import Deferred

from ... import messages
from ...consistency import AtLeast, Consistency
from ...errors import NotSupported, UnknownFailure
from ...messages import Statistics, Version
from ..core import NodeCore, handles
from ..quoting import UNKNOWN_FAILURE, ocaml_quoted

__all__ = ["ARAKOON_VERSION", "AdminCommands"]

#: The version this server claims to be: ``hello`` and ``version`` answer it.
ARAKOON_VERSION: Final = (1, 9, 25)

_HELLO: Final = b"Arakoon %d.%d.%d" % ARAKOON_VERSION
_SINGLETON: Final = b"drop master not supported for singletons"

# The collapse_tlogs progress values are opaque (§8.6); these grow like the
# server's (about 0.6 ms apart in its units of 2**-22 s).
_COLLAPSE_STEP: Final = 2621


class AdminCommands(NodeCore):
    """``hello``, ``who_master``, ``current_state``, ``expect_progress_possible``,
    ``get_txid``, ``version``, ``statistics``, and the maintenance commands."""

    # How many updates collapse_tlogs has collapsed; a class default so that
    # this mixin needs no __init__ of its own.
    _collapsed_upto = 0

    @handles(messages.HELLO)
    def _cmd_hello(self, client_id: bytes, cluster_id: bytes) -> bytes:
        if cluster_id != self.cluster.cluster_id:
            raise UnknownFailure(UNKNOWN_FAILURE)
        return _HELLO

    @handles(messages.WHO_MASTER)
    def _cmd_who_master(self) -> bytes | None:
        master = self.who_master()
        return None if master is None else master.encode("utf-8")

    @handles(messages.CURRENT_STATE)
    def _cmd_current_state(self) -> bytes:
        if self.is_master:
            return b"Master_dictate" if self.cluster.settling() else b"Stable_master"
        if self.who_master() is not None:
            return b"Slave_steady_state"
        return b"Slave_waiting_for_prepare"

    @handles(messages.EXPECT_PROGRESS_POSSIBLE)
    def _cmd_expect_progress_possible(self) -> bool:
        return self.cluster.progress_possible(self.name)

    @handles(messages.GET_TXID)
    def _cmd_get_txid(self) -> Consistency:
        return AtLeast(self.store.txid)

    @handles(messages.VERSION_COMMAND)
    def _cmd_version(self) -> Version:
        info = b"revision: %s\ncompiled: %s\nmachine: %s\n" % (
            ocaml_quoted(b"txarakoon.testing"),
            ocaml_quoted(b"in-memory"),
            ocaml_quoted(self.name_bytes),
        )
        return (*ARAKOON_VERSION, info)

    @handles(messages.STATISTICS_COMMAND)
    def _cmd_statistics(self) -> Statistics:
        return self.statistics()

    # -- maintenance (the real node-role rules, §6.2) -------------------------

    @handles(messages.COLLAPSE_TLOGS)
    def _cmd_collapse_tlogs(self, count: int) -> list[int]:
        if count < 1:
            raise UnknownFailure(b"%d is not acceptable" % count)
        entries = self.cluster.tlog_max_entries
        completed = (self.store.txid - self._collapsed_upto) // entries
        to_collapse = max(0, completed - count)
        self._collapsed_upto += to_collapse * entries
        # The 1.9 server announces tlogs to collapse + 2 frames (§8.6), on
        # any node and even with nothing to collapse (D28).
        frames = to_collapse + 2
        return [(index + 1) * _COLLAPSE_STEP for index in range(frames)]

    @handles(messages.OPTIMIZE_DB)
    def _cmd_optimize_db(self) -> None:
        self._not_if_master()

    @handles(messages.DEFRAG_DB)
    def _cmd_defrag_db(self) -> None:
        self._not_if_master()

    @handles(messages.DROP_MASTER)
    def _cmd_drop_master(self) -> Deferred[None] | None:
        if len(self.cluster) == 1:
            raise NotSupported(_SINGLETON)
        if self.who_master() == self.name:
            return self.cluster.drop_master_on_request()
        return None

    @handles(messages.FLUSH_STORE)
    def _cmd_flush_store(self) -> None:
        return None

    @handles(messages.COPY_DB_TO_HEAD)
    def _cmd_copy_db_to_head(self, tlogs_to_keep: int) -> None:
        if tlogs_to_keep < 1:
            raise UnknownFailure(b"tlogs_to_keep=%d is not acceptable" % tlogs_to_keep)
        self._not_if_master()
