"""The cluster client's retry policy, a table of pure decisions, and the retry
matrix of the documentation, row by row."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from txarakoon import retry
from txarakoon.errors import (
    ConnectionLost,
    GoingDown,
    InconsistentRead,
    MaxConnections,
    MisconfiguredCluster,
    NoLongerMaster,
    NoMasterError,
    NotConnectedError,
    NotFound,
    NotMaster,
    OutcomeUnknown,
    ProtocolViolation,
    RequestNotProcessed,
    RequestTimeout,
)
from txarakoon.retry import Backoff, Interruption, Raise, Retry, after_failure, when_interrupted

GUIDE = Path(__file__).parent.parent / "docs" / "guide" / "failover.rst"
REQUEST = "set(key=b'k', value=b'v')"


def _documented_rows() -> list[tuple[str, str, str]]:
    """The rows of the list-table under "The retry matrix" in the guide."""
    text = GUIDE.read_text(encoding="utf-8")
    # After the directive and its options, up to the first blank line.
    table = text.split(".. list-table::", 1)[1].split("\n\n")[1]
    cells: list[str] = []
    for line in table.splitlines():
        if re.match(r"^   \* - ", line):
            cells.append(line[len("   * - ") :])
        elif re.match(r"^     - ", line):
            cells.append(line[len("     - ") :])
        else:
            cells[-1] += " " + line.strip()
    rows = [tuple(cells[i : i + 3]) for i in range(0, len(cells), 3)]
    assert rows[0] == ("failure", "reads", "writes")
    return rows[1:]  # type: ignore[return-value]


def test_the_guide_shows_the_policys_matrix_row_by_row() -> None:
    documented = _documented_rows()
    assert documented == [(row.failure, row.reads, row.writes) for row in retry.MATRIX]


def decide(error: BaseException, *, read: bool, first: bool = False) -> str:
    """What happens to a read or a write after ``error``, in the matrix's words."""
    decision = after_failure(error, first_on_connection=first, retry_unknown=read, request=REQUEST)
    if isinstance(decision, Retry):
        return "retried"
    if isinstance(decision.error, OutcomeUnknown):
        assert decision.error.__cause__ is None and decision.error.reason is error
        return "``OutcomeUnknown``"
    assert decision.error is error
    return "raised"


#: An example failure for each row of the matrix that after_failure decides.
EXAMPLES = {
    "``NotMaster`` reply (0x04)": NotMaster(b"n1"),
    "``RequestNotProcessed``: queued behind a reply after which the server closes, or "
    "never written": RequestNotProcessed("closing reply", REQUEST),
    "connection refused or unreachable, connect or TLS handshake failed or timed out": (
        RequestNotProcessed("connection refused", REQUEST)
    ),
    "no master known (``NoMasterError``)": NoMasterError("no master"),
    next(row.failure for row in retry.MATRIX if "MisconfiguredCluster" in row.failure): (
        MisconfiguredCluster("n0: names unknown node 'x'")
    ),
    "``GoingDown`` after other replies on the connection": GoingDown(b"bye"),
    "``ConnectionLost`` after sending (lost, aborted, silence timeout)": ConnectionLost(
        "reset", REQUEST
    ),
    "``NoLongerMaster`` (0x21)": NoLongerMaster(b"lost"),
    "``InconsistentRead`` (0x80, an ``AtLeast`` read)": InconsistentRead(b"not fresh"),
    "any other ``ArakoonError``, a protocol violation": NotFound(b"k"),
}


@pytest.mark.parametrize("row", [row for row in retry.MATRIX if row.failure in EXAMPLES])
def test_each_failure_is_decided_as_the_matrix_says(row: retry.Row) -> None:
    error = EXAMPLES[row.failure]
    if row.reads != "(reads do not get it)":
        assert row.reads.startswith(decide(error, read=True)), row
    if row.writes != "\\-":
        assert row.writes.startswith(decide(error, read=False)), row


def test_a_protocol_violation_is_raised_as_it_is() -> None:
    violation = ProtocolViolation("bad bytes")
    assert decide(violation, read=True) == decide(violation, read=False) == "raised"


@pytest.mark.parametrize("error", [MaxConnections(b"full"), GoingDown(b"bye")])
def test_refusals_as_the_first_reply_on_a_connection_are_retried_for_writes(
    error: BaseException,
) -> None:
    assert decide(error, read=False, first=True) == "retried"
    assert decide(error, read=False, first=False) == "``OutcomeUnknown``"


def test_a_not_master_reply_names_the_node_to_ask_next() -> None:
    decision = after_failure(
        NotMaster(b"n2"), first_on_connection=False, retry_unknown=False, request=REQUEST
    )
    assert decision == Retry(forget_master=True, master_hint=b"n2")


def test_an_unknown_outcome_forgets_the_master_before_raising() -> None:
    decision = after_failure(
        NoLongerMaster(b"lost"), first_on_connection=False, retry_unknown=False, request=REQUEST
    )
    assert isinstance(decision, Raise) and decision.forget_master


def test_dirty_reads_move_to_another_node_when_theirs_is_gone() -> None:
    for error in (ConnectionLost("reset", REQUEST), RequestNotProcessed("refused", REQUEST)):
        decision = after_failure(
            error, first_on_connection=False, retry_unknown=True, request=REQUEST
        )
        assert decision == Retry(avoid_node=True)


# -- interrupted calls (the last two rows) ---------------------------------------------------


def test_a_deadline_on_a_sent_write_is_an_unknown_outcome() -> None:
    error = when_interrupted(
        Interruption.DEADLINE, sent=True, retry_unknown=False, last_error=None, request=REQUEST
    )
    assert isinstance(error, OutcomeUnknown) and isinstance(error.reason, RequestTimeout)


def test_a_deadline_before_sending_gives_the_last_error_or_a_timeout() -> None:
    last = NoMasterError("no master")
    assert (
        when_interrupted(
            Interruption.DEADLINE, sent=False, retry_unknown=False, last_error=last, request=REQUEST
        )
        is last
    )
    error = when_interrupted(
        Interruption.DEADLINE, sent=False, retry_unknown=False, last_error=None, request=REQUEST
    )
    assert isinstance(error, RequestTimeout) and error.applied is False


def test_a_deadline_on_a_sent_read_is_a_timeout_whose_outcome_is_unknown() -> None:
    error = when_interrupted(
        Interruption.DEADLINE, sent=True, retry_unknown=True, last_error=None, request=REQUEST
    )
    assert isinstance(error, RequestTimeout) and error.applied is None


def test_disconnecting_fails_sent_writes_as_unknown_and_the_rest_as_not_connected() -> None:
    sent = when_interrupted(
        Interruption.DISCONNECT, sent=True, retry_unknown=False, last_error=None, request=REQUEST
    )
    assert isinstance(sent, OutcomeUnknown) and isinstance(sent.reason, NotConnectedError)
    unsent = when_interrupted(
        Interruption.DISCONNECT, sent=False, retry_unknown=False, last_error=None, request=REQUEST
    )
    assert isinstance(unsent, NotConnectedError)


# -- backoff ----------------------------------------------------------------------------------


def test_delays_double_from_the_first_to_the_largest() -> None:
    backoff = Backoff(0.1, 2.0, jitter=0.0)
    waits = [backoff.wait(retry, remaining=100.0, random=0.5) for retry in range(8)]
    assert waits == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0])


def test_jitter_spreads_a_delay_by_its_fraction_either_way() -> None:
    backoff = Backoff(1.0, 1.0, jitter=0.5)
    assert backoff.wait(0, remaining=100.0, random=0.0) == pytest.approx(0.5)
    assert backoff.wait(0, remaining=100.0, random=0.999999) == pytest.approx(1.5, abs=1e-5)


def test_the_last_wait_leaves_one_first_delay_before_the_deadline() -> None:
    backoff = Backoff(0.1, 2.0, jitter=0.0)
    wait = backoff.wait(5, remaining=1.0, random=0.5)
    assert wait == pytest.approx(0.9)
    assert wait is not None and backoff.is_last(wait, remaining=1.0)
    assert not backoff.is_last(0.1, remaining=1.0)


def test_no_retry_when_less_than_a_first_delay_is_left() -> None:
    assert Backoff(0.1, 2.0).wait(0, remaining=0.1, random=0.5) is None


def test_a_very_long_call_keeps_waiting_the_largest_delay() -> None:
    assert Backoff(0.1, 2.0, jitter=0.0).wait(100_000, remaining=1e9, random=0.5) == 2.0


@pytest.mark.parametrize(
    ("first", "most", "jitter", "match"),
    [(0.0, 1.0, 0.5, "backoff"), (2.0, 1.0, 0.5, "backoff"), (0.1, 1.0, 1.0, "jitter")],
)
def test_bad_backoff_settings_are_refused(
    first: float, most: float, jitter: float, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        Backoff(first, most, jitter)


# -- the end of a discovery round that confirmed no master -------------------------------------


def test_a_round_where_every_node_failed_incurably_is_a_misconfigured_cluster() -> None:
    error = retry.after_round(
        [
            retry.NodeOutcome("n0", "closed", retry.Symptom.CLOSED_AFTER_PROLOGUE),
            retry.NodeOutcome("n1", "bad certificate", retry.Symptom.TLS_REFUSED),
        ]
    )
    assert isinstance(error, MisconfiguredCluster)
    assert set(error.nodes) == {"n0", "n1"}
    assert "check the cluster id" in error.nodes["n0"]
    assert "tls_ca_cert" in error.nodes["n1"]


def test_one_transient_failure_in_a_round_keeps_it_retried() -> None:
    error = retry.after_round(
        [
            retry.NodeOutcome("n0", "closed", retry.Symptom.CLOSED_AFTER_PROLOGUE),
            retry.NodeOutcome("n1", "connection refused"),
        ]
    )
    assert type(error) is NoMasterError
    assert decide(error, read=False) == "retried"


def test_a_round_where_a_node_answered_says_so() -> None:
    error = retry.after_round([retry.NodeOutcome("n0", "knows no master", answered=True)])
    assert type(error) is NoMasterError and error.answered


def test_a_round_where_no_node_could_be_asked_says_so_node_by_node() -> None:
    error = retry.after_round(
        [retry.NodeOutcome("n0", "refused"), retry.NodeOutcome("n1", "timed out")]
    )
    assert not error.answered
    assert error.nodes == {"n0": "refused", "n1": "timed out"}
    assert str(error).endswith(": n0: refused; n1: timed out")


def test_call_options_are_checked_when_made() -> None:
    with pytest.raises(ValueError, match="timeout must be positive, not 0"):
        retry.CallOptions(timeout=0)
    with pytest.raises(TypeError, match="retry_idempotent must be a bool"):
        retry.CallOptions(retry_idempotent=1)  # type: ignore[arg-type]


def test_dirty_reads_stay_on_their_node_until_it_is_avoided() -> None:
    rng = random.Random(7)
    assert retry.next_read_node("n0", ["n0", "n1", "n2"], set(), rng) == "n0"
    assert retry.next_read_node("n0", ["n0", "n1", "n2"], {"n0"}, rng) in ("n1", "n2")


def test_once_every_node_was_avoided_any_may_serve_again() -> None:
    avoid = {"n0", "n1"}
    assert retry.next_read_node("n0", ["n0", "n1"], avoid, random.Random(1)) in ("n0", "n1")
    assert avoid == set()


def test_a_schedule_doubles_its_waits_until_the_deadline_leaves_no_time() -> None:
    schedule = retry.Schedule(Backoff(0.1, 2.0, 0.0), random.Random(0))
    assert schedule.next_wait(10.0) == pytest.approx(0.1)
    assert schedule.next_wait(10.0) == pytest.approx(0.2)
    assert schedule.retries == 2


def test_a_schedule_gives_no_wait_after_the_attempt_that_uses_the_time_left() -> None:
    schedule = retry.Schedule(Backoff(0.1, 2.0, 0.0), random.Random(0))
    first = schedule.next_wait(0.15)
    assert first is not None
    assert schedule.next_wait(0.15 - first) is None
