"""The held-replies control (cluster.hold_replies): a write in flight when
its node dies, applied or not, on the in-memory cluster with task.Clock."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from txarakoon import messages
from txarakoon.errors import ConnectionLost, OutcomeUnknown
from txarakoon.sequence import Assert, Replace, Sequence, Set
from txarakoon.testing import ArakoonCluster
from txarakoon.testing.drive import memory_cluster_client, resolve
from txarakoon.testing.holds import HeldReplies, touching

from . import cluster


def _failure(deferred: Deferred[Any]) -> BaseException:
    outcome: list[Any] = []
    deferred.addBoth(outcome.append)
    assert outcome and isinstance(outcome[0], Failure), outcome
    error: BaseException = outcome[0].value
    return error


def _held_write(
    arakoon: ArakoonCluster, applied: bool = True
) -> tuple[HeldReplies, Deferred[None]]:
    """``set(b"k", b"v")`` sent to n0, under a hold of n0's writes."""
    client = arakoon.connect_in_memory("n0").client
    hold = arakoon.hold_replies("n0", messages.SET, applied=applied)
    written = client.set(b"k", b"v")
    arakoon.flush()
    return hold, written


@pytest.fixture
def arakoon() -> ArakoonCluster:
    return cluster(3)


def test_an_applied_hold_executes_the_write_and_holds_its_reply(arakoon: ArakoonCluster) -> None:
    hold, written = _held_write(arakoon)
    assert not written.called
    assert hold.held == 1
    assert arakoon["n0"].store.get(b"k") == b"v"


def test_releasing_an_applied_hold_writes_the_reply(arakoon: ArakoonCluster) -> None:
    hold, written = _held_write(arakoon)
    hold.release()
    arakoon.flush()
    assert written.called and hold.held == 0


def test_a_dropping_hold_keeps_the_write_unexecuted_until_released(
    arakoon: ArakoonCluster,
) -> None:
    hold, written = _held_write(arakoon, applied=False)
    assert not written.called
    assert arakoon["n0"].store.get(b"k") is None
    hold.release()
    arakoon.flush()
    assert written.called
    assert arakoon["n0"].store.get(b"k") == b"v"


def test_a_held_request_holds_back_the_requests_behind_it_on_its_connection(
    arakoon: ArakoonCluster,
) -> None:
    client = arakoon.connect_in_memory("n0").client
    arakoon.hold_replies("n0", messages.SET)
    client.set(b"k", b"v")
    behind = client.get(b"k")
    arakoon.flush()
    assert not behind.called


def test_a_hold_catches_only_its_count_of_matching_requests(arakoon: ArakoonCluster) -> None:
    client = arakoon.connect_in_memory("n0").client
    arakoon.hold_replies("n0", messages.SET)
    other = arakoon.connect_in_memory("n0").client
    client.set(b"a", b"1")
    read = other.exists(b"a")  # another command: not caught
    second = other.set(b"b", b"2")  # the hold caught its one already
    arakoon.flush()
    assert read.called and second.called


def test_a_predicate_chooses_the_requests_a_hold_catches(arakoon: ArakoonCluster) -> None:
    client = arakoon.connect_in_memory("n0").client
    hold = arakoon.hold_replies(
        "n0", lambda command, arguments: command is messages.SET and arguments[0] == b"b"
    )
    first = client.set(b"a", b"1")
    second = client.set(b"b", b"2")
    arakoon.flush()
    assert first.called and not second.called
    assert hold.held == 1


def test_when_held_fires_once_the_hold_caught_its_requests(arakoon: ArakoonCluster) -> None:
    client = arakoon.connect_in_memory("n0").client
    hold = arakoon.hold_replies("n0", messages.SET)
    caught = hold.when_held()
    assert not caught.called
    client.set(b"k", b"v")
    arakoon.flush()
    assert caught.called


def test_killing_the_node_with_an_applied_reply_held_loses_the_reply_not_the_write(
    arakoon: ArakoonCluster,
) -> None:
    hold, written = _held_write(arakoon)
    hold.kill()
    arakoon.flush()
    assert isinstance(_failure(written), ConnectionLost)
    arakoon.elect("n1")
    assert arakoon["n1"].store.get(b"k") == b"v"


def test_killing_the_node_with_a_request_held_unexecuted_drops_the_write(
    arakoon: ArakoonCluster,
) -> None:
    hold, written = _held_write(arakoon, applied=False)
    hold.kill()
    arakoon.flush()
    assert isinstance(_failure(written), ConnectionLost)
    arakoon.elect("n1")
    assert arakoon["n1"].store.get(b"k") is None


@pytest.mark.parametrize("applied", [True, False])
def test_a_plain_write_of_the_cluster_client_under_a_held_reply_kill_is_outcome_unknown(
    arakoon: ArakoonCluster, applied: bool
) -> None:
    client = memory_cluster_client(arakoon)
    resolve([arakoon], client.set(b"k", b"before"))
    hold = arakoon.hold_replies("n0", messages.SET, applied=applied)
    written = client.set(b"k", b"after")
    resolve([arakoon], hold.when_held())
    resolve([arakoon], hold.kill())
    with pytest.raises(OutcomeUnknown):
        resolve([arakoon], written)
    # Only the store can tell; the client could not.
    assert resolve([arakoon], client.get(b"k")) == (b"after" if applied else b"before")


def test_a_hold_on_a_dead_node_is_refused(arakoon: ArakoonCluster) -> None:
    resolve([arakoon], arakoon.kill("n2"))
    with pytest.raises(ValueError, match="dead"):
        arakoon.hold_replies("n2", messages.SET)


@pytest.mark.parametrize("count", [0, -1, True, 1.5])
def test_a_hold_counts_whole_requests(arakoon: ArakoonCluster, count: Any) -> None:
    with pytest.raises(ValueError, match="count"):
        arakoon.hold_replies("n0", messages.SET, count=count)


def test_a_hold_touching_a_key_catches_the_sequences_with_a_step_on_it(
    arakoon: ArakoonCluster,
) -> None:
    client = arakoon.connect_in_memory("n0").client
    hold = arakoon.hold_replies("n0", touching(messages.SEQUENCE, b"counter"))
    other = client.sequence([Replace(b"marker", None)])
    caught = client.sequence([Sequence([Assert(b"counter", None)]), Set(b"counter", b"1")])
    arakoon.flush()
    assert other.called and not caught.called
    assert hold.held == 1


def test_a_hold_touching_a_key_catches_a_write_of_that_key(arakoon: ArakoonCluster) -> None:
    client = arakoon.connect_in_memory("n0").client
    arakoon.hold_replies("n0", touching(messages.SET, b"b"))
    first, second = client.set(b"a", b"1"), client.set(b"b", b"2")
    arakoon.flush()
    assert first.called and not second.called


def test_a_hold_takes_a_command_by_its_name(arakoon: ArakoonCluster) -> None:
    client = arakoon.connect_in_memory("n0").client
    hold = arakoon.hold_replies("n0", "set")
    read, written = client.exists(b"k"), client.set(b"k", b"v")
    arakoon.flush()
    assert read.called and not written.called
    assert hold.held == 1


def test_a_hold_touching_a_key_takes_a_command_by_its_name(arakoon: ArakoonCluster) -> None:
    client = arakoon.connect_in_memory("n0").client
    arakoon.hold_replies("n0", touching("set", b"b"))
    first, second = client.set(b"a", b"1"), client.set(b"b", b"2")
    arakoon.flush()
    assert first.called and not second.called


@pytest.mark.parametrize("match", ["frobnicate", "user_hook", b"set", 3, None])
def test_a_hold_on_what_is_no_command_nor_predicate_is_refused_before_anything_is_held(
    arakoon: ArakoonCluster, match: Any
) -> None:
    client = arakoon.connect_in_memory("n0").client
    with pytest.raises(TypeError, match="hold_replies"):
        arakoon.hold_replies("n0", match)
    written = client.set(b"k", b"v")
    arakoon.flush()
    assert written.called
    assert arakoon["n0"].holds.latest is None


@pytest.mark.parametrize("command", ["frobnicate", 3])
def test_touching_what_is_no_command_is_refused(command: Any) -> None:
    with pytest.raises(TypeError, match="touching"):
        touching(command, b"k")
