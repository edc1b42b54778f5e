"""The safe-update recipes against the target cluster, with both cluster
client flavours: counts stay exact under concurrent writers, and no marker
of theirs is left behind.

No fault is injected here (``tests/recipes`` kills masters mid-write on the
in-memory cluster); these run unchanged against a real cluster, where other
users' markers may exist, so a test looks only at the markers holding its
own keys.
"""

from __future__ import annotations

import threading

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred, DeferredList

from txarakoon import BlockingArakoonClient
from txarakoon.cluster import ArakoonClient
from txarakoon.recipes import MARKER_PREFIX, increment, update

from .support import TIMEOUT, Keys, Target, reactor

WRITERS = 4
EACH = 10


def _markers_of(target: Target, key: bytes) -> list[bytes]:
    """The markers under MARKER_PREFIX that update ``key`` (a marker holds its key)."""
    with BlockingArakoonClient(target.config, timeout=TIMEOUT) as client:
        entries = client.range_entries(MARKER_PREFIX, True, MARKER_PREFIX + b"\xff", True)
    return [marker for marker, value in entries if value == key]


@pytest_twisted.ensureDeferred
async def test_concurrent_increments_through_one_twisted_client_count_exactly(
    target: Target, keys: Keys
) -> None:
    key = keys("counter")
    client = ArakoonClient(target.config, reactor(), timeout=TIMEOUT)
    try:

        async def writer() -> list[int]:
            return [await increment(client, key) for _ in range(EACH)]

        results = await DeferredList(
            [Deferred.fromCoroutine(writer()) for _ in range(WRITERS)], fireOnOneErrback=True
        )
        counts = sorted(count for _, counts in results for count in counts)
        assert counts == list(range(1, WRITERS * EACH + 1))
        assert await client.get(key) == str(WRITERS * EACH).encode()
    finally:
        await client.disconnect()
    assert _markers_of(target, key) == []


def test_concurrent_increments_from_blocking_clients_count_exactly(
    target: Target, keys: Keys
) -> None:
    key = keys("counter")
    seen: list[int] = []
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with BlockingArakoonClient(target.config, timeout=TIMEOUT) as client:
                for _ in range(EACH):
                    seen.append(increment(client, key))
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(seen) == list(range(1, WRITERS * EACH + 1))
    with BlockingArakoonClient(target.config, timeout=TIMEOUT) as client:
        assert client.get(key) == str(WRITERS * EACH).encode()
    assert _markers_of(target, key) == []


def test_an_update_to_none_deletes_the_key_and_leaves_no_marker(target: Target, keys: Keys) -> None:
    key = keys("doomed")
    with BlockingArakoonClient(target.config, timeout=TIMEOUT) as client:
        client.set(key, b"v")
        assert update(client, key, lambda old: None) is None
        assert not client.exists(key)
    assert _markers_of(target, key) == []


def test_a_value_that_is_no_counter_is_refused_and_left_as_it_is(
    target: Target, keys: Keys
) -> None:
    key = keys("text")
    with BlockingArakoonClient(target.config, timeout=TIMEOUT) as client:
        client.set(key, b"twelve")
        with pytest.raises(ValueError, match="not a counter"):
            increment(client, key)
        assert client.get(key) == b"twelve"
    assert _markers_of(target, key) == []
