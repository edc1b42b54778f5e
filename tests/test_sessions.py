"""The read-your-writes rule, sans-IO: the calls it makes for each message,
driven by plain values (each flavour's tests check it over its client)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from txarakoon import messages
from txarakoon.consistency import AtLeast, Consistent
from txarakoon.errors import ConnectionLost, InconsistentRead
from txarakoon.messages import Message
from txarakoon.sessions import ReadsOwnWrites, run_blocking


class Always:
    connected = True


class Session(ReadsOwnWrites[Always]):
    """The rule over a script of answers: a value, or an exception raised."""

    def __init__(self, answers: dict[str, Callable[[Message[Any]], Any]]) -> None:
        super().__init__(Always())
        self.answers = answers
        self.sent: list[Message[Any]] = []
        self.lost: list[tuple[str, Exception]] = []

    def _txid_lost(self, message: Message[Any], error: Exception) -> None:
        self.lost.append((message.command.name, error))

    def _submit(self, message: Message[Any]) -> Any:
        self.sent.append(message)
        return self.answers[message.command.name](message)

    def call(self, message: Message[Any]) -> Any:
        return run_blocking(self._route(message, self._submit))


def _raise(error: Exception) -> Callable[[Message[Any]], Any]:
    def answer(message: Message[Any]) -> Any:
        raise error

    return answer


def test_before_any_write_a_read_goes_out_as_asked() -> None:
    session = Session({"get": lambda message: b"v"})
    assert session.call(messages.GET(Consistent, b"k")) == b"v"
    assert session.sent[0].consistency is Consistent


def test_a_write_is_followed_by_get_txid_and_its_result_returned() -> None:
    session = Session({"set": lambda message: None, "get_txid": lambda message: AtLeast(4)})
    assert session.call(messages.SET(b"k", b"v")) is None
    assert [m.command for m in session.sent] == [messages.SET, messages.GET_TXID]
    assert session.txid == AtLeast(4)


def test_after_a_write_a_consistent_read_asks_at_least_that_txid() -> None:
    session = Session(
        {
            "set": lambda message: None,
            "get_txid": lambda message: AtLeast(4),
            "get": lambda message: b"v",
        }
    )
    session.call(messages.SET(b"k", b"v"))
    session.call(messages.GET(Consistent, b"k"))
    assert session.sent[-1].consistency == AtLeast(4)


def test_a_read_behind_the_txid_is_made_again_as_asked() -> None:
    def get(message: Message[Any]) -> bytes:
        if message.consistency != Consistent:
            raise InconsistentRead("behind")
        return b"from the master"

    session = Session(
        {"set": lambda message: None, "get_txid": lambda message: AtLeast(4), "get": get}
    )
    session.call(messages.SET(b"k", b"v"))
    assert session.call(messages.GET(Consistent, b"k")) == b"from the master"
    assert [m.consistency for m in session.sent[2:]] == [AtLeast(4), Consistent]


def test_a_lower_txid_never_replaces_a_higher_one() -> None:
    txids = iter([AtLeast(9), AtLeast(3)])
    session = Session({"set": lambda message: None, "get_txid": lambda message: next(txids)})
    session.call(messages.SET(b"k", b"1"))
    session.call(messages.SET(b"k", b"2"))
    assert session.txid == AtLeast(9)


def test_a_failed_get_txid_keeps_the_write_and_forgets_the_txid() -> None:
    lost = ConnectionLost("the master was killed")
    session = Session({"set": lambda message: None, "get_txid": _raise(lost)})
    session.txid = AtLeast(2)
    assert session.call(messages.SET(b"k", b"v")) is None
    assert session.txid is None
    assert session.lost == [("set", lost)]


def test_a_failed_write_raises_without_asking_its_txid() -> None:
    session = Session({"set": _raise(ConnectionLost("gone"))})
    with pytest.raises(ConnectionLost):
        session.call(messages.SET(b"k", b"v"))
    assert [m.command for m in session.sent] == [messages.SET]


def test_run_blocking_returns_what_the_steps_return() -> None:
    def steps() -> Any:
        first = yield 1
        second = yield first + 1
        return first + second

    assert run_blocking(steps()) == 3
