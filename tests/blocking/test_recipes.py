"""update() and increment() with the blocking cluster client, against a
cluster served in another process: writing threads through two kills of the
master in the middle of a write (held over the control channel), applied
once and dropped once; every increment is applied exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from txarakoon import BlockingArakoonClient
from txarakoon.config import ClusterConfig
from txarakoon.recipes import MARKER_PREFIX, increment, update
from txarakoon.testing.control import ControlClient
from txarakoon.testing.process import ServeProcess

from .conftest import MakeClient

WRITERS = 8
INCREMENTS = 50
KEY = b"counter"
#: Far beyond a failover on the served cluster: a hang fails.
PATIENCE = 60.0


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.005)


def _write(config: ClusterConfig, counts: list[int], failures: list[BaseException]) -> None:
    try:
        with BlockingArakoonClient(config, timeout=PATIENCE, backoff=(0.005, 0.05)) as client:
            for _ in range(INCREMENTS):
                counts.append(increment(client, KEY))
    except BaseException as error:
        failures.append(error)


def _kill_during_a_write(control: ControlClient, applied: bool) -> str:
    """Kill the master while it holds a write of the counter (applied or
    not), elect another node, revive the dead one; the node killed."""
    master = control.state()["master"]
    control.hold_replies(master, "sequence", applied, 1, KEY.decode())
    assert control.held(master) == "1"
    control.kill(master)
    nodes = control.state()["nodes"]
    control.elect(next(name for name, node in nodes.items() if node["alive"]))
    control.revive(master)
    return str(master)


def test_writing_threads_through_two_kills_mid_write_apply_each_increment_once(
    served_without_elections: ServeProcess,
) -> None:
    config = served_without_elections.config()
    counts: list[int] = []
    failures: list[BaseException] = []
    threads = [
        threading.Thread(target=_write, args=(config, counts, failures), daemon=True)
        for _ in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    with served_without_elections.control(timeout=PATIENCE) as control:
        try:
            _wait_until(lambda: len(counts) >= 100 or bool(failures), "the first increments")
            first = _kill_during_a_write(control, applied=True)
            _wait_until(lambda: len(counts) >= 250 or bool(failures), "more increments")
            second = _kill_during_a_write(control, applied=False)
        finally:
            for thread in threads:
                thread.join(PATIENCE)
    assert failures == []
    assert (first, second) == ("n0", "n1")
    with BlockingArakoonClient(config, timeout=PATIENCE) as client:
        assert client.get(KEY) == b"%d" % (WRITERS * INCREMENTS)
        assert client.prefix(MARKER_PREFIX) == []
    # Each increment returned its own count: none applied twice, none lost.
    assert sorted(counts) == list(range(1, WRITERS * INCREMENTS + 1))


def test_update_returns_the_value_it_wrote(shared_client: MakeClient) -> None:
    client = shared_client()
    key = b"recipes/name"
    client.set(key, b"ada")
    assert update(client, key, lambda old: (old or b"").upper()) == b"ADA"
    assert update(client, key, lambda old: None) is None
    assert client.multi_get_option([key]) == [None]


def test_increment_of_text_that_is_no_counter_raises_value_error(
    shared_client: MakeClient,
) -> None:
    client = shared_client()
    key = b"recipes/not-a-counter"
    client.set(key, b"seven")
    with pytest.raises(ValueError, match="decimal ASCII"):
        increment(client, key)
    assert client.get(key) == b"seven"
