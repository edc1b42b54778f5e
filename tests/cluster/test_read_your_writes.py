"""ReadYourWrites: the write's own outcome wins over the session's bookkeeping."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from twisted.internet.defer import Deferred, fail, succeed
from twisted.logger import LogEvent, globalLogPublisher

from txarakoon import messages
from txarakoon.cluster import ReadYourWrites
from txarakoon.cluster.calls import Attempt, CallOptions
from txarakoon.consistency import AtLeast, Consistent
from txarakoon.errors import ConnectionLost
from txarakoon.messages import Message

T = TypeVar("T")


class ScriptedCalls:
    """The calls a session makes, answered from a script, and recorded."""

    connected = True
    timeout = 30.0

    def __init__(self, answers: dict[str, Callable[[], Deferred[Any]]]) -> None:
        self.answers = answers
        self.sent: list[Message[Any]] = []

    def submit(self, message: Message[T], options: CallOptions) -> Deferred[T]:
        self.sent.append(message)
        return self.answers[message.command.name]()

    def run(
        self, call: Callable[[Attempt], Coroutine[Any, Any, T]], timeout: float | None
    ) -> Deferred[T]:
        raise AssertionError("a session submits its calls")


def test_a_write_that_succeeded_succeeds_though_its_get_txid_fails() -> None:
    calls = ScriptedCalls(
        {
            "set": lambda: succeed(None),
            "get_txid": lambda: fail(ConnectionLost("the master was killed")),
            "get": lambda: succeed(b"v"),
        }
    )
    session = ReadYourWrites(calls)
    seen: list[LogEvent] = []
    globalLogPublisher.addObserver(seen.append)
    try:
        written = session.set(b"k", b"v")
    finally:
        globalLogPublisher.removeObserver(seen.append)
    assert written.result is None
    assert any("get_txid failed" in event["log_format"] for event in seen)


def test_after_a_failed_get_txid_the_session_reads_from_the_master() -> None:
    answers: dict[str, Callable[[], Deferred[Any]]] = {
        "set": lambda: succeed(None),
        "get_txid": lambda: succeed(AtLeast(7)),
        "get": lambda: succeed(b"v"),
    }
    calls = ScriptedCalls(answers)
    session = ReadYourWrites(calls)
    session.set(b"k", b"1")
    answers["get_txid"] = lambda: fail(ConnectionLost("the master was killed"))
    session.set(b"k", b"2")
    session.get(b"k")
    # Not AtLeast(7): a node at 7 may not have the second write.
    assert calls.sent[-1] == messages.GET(Consistent, b"k")
