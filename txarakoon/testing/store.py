"""The ordered in-memory key-value store behind each in-memory node.

:class:`Store` keeps user keys sorted (byte order, like Arakoon) and answers the
range questions of the protocol exactly as the server does (PROTOCOL.md §6.2):

* ``range`` / ``range_entries``: keys between ``first`` and ``last`` with their
  inclusivity flags; ascending. A ``None`` upper bound is unbounded whatever
  its flag; a ``None`` lower bound is the empty key *with* its flag (D26), so an
  exclusive one leaves out the key ``b""``;
* ``rev_range_entries``: the same, but ``high`` (the *first* argument on the
  wire) is the upper bound where the backward scan starts; descending;
* ``prefix_keys``: keys starting with the prefix (empty prefix = every key);
* ``max_elements``: any negative number means "all" (D22), 0 means "none".

:attr:`Store.txid` counts the updates the store has applied: it is what
``get_txid`` answers and what ``AtLeast(i)`` reads are checked against. A
failing update (a ``delete`` of a missing key, a failing sequence) still
consumes a number, as on a real node.

:class:`Transaction` is a writable view used to run one update (a sequence, a
user function) before its effect is committed. Its layers reproduce what
Arakoon 1.9 does inside a sequence (PROTOCOL.md §11):

* **D19** — :meth:`Transaction.delete_prefix` deletes at once, outside the
  transaction: a sequence failing later does not undo it
  (:meth:`Transaction.failed_mutations` keeps those deletions);
* **D20** — ``delete_prefix`` and :meth:`Transaction.prefix_keys_before` see the
  store as it was before the sequence (minus earlier DeletePrefix steps): keys
  written by earlier steps are invisible to them, while :meth:`Transaction.get`
  sees everything.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

__all__ = ["Mutation", "Store", "Transaction"]

#: One primitive change: bind ``key`` to ``value``, or delete it (``None``).
Mutation = tuple[bytes, "bytes | None"]

_ALL: Final = -1


def _limit(items: list[bytes], max_elements: int) -> list[bytes]:
    if max_elements < 0:
        return items
    return items[:max_elements]


class Store:
    """Sorted user keys and their values, plus the applied-update counter.

    >>> store = Store()
    >>> store.apply([(b"b", b"2"), (b"a", b"1"), (b"c", b"3")])
    >>> store.range(b"a", False, None, True, -1)
    [b'b', b'c']
    >>> store.txid
    1
    """

    def __init__(self, items: Mapping[bytes, bytes] | None = None) -> None:
        self._values: dict[bytes, bytes] = dict(items or {})
        self._keys: list[bytes] = sorted(self._values)
        #: The number of updates applied so far (``get_txid``).
        self.txid = 0

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[bytes]:
        return iter(list(self._keys))

    def __repr__(self) -> str:
        return f"<Store {len(self)} keys, txid {self.txid}>"

    def get(self, key: bytes) -> bytes | None:
        """The value of ``key``, or ``None``."""
        return self._values.get(key)

    def items(self) -> list[tuple[bytes, bytes]]:
        """Every ``(key, value)``, ascending."""
        return [(key, self._values[key]) for key in self._keys]

    def as_dict(self) -> dict[bytes, bytes]:
        """A copy of the contents (ordered by key)."""
        return dict(self.items())

    # -- primitive writes (no txid change) ----------------------------------

    def put(self, key: bytes, value: bytes | None) -> None:
        """Bind ``key`` to ``value``, or delete it when ``value`` is ``None``."""
        if value is None:
            if self._values.pop(key, None) is not None:
                del self._keys[bisect_left(self._keys, key)]
            return
        if key not in self._values:
            insort(self._keys, key)
        self._values[key] = value

    def apply(self, mutations: Iterable[Mutation]) -> None:
        """Apply one update's mutations, in order, and count the update."""
        for key, value in mutations:
            self.put(key, value)
        self.txid += 1

    def copy(self) -> Store:
        """An independent copy (same contents and txid)."""
        twin = Store()
        twin._values = dict(self._values)
        twin._keys = list(self._keys)
        twin.txid = self.txid
        return twin

    # -- ordered reads ------------------------------------------------------

    def _span(
        self,
        low: bytes | None,
        low_inclusive: bool,
        high: bytes | None,
        high_inclusive: bool,
    ) -> tuple[int, int]:
        keys = self._keys
        # D26: the server reads a None low bound as the empty key and keeps
        # its flag, so an exclusive one leaves out the key b"".
        low = b"" if low is None else low
        start = bisect_left(keys, low) if low_inclusive else bisect_right(keys, low)
        end = len(keys)
        if high is not None:
            end = bisect_right(keys, high) if high_inclusive else bisect_left(keys, high)
        return start, max(start, end)

    def range(
        self,
        first: bytes | None,
        first_inclusive: bool,
        last: bytes | None,
        last_inclusive: bool,
        max_elements: int = _ALL,
    ) -> list[bytes]:
        """Keys from ``first`` to ``last``, ascending, at most ``max_elements``."""
        start, end = self._span(first, first_inclusive, last, last_inclusive)
        if max_elements >= 0:
            end = min(end, start + max_elements)
        return self._keys[start:end]

    def range_entries(self, *bounds: Any) -> list[tuple[bytes, bytes]]:
        """The keys of :meth:`range` (same arguments) with their values."""
        return [(key, self._values[key]) for key in self.range(*bounds)]

    def rev_range_entries(
        self,
        high: bytes | None,
        high_inclusive: bool,
        low: bytes | None,
        low_inclusive: bool,
        max_elements: int = _ALL,
    ) -> list[tuple[bytes, bytes]]:
        """``(key, value)`` pairs from ``high`` down to ``low``, descending."""
        start, end = self._span(low, low_inclusive, high, high_inclusive)
        if max_elements >= 0:
            start = max(start, end - max_elements)
        return [(key, self._values[key]) for key in reversed(self._keys[start:end])]

    def prefix_keys(self, prefix: bytes, max_elements: int = _ALL) -> list[bytes]:
        """Keys starting with ``prefix``, ascending, at most ``max_elements``."""
        keys = self._keys
        start = bisect_left(keys, prefix)
        found: list[bytes] = []
        for index in range(start, len(keys)):
            if len(found) == max_elements:
                break
            key = keys[index]
            if not key.startswith(prefix):
                break
            found.append(key)
        return found


class Transaction:
    """A writable view of a :class:`Store` for running one update.

    Reads see the store, then keys removed by :meth:`delete_prefix`, then the
    pending point writes. Nothing reaches the store until the owner commits
    :meth:`mutations` (success) or :meth:`failed_mutations` (failure).
    User functions receive one of these (see :mod:`txarakoon.testing.node`).
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._removed: dict[bytes, None] = {}
        self._pending: dict[bytes, bytes | None] = {}

    def _before(self, key: bytes) -> bytes | None:
        if key in self._removed:
            return None
        return self._store.get(key)

    def get(self, key: bytes) -> bytes | None:
        """The value of ``key`` as this update sees it, or ``None``."""
        if key in self._pending:
            return self._pending[key]
        return self._before(key)

    def exists(self, key: bytes) -> bool:
        """Whether ``key`` is bound."""
        return self.get(key) is not None

    def put(self, key: bytes, value: bytes | None) -> None:
        """Bind ``key`` to ``value``, or delete it (``None``), when committed."""
        self._pending[key] = value

    def set(self, key: bytes, value: bytes) -> None:
        """Bind ``key`` to ``value`` when committed."""
        self._pending[key] = value

    def delete(self, key: bytes) -> bool:
        """Delete ``key`` when committed; whether it was bound."""
        existed = self.exists(key)
        self._pending[key] = None
        return existed

    def delete_prefix(self, prefix: bytes) -> int:
        """Delete the keys starting with ``prefix`` that existed before this
        update (D20), outside the transaction (D19). Returns how many."""
        keys = [key for key in self._store.prefix_keys(prefix) if key not in self._removed]
        for key in keys:
            self._removed[key] = None
        return len(keys)

    def prefix_keys_before(self, prefix: bytes) -> list[bytes]:
        """The keys under ``prefix`` ignoring this update's point writes (D20)."""
        return [key for key in self._store.prefix_keys(prefix) if key not in self._removed]

    def _merged_keys(self) -> list[bytes]:
        keys = {key for key in self._store if key not in self._removed}
        for key, value in self._pending.items():
            if value is None:
                keys.discard(key)
            else:
                keys.add(key)
        return sorted(keys)

    def _merged(self) -> Store:
        view = Store()
        for key in self._merged_keys():
            value = self.get(key)
            assert value is not None
            view.put(key, value)
        return view

    def range_entries(self, *bounds: Any) -> list[tuple[bytes, bytes]]:
        """Like :meth:`Store.range_entries`, over everything this update sees."""
        return self._merged().range_entries(*bounds)

    def rev_range_entries(self, *bounds: Any) -> list[tuple[bytes, bytes]]:
        """Like :meth:`Store.rev_range_entries`, over everything this update sees."""
        return self._merged().rev_range_entries(*bounds)

    def prefix_keys(self, prefix: bytes, max_elements: int = _ALL) -> list[bytes]:
        """Like :meth:`Store.prefix_keys`, over everything this update sees."""
        return _limit([k for k in self._merged_keys() if k.startswith(prefix)], max_elements)

    def failed_mutations(self) -> list[Mutation]:
        """What a failing update still changes: its DeletePrefix deletions (D19)."""
        return [(key, None) for key in self._removed]

    def mutations(self) -> list[Mutation]:
        """What a successful update changes, in order."""
        return self.failed_mutations() + list(self._pending.items())
