"""What a node may ask of its cluster: the :class:`ClusterView` it is given.

A node never reaches into its cluster: it gets the cluster as a
:class:`ClusterView` (an :class:`~txarakoon.testing.cluster.ArakoonCluster`
is one) and asks only these questions. That keeps the node free of the
cluster's internals, and ``node`` free of an import of ``cluster``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime

from .store import Mutation, Transaction

__all__ = ["ClusterView", "UserFunction"]

T = TypeVar("T")

#: A user function: ``(transaction, argument) -> result``.
UserFunction = Callable[[Transaction, "bytes | None"], "bytes | str | None"]


class ClusterView(Protocol):
    """The cluster as one of its nodes sees it."""

    @property
    def cluster_id(self) -> bytes:
        """The id clients must send in their prologue and ``hello``."""

    @property
    def clock(self) -> IReactorTime:
        """The clock of leases, elections, reply delays and statistics."""

    @property
    def max_value_size(self) -> int:
        """The ``max_value_size`` of ``set`` & co."""

    @property
    def max_buffer_size(self) -> int:
        """The largest serialized update."""

    @property
    def tlog_max_entries(self) -> int:
        """Updates per transaction log (for ``collapse_tlogs``)."""

    @property
    def user_functions(self) -> Mapping[bytes, UserFunction]:
        """The registered user functions, by name."""

    @property
    def master(self) -> str | None:
        """The node holding mastership now, or ``None``."""

    def __len__(self) -> int:
        """How many nodes the cluster has, dead ones included."""

    def who_master(self) -> str | None:
        """What every node answers to ``who_master`` now."""

    def progress_possible(self, name: str) -> bool:
        """What ``expect_progress_possible`` answers on node ``name`` now."""

    def settling(self) -> bool:
        """Whether a new master still dictates (``Master_dictate``, D31)."""

    def keep_time(self) -> None:
        """Bring the cluster to its clock's present: agree on the lease
        renewals that fell due (D31). A node calls it before each request."""

    def live_txids(self) -> dict[str, int]:
        """How many updates each live node has applied, by name."""

    def mutations_of(self, txid: int) -> list[Mutation]:
        """The writes of agreed update ``txid``, for a node catching up to it."""

    def propose(self, proposer: str, run: Callable[[Transaction], T]) -> T | Deferred[T]:
        """Agree on one update that node ``proposer`` accepted (roles and size
        checked); its result, or a Deferred while the master waits for a majority."""

    def drop_master_on_request(self) -> Deferred[None]:
        """``drop_master`` sent to the master: it stops renewing its lease;
        fires when the reply is due (D27)."""

    def call_later(self, delay: float, function: Callable[..., None], *args: Any) -> object:
        """Call ``function(*args)`` after ``delay`` seconds on the cluster's clock
        (even if the cluster changes clocks meanwhile)."""
