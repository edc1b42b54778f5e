"""The agreed updates of a cluster, and how far each node has applied them.

The cluster keeps one agreed :class:`~txarakoon.testing.store.Store` (what the
master sees) and the writes of each agreed update, until every node has
applied it. :meth:`Replication.replicate` then lets each running node catch up:
the master (or the only node) to the last update, a slave to ``lag`` updates
before it, as production does (a slave applies update ``i`` once ``i + 1`` is
agreed, PROTOCOL.md §5.2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from ..errors import ArakoonError
from .node import ArakoonNode
from .store import Mutation, Store, Transaction

__all__ = ["Replication"]

T = TypeVar("T")


class Replication:
    """The agreed log of a cluster's ``nodes``.

    :ivar store: the latest agreed state.
    :ivar lag: how many updates slaves stay behind the master.
    """

    def __init__(self, nodes: Mapping[str, ArakoonNode], lag: int) -> None:
        self.store = Store()
        self.lag = lag
        self._nodes = nodes
        self._log: list[list[Mutation]] = []
        self._log_start = 0

    @property
    def txid(self) -> int:
        """The number of updates agreed so far."""
        return self.store.txid

    def execute(self, run: Callable[[Transaction], T], master: str | None) -> T:
        """Run one update on the agreed state and commit it; its result."""
        transaction = Transaction(self.store)
        try:
            result = run(transaction)
        except ArakoonError:
            # A failing update still takes its number (and keeps D19's deletions).
            self.commit(transaction.failed_mutations(), master)
            raise
        self.commit(transaction.mutations(), master)
        return result

    def commit(self, mutations: list[Mutation], master: str | None) -> None:
        """Agree on one update made of ``mutations``, and replicate it."""
        self._log.append(mutations)
        self.store.apply(mutations)
        self.replicate(master)

    def mutations_of(self, txid: int) -> list[Mutation]:
        """The writes of update ``txid`` (one that some node has yet to apply)."""
        return self._log[txid - 1 - self._log_start]

    def replicate(self, master: str | None) -> None:
        """Let every running node apply what it may, with ``master`` in the lead."""
        total = self.txid
        single = len(self._nodes) == 1
        for node in self._nodes.values():
            # A dead or frozen node applies nothing until it runs again.
            if node.running:
                target = total if single or node.name == master else total - self.lag
                node.catch_up(target)
        # Forget updates every node has applied.
        oldest = min(node.store.txid for node in self._nodes.values())
        if oldest > self._log_start:
            del self._log[: oldest - self._log_start]
            self._log_start = oldest
