"""Run the steps of a ``sequence`` on a transaction, as the server does.

Each step raises the error the server answers when it fails; the cluster
then commits only what D19 says a failing sequence keeps.
:class:`~txarakoon.testing.store.Transaction` gives each step the view of
the store D20 describes: ``Delete``, ``Assert`` and ``AssertExists`` see the
writes of earlier steps, ``DeletePrefix`` and ``AssertRange`` the store as it
was before the sequence.
"""

from __future__ import annotations

from .. import sequence
from ..errors import AssertionFailed, NotFound, UnknownFailure
from .quoting import UNKNOWN_FAILURE
from .store import Transaction
from .updates import describe_range_assertion

__all__ = ["run_steps"]


def run_steps(transaction: Transaction, steps: tuple[sequence.Step, ...]) -> None:
    """Apply ``steps`` in order to ``transaction``; raise at the first that fails."""
    for step in steps:
        if isinstance(step, sequence.Set):
            transaction.set(step.key, step.value)
        elif isinstance(step, sequence.Delete):
            if not transaction.delete(step.key):
                raise NotFound(step.key)
        elif isinstance(step, sequence.Assert):
            if transaction.get(step.key) != step.value:
                raise AssertionFailed(step.key)
        elif isinstance(step, sequence.AssertExists):
            if not transaction.exists(step.key):
                raise AssertionFailed(step.key)
        elif isinstance(step, sequence.Replace):
            transaction.put(step.key, step.value)
        elif isinstance(step, sequence.DeletePrefix):
            transaction.delete_prefix(step.prefix)
        elif isinstance(step, sequence.AssertRange):
            actual = transaction.prefix_keys_before(step.prefix)
            if list(step.keys) != actual:
                raise AssertionFailed(
                    describe_range_assertion(step.keys) + b" actual: " + b",".join(actual)
                )
        elif isinstance(step, sequence.Sequence):
            run_steps(transaction, step.steps)
        else:  # pragma: no cover - the codec decodes no other step
            raise UnknownFailure(UNKNOWN_FAILURE)
