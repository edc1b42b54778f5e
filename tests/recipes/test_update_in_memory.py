"""update() and increment() with the Twisted cluster client on the in-memory
cluster, without sockets, on task.Clock: the recipe as a user calls it, and
a write in flight when the master dies (cluster.hold_replies)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from twisted.internet.defer import Deferred

from txarakoon import messages
from txarakoon.cluster import ArakoonClient
from txarakoon.errors import AssertionFailed, OutcomeUnknown
from txarakoon.recipes import MARKER_PREFIX, UpdateOutcomeUnknown, increment, update
from txarakoon.sequence import Assert, Sequence
from txarakoon.testing import ArakoonCluster
from txarakoon.testing.drive import memory_cluster_client, resolve

from ..testing import cluster

KEY = b"counter"


@pytest.fixture
def arakoon() -> ArakoonCluster:
    return cluster(3, election_delay=None)


@pytest.fixture
def client(arakoon: ArakoonCluster) -> Iterator[ArakoonClient]:
    made = memory_cluster_client(arakoon, timeout=30.0)
    yield made
    resolve([arakoon], made.disconnect(), advance=False)


def run(arakoon: ArakoonCluster, deferred: Deferred[Any]) -> Any:
    return resolve([arakoon], deferred)


def markers(arakoon: ArakoonCluster) -> list[bytes]:
    return [key for key, _ in arakoon.store.items() if key.startswith(MARKER_PREFIX)]


def writes_the_counter(command: Any, arguments: tuple[Any, ...]) -> bool:
    """An attempt of an update of KEY (not the removal of its markers)."""
    if command is not messages.SEQUENCE:
        return False
    (steps,) = arguments
    assert isinstance(steps, Sequence)
    return any(isinstance(step, Assert) and step.key == KEY for step in steps.steps)


def test_increment_counts_from_an_absent_key(
    arakoon: ArakoonCluster, client: ArakoonClient
) -> None:
    assert run(arakoon, increment(client, KEY)) == 1
    assert run(arakoon, increment(client, KEY, 41)) == 42
    assert arakoon.store.get(KEY) == b"42"


def test_update_returns_the_new_value_and_leaves_no_marker(
    arakoon: ArakoonCluster, client: ArakoonClient
) -> None:
    arakoon.seed({b"name": b"ada"})
    assert run(arakoon, update(client, b"name", lambda old: (old or b"").upper())) == b"ADA"
    assert arakoon.store.get(b"name") == b"ADA"
    assert markers(arakoon) == []


def test_update_to_none_deletes_the_key(arakoon: ArakoonCluster, client: ArakoonClient) -> None:
    arakoon.seed({b"name": b"ada"})
    assert run(arakoon, update(client, b"name", lambda old: None)) is None
    assert arakoon.store.get(b"name") is None


def test_update_of_an_absent_key_to_none_writes_nothing(
    arakoon: ArakoonCluster, client: ArakoonClient
) -> None:
    txid = arakoon.txid
    assert run(arakoon, update(client, b"name", lambda old: None)) is None
    assert arakoon.txid == txid


def test_update_to_the_value_it_read_writes_nothing(
    arakoon: ArakoonCluster, client: ArakoonClient
) -> None:
    arakoon.seed({b"name": b"ada"})
    txid = arakoon.txid
    assert run(arakoon, update(client, b"name", lambda old: old)) == b"ada"
    assert arakoon.txid == txid


def test_increment_of_text_that_is_no_counter_raises_value_error_and_writes_nothing(
    arakoon: ArakoonCluster, client: ArakoonClient
) -> None:
    arakoon.seed({KEY: b"seven"})
    txid = arakoon.txid
    with pytest.raises(ValueError, match="decimal ASCII"):
        run(arakoon, increment(client, KEY))
    assert arakoon.txid == txid


@pytest.mark.parametrize("delta", [1.5, "1", True])
def test_increment_takes_a_whole_number(client: ArakoonClient, delta: Any) -> None:
    with pytest.raises(TypeError, match="delta"):
        increment(client, KEY, delta)


def test_update_takes_a_cluster_client(arakoon: ArakoonCluster) -> None:
    connection = arakoon.connect_in_memory().client
    with pytest.raises(TypeError, match="ArakoonClient or a BlockingArakoonClient"):
        update(connection, KEY, lambda old: old)  # type: ignore[call-overload]


def test_increment_given_a_nodes_connection_names_itself_and_the_cluster_client_to_use(
    arakoon: ArakoonCluster,
) -> None:
    connection = arakoon.connect_in_memory().client
    with pytest.raises(TypeError) as raised:
        increment(connection, KEY)  # type: ignore[call-overload]
    message = str(raised.value)
    assert message.startswith(
        "increment() takes an ArakoonClient or a BlockingArakoonClient, not ArakoonProtocol"
    )
    assert "arakoon_memory_cluster_client" in message
    assert "memory_cluster_client(cluster)" in message


def test_update_given_none_says_it_got_none() -> None:
    with pytest.raises(TypeError, match=r"^update\(\) takes an .* not None:"):
        update(None, KEY, lambda old: old)  # type: ignore[call-overload]


def test_a_conflicting_writer_makes_the_update_read_again(
    arakoon: ArakoonCluster, client: ArakoonClient
) -> None:
    seen: list[bytes | None] = []

    def add_one_after_a_rival(old: bytes | None) -> bytes:
        seen.append(old)
        if len(seen) == 1:  # another writer changes the key meanwhile
            arakoon.seed({KEY: b"10"})
        return b"%d" % (int(old or b"0") + 1)

    assert run(arakoon, update(client, KEY, add_one_after_a_rival)) == b"11"
    assert seen == [None, b"10"]
    assert markers(arakoon) == []


@pytest.mark.parametrize("applied", [True, False])
def test_an_update_in_flight_when_the_master_dies_is_applied_exactly_once(
    arakoon: ArakoonCluster, client: ArakoonClient, applied: bool
) -> None:
    arakoon.seed({KEY: b"7"})
    hold = arakoon.hold_replies("n0", writes_the_counter, applied=applied)
    counted = increment(client, KEY)
    run(arakoon, hold.when_held())
    run(arakoon, hold.kill())
    arakoon.elect("n1")
    assert run(arakoon, counted) == 8
    assert arakoon.store.get(KEY) == b"8"
    assert markers(arakoon) == []


def test_an_update_unresolved_at_the_deadline_is_outcome_unknown_naming_its_marker(
    arakoon: ArakoonCluster, client: ArakoonClient
) -> None:
    hold = arakoon.hold_replies("n0", writes_the_counter)
    counted = increment(client, KEY, timeout=5.0)
    run(arakoon, hold.when_held())
    run(arakoon, hold.kill())  # and no master is elected before the deadline
    with pytest.raises(UpdateOutcomeUnknown) as raised:
        run(arakoon, counted)
    assert isinstance(raised.value, OutcomeUnknown)
    (marker,) = raised.value.markers
    assert marker.startswith(MARKER_PREFIX)
    # The evidence stays: the write was applied, so its marker is there.
    arakoon.elect("n1")
    assert run(arakoon, client.get(marker)) == KEY


def test_an_update_that_only_meets_conflicts_raises_the_last_at_its_deadline(
    arakoon: ArakoonCluster, client: ArakoonClient
) -> None:
    serial = iter(range(1000))

    def always_overtaken(old: bytes | None) -> bytes:
        arakoon.seed({KEY: b"%d" % next(serial)})
        return b"mine"

    with pytest.raises(AssertionFailed):
        run(arakoon, update(client, KEY, always_overtaken, timeout=2.0))
    assert markers(arakoon) == []


def test_an_attempt_queued_on_a_live_master_that_commits_late_is_applied_once(
    arakoon: ArakoonCluster, client: ArakoonClient
) -> None:
    arakoon.seed({KEY: b"7"})
    first = arakoon.hold_replies("n0", writes_the_counter, applied=False)
    counted = increment(client, KEY)
    run(arakoon, first.when_held())
    second = arakoon.hold_replies("n0", writes_the_counter, applied=False)
    arakoon["n0"].drop_connections()  # attempt 1 stays queued on the master
    run(arakoon, second.when_held())  # after a read that found no marker
    first.release()  # attempt 1 commits: 8
    arakoon.seed({KEY: b"7"})  # another writer's -1
    second.release()
    assert run(arakoon, counted) == 8
    assert arakoon.store.get(KEY) == b"7"
    assert markers(arakoon) == []
