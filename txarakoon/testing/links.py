"""The in-memory connections of one cluster, moved together by ``flush``.

Every node of a cluster shares one :class:`MemoryLinks`; a
:class:`~txarakoon.testing.memory.MemoryConnection` to a node joins it, and
``cluster.flush()`` pumps every joined connection, in the order they were made,
until none moves. One shared list (rather than one per node) keeps that order
across nodes, so a test sees the same interleaving every time.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Link", "MemoryLinks"]


class Link(Protocol):
    """A connection that moves its bytes when pumped."""

    @property
    def disconnected(self) -> bool:
        """Whether it is closed on both sides (it is then dropped)."""

    def pump(self) -> bool:
        """Move what each side wrote once; whether anything happened."""


class MemoryLinks:
    """The in-memory connections of one cluster."""

    def __init__(self) -> None:
        self._links: list[Link] = []

    def add(self, link: Link) -> None:
        """Pump ``link`` from now on, after the links added before it."""
        self._links.append(link)

    def flush(self) -> bool:
        """Move bytes over every link until none move; whether any did."""
        moved = False
        for _ in range(10_000):
            step = False
            for link in list(self._links):
                if link.pump():
                    step = True
                if link.disconnected:
                    self._links.remove(link)
            if not step:
                return moved
            moved = True
        raise RuntimeError("in-memory connections keep talking: giving up")
