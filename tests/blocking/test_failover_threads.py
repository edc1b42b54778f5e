"""The master killed mid-stream while several threads, each with its own
BlockingArakoonClient, write: no acknowledged write is lost, a write in
flight at the kill is OutcomeUnknown, and every other write succeeds once
the survivors have elected a master (served in another process)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from txarakoon import BlockingArakoonClient
from txarakoon.config import ClusterConfig
from txarakoon.errors import ConnectionLost, OutcomeUnknown
from txarakoon.testing.process import ServeProcess

WRITERS = 4
#: Writes each thread has acknowledged before the kill, and after it.
BEFORE = AFTER = 5
#: Far beyond an election on the served cluster (about 2 s): a hang fails.
PATIENCE = 60.0


@dataclass
class Writer:
    """One thread's writes: each key is written once, with its own value."""

    index: int
    config: ClusterConfig
    stop: threading.Event
    acknowledged: list[bytes] = field(default_factory=list)
    unknown: list[OutcomeUnknown] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)

    def run(self) -> None:
        with BlockingArakoonClient(self.config, timeout=30.0) as client:
            serial = 0
            while not self.stop.is_set():
                key = b"writer-%d/%06d" % (self.index, serial)
                serial += 1
                try:
                    client.set(key, key)
                except OutcomeUnknown as error:
                    self.unknown.append(error)
                except BaseException as error:
                    self.failures.append(error)
                    return
                else:
                    self.acknowledged.append(key)


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.01)


def test_killing_the_master_under_writing_threads_loses_no_acknowledged_write(
    served: ServeProcess,
) -> None:
    stop = threading.Event()
    writers = [Writer(index, served.config(), stop) for index in range(WRITERS)]
    threads = [threading.Thread(target=writer.run, daemon=True) for writer in writers]
    for thread in threads:
        thread.start()
    try:
        _wait_until(lambda: all(len(w.acknowledged) >= BEFORE for w in writers), "first writes")
        with served.control() as control:
            control.kill("n0")
        wanted = [len(writer.acknowledged) + AFTER for writer in writers]
        _wait_until(
            lambda: all(len(w.acknowledged) >= n for w, n in zip(writers, wanted, strict=True)),
            "writes after the election",
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(PATIENCE)

    assert [writer.failures for writer in writers] == [[]] * WRITERS
    # Only the write in flight when the master died may be unknown.
    assert all(len(writer.unknown) <= 1 for writer in writers)
    unknown = [error for writer in writers for error in writer.unknown]
    assert all(isinstance(error.reason, ConnectionLost) for error in unknown)
    with BlockingArakoonClient(served.config()) as reader:
        assert reader.master != "n0"
        for writer in writers:
            stored = reader.multi_get_option(writer.acknowledged)
            assert stored == list(writer.acknowledged), f"writer {writer.index} lost writes"
