"""An attempt whose outcome was unknown commits late, after the read that
found its marker absent (a write queued on a live master behind an aborted
connection), and another writer sets the key back to the value the next
attempt reads: the update is still applied once. Sans-IO: a plan driven by
hand against a store with the in-memory cluster's sequence semantics."""

from __future__ import annotations

import random
from itertools import count
from typing import Any

import pytest

from txarakoon.errors import ArakoonError
from txarakoon.recipes import counter_value
from txarakoon.recipes.attempts import MARKER_PREFIX, Clean, Done, Read, Write, plan
from txarakoon.retry import Backoff
from txarakoon.sequence import Assert, Replace, Set, Step
from txarakoon.testing.steps import run_steps
from txarakoon.testing.store import Store, Transaction

from .driving import KEY, unknown


class Master:
    """A master's store: consistent reads, and sequences applied atomically."""

    def __init__(self, value: bytes) -> None:
        self.store = Store({KEY: value})

    def read(self, keys: tuple[bytes, ...]) -> list[bytes | None]:
        return [self.store.get(key) for key in keys]

    def write(self, steps: tuple[Step, ...]) -> ArakoonError | None:
        transaction = Transaction(self.store)
        try:
            run_steps(transaction, steps)
        except ArakoonError as error:
            self.store.apply(transaction.failed_mutations())
            return error
        self.store.apply(transaction.mutations())
        return None

    def add(self, delta: int) -> None:
        """Another writer's update of the counter."""
        old = self.store.get(KEY)
        new = b"%d" % (counter_value(old) + delta)
        assert self.write((Assert(KEY, old), Set(KEY, new))) is None


def _update_whose_first_attempt_commits_late(mine: int, theirs: int) -> tuple[Done, Master]:
    """Add ``mine`` with a plan whose first attempt's outcome is unknown;
    right after the next read it commits, then another writer adds
    ``theirs``. What the update returned, and the master."""
    master = Master(b"0")
    serial = count(1)
    steps = plan(
        KEY,
        lambda old: b"%d" % (counter_value(old) + mine),
        deadline=10.0,
        now=lambda: 0.0,
        backoff=Backoff(0.1, 1.0, 0.0),
        rng=random.Random(1),
        new_marker=lambda: MARKER_PREFIX + b"m%d" % next(serial),
    )
    queued: tuple[Step, ...] | None = None
    writes = 0
    request = next(steps)
    try:
        while True:
            outcome: Any = None
            if isinstance(request, Read):
                outcome = master.read(request.keys)
                if queued is not None:
                    assert master.write(queued) is None
                    queued = None
                    master.add(theirs)
            elif isinstance(request, Write):
                writes += 1
                if writes == 1:
                    queued, outcome = request.steps, unknown()
                else:
                    outcome = master.write(request.steps)
            elif isinstance(request, Clean):
                outcome = master.write(tuple(Replace(m, None) for m in request.markers))
            request = steps.send(outcome)
    except StopIteration as stop:
        return stop.value, master


@pytest.mark.parametrize(("mine", "theirs"), [(1, -1), (-1, 1)])
def test_a_late_commit_then_the_key_set_back_is_applied_once(mine: int, theirs: int) -> None:
    done, master = _update_whose_first_attempt_commits_late(mine, theirs)
    assert master.store.get(KEY) == b"0"
    assert done == Done(b"%d" % mine)


def test_a_late_commit_leaves_no_marker() -> None:
    _, master = _update_whose_first_attempt_commits_late(1, -1)
    assert master.store.prefix_keys(MARKER_PREFIX) == []
