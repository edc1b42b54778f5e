"""Driving a plan (txarakoon.recipes.attempts) by hand, one request at a
time, with plain values: what the sans-IO tests share."""

from __future__ import annotations

import random
from collections.abc import Generator
from typing import Any

from txarakoon.errors import ConnectionLost, OutcomeUnknown
from txarakoon.recipes import counter_value
from txarakoon.recipes.attempts import MARKER_PREFIX, Done, Request, Updater, plan
from txarakoon.retry import Backoff

KEY = b"counter"


def unknown() -> OutcomeUnknown:
    return OutcomeUnknown(ConnectionLost("killed"), "sequence(...)")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Driver:
    """Runs a plan one request at a time; markers are m1, m2, ... in order."""

    def __init__(self, fn: Updater, timeout: float = 10.0) -> None:
        self.clock = Clock()
        self.serial = 0
        self.plan: Generator[Request, Any, Done] = plan(
            KEY,
            fn,
            deadline=timeout,
            now=self.clock,
            backoff=Backoff(0.1, 1.0, 0.0),
            rng=random.Random(1),
            new_marker=self._marker,
        )
        self.request: Request = next(self.plan)
        self.done: Done | None = None

    def _marker(self) -> bytes:
        self.serial += 1
        return MARKER_PREFIX + b"m%d" % self.serial

    def answer(self, outcome: Any) -> Request | None:
        try:
            self.request = self.plan.send(outcome)
        except StopIteration as stop:
            self.done = stop.value
            return None
        return self.request

    def stop(self, cancelled: BaseException) -> Request | None:
        """Stop waiting for the request (a cancellation): thrown into the plan."""
        try:
            self.request = self.plan.throw(cancelled)
        except StopIteration as stop:
            self.done = stop.value
            return None
        return self.request


def marker(serial: int) -> bytes:
    return MARKER_PREFIX + b"m%d" % serial


def add_one(old: bytes | None) -> bytes:
    return b"%d" % (counter_value(old) + 1)
