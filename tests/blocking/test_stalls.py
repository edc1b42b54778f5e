"""The blocking client rides through a stalled master: a master frozen (it
answers nothing, keeps its connections and renews no lease) is left once the
others have elected a new one, not after the silence timeout; a slow but
healthy master is waited for. Against the in-memory cluster served in another
process, with a 1 s lease and an election 1 s after it runs out."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator

import pytest

from txarakoon import BlockingArakoonClient
from txarakoon.errors import ConnectionLost, OutcomeUnknown, RequestTimeout
from txarakoon.testing.control import ControlClient
from txarakoon.testing.process import ServeProcess

from .conftest import ENV, MakeClient

#: Far beyond the served cluster's election (about 2 s after a freeze), so
#: that only the stall check can make a call return in time.
SLOW = {"timeout": 30.0, "silence_timeout": 30.0, "stall_interval": 0.25}

#: A deadline shorter than the silence timeout, yet well beyond the served
#: cluster's election: the call returns in time only if the check finds the
#: new master.
WITHIN_DEADLINE = {"timeout": 6.0, "silence_timeout": 30.0, "stall_interval": 0.25}

#: What the client logs for each round that keeps waiting.
ROUND = "No byte from master"


def _rounds(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(ROUND)]


def test_a_read_waiting_on_a_frozen_master_succeeds_on_the_new_master(
    make_client: MakeClient, control: ControlClient
) -> None:
    client = make_client(**SLOW)
    client.set(b"stall/read", b"before")
    control.freeze("n0")
    assert client.get(b"stall/read") == b"before"
    assert client.master not in (None, "n0")


def test_a_read_on_a_frozen_master_succeeds_within_a_deadline_shorter_than_the_silence(
    make_client: MakeClient, control: ControlClient
) -> None:
    client = make_client(**WITHIN_DEADLINE)
    client.set(b"stall/bound", b"before")
    control.freeze("n0")
    assert client.get(b"stall/bound") == b"before"


def test_without_the_check_that_read_times_out_at_its_deadline(
    make_client: MakeClient, control: ControlClient
) -> None:
    # The control experiment of the test above: the same deadline, the
    # same freeze, no stall check.
    client = make_client(**{**WITHIN_DEADLINE, "stall_interval": math.inf})
    client.set(b"stall/bound", b"before")
    control.freeze("n0")
    with pytest.raises(RequestTimeout):
        client.get(b"stall/bound")


def test_a_write_a_healthy_master_answers_while_a_slave_is_frozen_succeeds(
    make_client: MakeClient, control: ControlClient
) -> None:
    # Rounds ask the frozen n1 while n0's reply is on its way; the reply
    # comes well within the deadline, and must not be lost to the rounds.
    client = make_client(timeout=3.0, silence_timeout=30.0, stall_interval=0.25)
    client.set(b"stall/healthy", b"before")
    control.freeze("n1")
    control.delay_replies("n0", 1.0)
    assert client.set(b"stall/healthy", b"after") is None
    assert client.master == "n0"
    control.delay_replies("n0", 0)
    assert client.get(b"stall/healthy") == b"after"


def test_a_write_written_to_a_frozen_master_is_outcome_unknown(
    make_client: MakeClient, control: ControlClient
) -> None:
    client = make_client(**SLOW)
    client.set(b"stall/write", b"before")
    control.freeze("n0")
    with pytest.raises(OutcomeUnknown) as caught:
        client.set(b"stall/write", b"during")
    assert isinstance(caught.value.reason, ConnectionLost)
    assert "is master now" in str(caught.value)


def test_the_writes_after_it_succeed_on_the_new_master(
    make_client: MakeClient, control: ControlClient
) -> None:
    client = make_client(**SLOW)
    client.set(b"stall/after", b"before")
    control.freeze("n0")
    with pytest.raises(OutcomeUnknown):
        client.set(b"stall/after", b"during")
    client.set(b"stall/after", b"after")
    client.set(b"stall/next", b"next")
    new_master = client.master
    control.thaw("n0")  # it rejoins as a slave; what it answers late is lost
    assert client.get(b"stall/after") == b"after"
    assert client.get(b"stall/next") == b"next"
    assert new_master not in (None, "n0")
    assert control.state()["master"] == new_master


def test_a_slow_reply_from_a_healthy_master_is_waited_for(
    make_client: MakeClient, control: ControlClient
) -> None:
    client = make_client(**SLOW)
    client.set(b"stall/slow", b"slow")
    control.delay_replies("n0", 1.5)
    # Asked after 0.25 s of silence, the others name n0 (its lease holds).
    assert client.set(b"stall/slow", b"slower") is None
    assert client.master == "n0"
    control.delay_replies("n0", 0)
    assert client.get(b"stall/slow") == b"slower"


def test_a_master_that_holds_its_replies_but_keeps_its_lease_is_not_left(
    make_client: MakeClient, served: ServeProcess, control: ControlClient
) -> None:
    client = make_client(**SLOW)
    client.set(b"stall/held", b"held")
    control.stall("n0")

    def unstall() -> None:
        with served.control() as other:
            other.unstall("n0")

    releaser = threading.Timer(1.5, unstall)
    releaser.start()
    try:
        assert client.get(b"stall/held") == b"held"
    finally:
        releaser.join()
    assert client.master == "n0"


def test_an_interval_no_shorter_than_the_silence_timeout_checks_nothing(
    make_client: MakeClient, control: ControlClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(timeout=30.0, silence_timeout=1.5, stall_interval=1.5)
    client.set(b"stall/off", b"before")
    control.freeze("n0")
    with (
        caplog.at_level(logging.DEBUG, "txarakoon.blocking_cluster"),
        pytest.raises(OutcomeUnknown) as caught,
    ):
        client.set(b"stall/off", b"during")
    assert "sent nothing for 1.5 s" in str(caught.value)
    assert _rounds(caplog) == []


def test_the_check_asks_again_while_the_silence_lasts(
    make_client: MakeClient, control: ControlClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(**SLOW)
    client.set(b"stall/rounds", b"before")
    control.delay_replies("n0", 1.5)
    with caplog.at_level(logging.DEBUG, "txarakoon.blocking_cluster"):
        client.get(b"stall/rounds")
    assert len(_rounds(caplog)) > 1


@pytest.fixture
def one_node() -> Iterator[ServeProcess]:
    with ServeProcess.start("--count", "1", "--lease", "1", env=ENV) as process:
        yield process


def test_a_one_node_cluster_has_no_stall_check(
    one_node: ServeProcess, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        one_node.control() as control,
        BlockingArakoonClient(
            one_node.config(), timeout=30.0, silence_timeout=1.5, stall_interval=0.1
        ) as client,
    ):
        client.set(b"stall/alone", b"before")
        control.freeze("n0")
        with (
            caplog.at_level(logging.DEBUG, "txarakoon.blocking_cluster"),
            pytest.raises(OutcomeUnknown) as caught,
        ):
            client.set(b"stall/alone", b"during")
        control.thaw("n0")
    assert "sent nothing for 1.5 s" in str(caught.value)
    assert _rounds(caplog) == []
