"""What every command handler of a node works with: :class:`NodeCore`.

The handlers (:mod:`txarakoon.testing.commands`) are mixins built on it;
:class:`~txarakoon.testing.node.ArakoonNode` adds the network side. A node
core holds the node's copy of the data and its statistics, applies the role
rules every command checks (``sync_backend.ml`` of the server), and sends each
update through "Paxos": role check, size check, then the cluster agrees on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final, TypeVar

from twisted.internet.defer import Deferred

from ..consistency import AtLeast, Consistency, Consistent
from ..errors import BadInput, InconsistentRead, NotMaster, NotSupported, UnknownFailure
from ..messages import Command, Statistics
from .quoting import UNKNOWN_FAILURE
from .statistics import NodeStatistics
from .store import Store, Transaction
from .updates import Update, describe, serialized_size
from .view import ClusterView

__all__ = ["NodeCore", "handlers_of", "handles"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

_NOT_FRESH: Final = b"store not fresh enough"
_ON_MASTER: Final = b"Operation cannot be performed on master node"


def handles(command: Command[Any]) -> Callable[[F], F]:
    """Mark a method of a :class:`NodeCore` subclass as the handler of ``command``."""

    def mark(function: F) -> F:
        function.handles = command  # type: ignore[attr-defined]
        return function

    return mark


def handlers_of(classes: Iterable[type]) -> dict[Command[Any], Callable[..., Any]]:
    """The handler of each command among the methods of ``classes``."""
    return {
        function.handles: function
        for klass in classes
        for function in vars(klass).values()
        if isinstance(getattr(function, "handles", None), Command)
    }


class NodeCore:
    """A node's data and the rules its commands follow.

    :ivar name: the node name (``str``).
    :ivar cluster: the node's cluster, as the node sees it.
    :ivar store: the node's own copy of the data; on a slave it lags the master
        (see :attr:`ArakoonCluster.lag <txarakoon.testing.cluster.ArakoonCluster.lag>`).
    """

    def __init__(self, cluster: ClusterView, name: str) -> None:
        self.cluster = cluster
        self.name = name
        self.name_bytes = name.encode("utf-8")
        self.store = Store()
        self._statistics = NodeStatistics(cluster.clock.seconds())

    # Public faces of the node, documented with it: ArakoonNode defines them.

    @property
    def is_master(self) -> bool:
        raise NotImplementedError

    def who_master(self) -> str | None:
        raise NotImplementedError

    def statistics(self) -> Statistics:
        raise NotImplementedError

    # -- role checks (sync_backend.ml) ----------------------------------------

    def _write_allowed(self) -> None:
        if len(self.cluster) == 1:
            return
        master = self.who_master()
        if master is None:
            raise NotMaster(b"None")
        if master != self.name:
            raise NotMaster(master.encode("utf-8"))

    def _read_allowed(self, consistency: Consistency) -> None:
        if consistency is Consistent:
            self._write_allowed()
        elif isinstance(consistency, AtLeast) and consistency.i > self.store.txid:
            raise InconsistentRead(_NOT_FRESH)

    def _not_if_master(self) -> None:
        if self.who_master() == self.name:
            raise NotSupported(_ON_MASTER)

    def _check_value_size(self, value: bytes | None) -> None:
        # The server raises an exception its reply mapper does not know (D5).
        if value is not None and len(value) >= self.cluster.max_value_size:
            raise UnknownFailure(UNKNOWN_FAILURE)

    def _update(self, update: Update, run: Callable[[Transaction], T]) -> T | Deferred[T]:
        """Push an update through "Paxos": role check, size check, commit."""
        self._write_allowed()
        size = serialized_size(update)
        limit = self.cluster.max_buffer_size
        if size > limit:
            raise BadInput(b"update %s has size %d > %d" % (describe(update), size, limit))
        return self.cluster.propose(self.name, run)
