"""Read consistency: :data:`Consistent`, :data:`NoGuarantees` and :class:`AtLeast`.

Every read takes a consistency (PROTOCOL.md §5):

* :data:`Consistent` — served by the master only (a slave answers
  :class:`~txarakoon.errors.NotMaster`). The default.
* :data:`NoGuarantees` — served by any node, possibly stale. The seed API's
  ``allow_dirty=True`` means exactly this.
* ``AtLeast(i)`` — served by any node that has applied update ``i``; others answer
  :class:`~txarakoon.errors.InconsistentRead`. ``get_txid()`` on the master after a
  write gives the ``i`` that makes the next read see that write.
"""

from __future__ import annotations

from typing import Final, final

__all__ = ["AtLeast", "Consistency", "Consistent", "NoGuarantees", "resolve"]


class Consistency:
    """Base class of the consistency values. Compare them with ``==``."""

    __slots__ = ()

    #: The tag byte on the wire.
    TAG: int = -1


@final
class _Consistent(Consistency):
    __slots__ = ()
    TAG = 0

    def __repr__(self) -> str:
        return "Consistent"

    def __reduce__(self) -> str:
        return "Consistent"


@final
class _NoGuarantees(Consistency):
    __slots__ = ()
    TAG = 1

    def __repr__(self) -> str:
        return "NoGuarantees"

    def __reduce__(self) -> str:
        return "NoGuarantees"


#: Read from the master only.
Consistent: Final = _Consistent()
#: Read from any node, possibly stale.
NoGuarantees: Final = _NoGuarantees()

_INT64_MAX = 2**63 - 1


@final
class AtLeast(Consistency):
    """Read from a node that has applied at least update number :attr:`i`."""

    __slots__ = ("i",)
    TAG = 2

    i: int

    def __init__(self, i: int) -> None:
        if isinstance(i, bool) or not isinstance(i, int):
            raise TypeError(f"AtLeast needs an int, not {type(i).__name__}")
        if not 0 <= i <= _INT64_MAX:
            raise ValueError(f"AtLeast({i}) is out of range 0..2**63-1")
        object.__setattr__(self, "i", i)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("AtLeast is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AtLeast) and other.i == self.i

    def __hash__(self) -> int:
        return hash((AtLeast, self.i))

    def __repr__(self) -> str:
        return f"AtLeast({self.i})"

    def __reduce__(self) -> tuple[type[AtLeast], tuple[int]]:
        return (AtLeast, (self.i,))


class _NotGiven:
    """Marker for "``allow_dirty`` was not passed"."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_GIVEN"


#: Default of every ``allow_dirty`` parameter: the caller did not pass it.
NOT_GIVEN: Final = _NotGiven()


def resolve(
    allow_dirty: bool | _NotGiven = NOT_GIVEN, consistency: Consistency | None = None
) -> Consistency:
    """The consistency a read asks for, from the seed's ``allow_dirty`` flag or the
    ``consistency`` keyword; giving both is a :class:`TypeError`."""
    if consistency is not None:
        if not isinstance(allow_dirty, _NotGiven):
            raise TypeError("give allow_dirty or consistency, not both")
        if not isinstance(consistency, Consistency) or consistency.TAG < 0:
            raise TypeError(
                f"consistency must be Consistent, NoGuarantees or AtLeast(i), not {consistency!r}"
            )
        return consistency
    if isinstance(allow_dirty, _NotGiven):
        return Consistent
    if not isinstance(allow_dirty, bool):
        raise TypeError(f"allow_dirty must be a bool, not {type(allow_dirty).__name__}")
    return NoGuarantees if allow_dirty else Consistent
