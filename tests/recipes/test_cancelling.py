"""Cancelling an update: the plan is told (the cancellation is thrown into
it) and says what the update came to; then the Twisted flavour's Deferred,
on the in-memory cluster and task.Clock, with a request held at each stage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from twisted.internet.defer import CancelledError
from twisted.logger import LogLevel, capturedLogs
from twisted.python.failure import Failure

from txarakoon import messages
from txarakoon.cluster import ArakoonClient
from txarakoon.errors import AssertionFailed
from txarakoon.protocol import CancelledBeforeSending
from txarakoon.recipes import UpdateOutcomeUnknown, increment
from txarakoon.recipes.attempts import Done
from txarakoon.testing import ArakoonCluster
from txarakoon.testing.drive import memory_cluster_client, resolve

from ..testing import cluster
from .driving import KEY, Driver, add_one, marker, unknown
from .test_update_in_memory import markers, writes_the_counter

# -- the plan --------------------------------------------------------------


def test_a_cancelled_read_with_nothing_unresolved_is_the_cancellation() -> None:
    driver = Driver(add_one)
    cancelled = CancelledError()
    with pytest.raises(CancelledError) as raised:
        driver.stop(cancelled)
    assert raised.value is cancelled


def test_a_cancelled_write_is_outcome_unknown_naming_its_marker() -> None:
    driver = Driver(add_one)
    driver.answer([b"7"])
    cancelled = CancelledError()
    with pytest.raises(UpdateOutcomeUnknown) as raised:
        driver.stop(cancelled)
    assert raised.value.markers == (marker(1),)
    assert raised.value.reason is cancelled
    assert raised.value.__cause__ is cancelled


def test_a_write_cancelled_before_it_was_sent_is_the_cancellation() -> None:
    driver = Driver(add_one)
    driver.answer([b"7"])
    with pytest.raises(CancelledBeforeSending):
        driver.stop(CancelledBeforeSending())


def test_a_cancelled_read_after_an_unknown_outcome_is_outcome_unknown() -> None:
    driver = Driver(add_one)
    driver.answer([b"7"])
    driver.answer(unknown())
    with pytest.raises(UpdateOutcomeUnknown) as raised:
        driver.stop(CancelledError())
    assert raised.value.markers == (marker(1),)


def test_a_cancelled_backoff_after_an_unknown_outcome_is_outcome_unknown() -> None:
    driver = Driver(add_one)
    driver.answer([b"7"])
    driver.answer(unknown())
    driver.answer([b"7", None])
    driver.answer(AssertionFailed(KEY))  # attempt 2 was not applied: a Pause
    with pytest.raises(UpdateOutcomeUnknown) as raised:
        driver.stop(CancelledError())
    assert raised.value.markers == (marker(1),)


def test_a_cancelled_removal_of_the_markers_is_done_with_them_as_strays() -> None:
    driver = Driver(add_one)
    driver.answer([b"7"])
    driver.answer(None)  # applied: now the markers are removed
    assert driver.stop(CancelledError()) is None
    assert driver.done == Done(b"8", (marker(1),))


# -- the Deferred ----------------------------------------------------------


@pytest.fixture
def arakoon() -> ArakoonCluster:
    made = cluster(3, election_delay=None)
    made.seed({KEY: b"7"})
    return made


@pytest.fixture
def client(arakoon: ArakoonCluster) -> Iterator[ArakoonClient]:
    made = memory_cluster_client(arakoon, timeout=30.0)
    yield made
    resolve([arakoon], made.disconnect(), advance=False)


def _cancelled_while_held(
    arakoon: ArakoonCluster, client: ArakoonClient, match: Any, applied: bool = True
) -> Any:
    """Cancel an increment while ``match`` holds its request on the master,
    then release it: what the increment's Deferred came to."""
    hold = arakoon.hold_replies("n0", match, applied=applied)
    counted = increment(client, KEY)
    resolve([arakoon], hold.when_held())
    counted.cancel()
    hold.release()
    outcome: list[Any] = []
    counted.addBoth(outcome.append)
    resolve([arakoon], client.disconnect(), advance=False)
    (result,) = outcome
    return result.value if isinstance(result, Failure) else result


def test_cancelling_an_update_before_it_writes_fails_with_the_cancellation(
    arakoon: ArakoonCluster, client: ArakoonClient
) -> None:
    txid = arakoon.txid
    outcome = _cancelled_while_held(arakoon, client, messages.MULTI_GET_OPTION)
    assert type(outcome) is CancelledError
    assert arakoon.txid == txid


def test_cancelling_an_update_with_its_write_in_flight_is_outcome_unknown(
    arakoon: ArakoonCluster, client: ArakoonClient
) -> None:
    outcome = _cancelled_while_held(arakoon, client, writes_the_counter)
    assert isinstance(outcome, UpdateOutcomeUnknown)
    assert isinstance(outcome.reason, CancelledError)
    # The write was applied: its marker is left, as the evidence.
    assert list(outcome.markers) == markers(arakoon)
    assert arakoon.store.get(KEY) == b"8"


def test_cancelling_an_update_while_it_removes_its_markers_returns_its_value(
    arakoon: ArakoonCluster, client: ArakoonClient
) -> None:
    removing: list[bytes] = []

    def removes_markers(command: Any, arguments: tuple[Any, ...]) -> bool:
        if command is not messages.SEQUENCE or writes_the_counter(command, arguments):
            return False
        (steps,) = arguments
        removing.extend(step.key for step in steps.steps)
        return True

    with capturedLogs() as logs:
        outcome = _cancelled_while_held(arakoon, client, removes_markers, applied=False)
    assert outcome == 8
    assert arakoon.store.get(KEY) == b"8"
    # Whether they were removed is unknown: they are reported as strays.
    warnings = [event for event in logs if event["log_level"] is LogLevel.warn]
    assert [event["markers"] for event in warnings] == [tuple(removing)]
