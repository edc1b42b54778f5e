"""What a cluster client does after an attempt fails: retry, or raise what.

Sans-IO, like the codec: pure functions over plain values, no Twisted, no
sockets, no clock. The Twisted cluster client applies them; so can a blocking
one. Three questions are answered here:

* :func:`after_failure`: given the error of an attempt, whether the request
  was the first on its connection, and whether a request whose outcome is
  unknown may be sent again (a read; an idempotent write when the caller said
  so), should the client retry (and forget the master, avoid the node) or
  raise, and raise what?
* :func:`when_interrupted`: the error of a call stopped by its deadline or by
  the client being disconnected.
* :class:`Backoff`: how long to wait before the next attempt, and whether
  there is time for one at all.
* :func:`after_round`: after a round of master discovery found no master,
  whether to keep trying (:class:`~txarakoon.errors.NoMasterError`) or to fail
  at once (:class:`~txarakoon.errors.MisconfiguredCluster`): when every node
  failed with a :class:`Symptom` that retrying cannot cure.

:data:`MATRIX` is the retry matrix as the documentation shows it (see
``docs/guide/failover.rst``); a test holds the two, and this module's
decisions, to each other row by row.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from .errors import (
    ConnectionLost,
    GoingDown,
    MaxConnections,
    MisconfiguredCluster,
    NoLongerMaster,
    NoMasterError,
    NotConnectedError,
    NotMaster,
    OutcomeUnknown,
    RequestNotProcessed,
    RequestTimeout,
)

__all__ = [
    "MATRIX",
    "Backoff",
    "CallOptions",
    "Interruption",
    "NodeOutcome",
    "Raise",
    "Retry",
    "Row",
    "Schedule",
    "Symptom",
    "after_failure",
    "after_round",
    "next_read_node",
    "when_interrupted",
]


@dataclass(frozen=True)
class Retry:
    """Try again after a backoff.

    :ivar forget_master: the master may have moved: discover it again.
    :ivar avoid_node: a dirty read should try another node next.
    :ivar master_hint: the node a ``NotMaster`` reply named, to ask first.
    """

    forget_master: bool = True
    avoid_node: bool = False
    master_hint: bytes | None = None


@dataclass(frozen=True)
class Raise:
    """Give up: raise ``error`` (after forgetting the master if
    ``forget_master``)."""

    error: BaseException
    forget_master: bool = False


def after_failure(
    error: BaseException, *, first_on_connection: bool, retry_unknown: bool, request: str
) -> Retry | Raise:
    """What to do after an attempt at ``request`` failed with ``error``.

    :param first_on_connection: the request was the first sent on its
        connection (a ``MaxConnections`` or ``GoingDown`` reply then comes
        before the server read anything).
    :param retry_unknown: a request that may have been applied may be sent
        again: a read, or an idempotent write with ``retry_idempotent``.
    """
    if isinstance(error, NotMaster):
        return Retry(master_hint=error.master_hint)
    if isinstance(error, MisconfiguredCluster):
        return Raise(error)
    if isinstance(error, (RequestNotProcessed, NoMasterError)):
        return Retry(avoid_node=True)
    if isinstance(error, (MaxConnections, GoingDown)):
        if first_on_connection or retry_unknown:
            return Retry()
        return Raise(OutcomeUnknown(error, request), forget_master=True)
    if isinstance(error, (ConnectionLost, NoLongerMaster)):
        if retry_unknown:
            return Retry(avoid_node=True)
        return Raise(OutcomeUnknown(error, request), forget_master=True)
    return Raise(error)


class Symptom(enum.Enum):
    """How connecting to or asking one node failed, as far as it tells whether
    retrying can help. Each value's text says what to check; the client's I/O
    side (which knows its transports' exceptions) names the symptom."""

    #: Refused, unreachable, timed out, going down, no master yet, ...: the
    #: cluster may be fine in a moment.
    TRANSIENT = ""
    #: The node closed (or reset) a new connection without answering its first
    #: request: Arakoon does that after a prologue naming another cluster.
    CLOSED_AFTER_PROLOGUE = (
        "check the cluster id: Arakoon closes a connection whose prologue names another "
        "cluster; or the port may speak TLS"
    )
    #: The first reply broke the protocol: the peer is no Arakoon node (or
    #: answers in TLS).
    NOT_ARAKOON = "check the node's address and client port, and its TLS setting"
    #: The TLS handshake failed, or the node refused the connection with a TLS
    #: alert after it (a client certificate refused under TLS 1.3).
    TLS_REFUSED = (
        "check the TLS settings: the CA certificate tls_ca_cert, the nodes' certificates "
        "(expired, or of another CA?), the client certificate tls_cert and tls_key a node "
        "may require, tls_version"
    )
    #: The peer closed the connection during the TLS handshake: its port
    #: speaks no TLS.
    TLS_ON_PLAIN_PORT = (
        "the port probably speaks no TLS: the cluster's tls_service is off? Then "
        "configure the client without TLS"
    )
    #: The node answered ``who_master`` with a node the configuration lacks.
    UNKNOWN_MASTER = (
        "check the node names of the configuration: the cluster's master is not one of them"
    )

    @property
    def check(self) -> str:
        """What to check; empty for :attr:`TRANSIENT`."""
        return self.value


@dataclass(frozen=True)
class NodeOutcome:
    """What asking one node in a round of master discovery came to.

    :ivar node: its name.
    :ivar cause: what happened, for a person.
    :ivar symptom: whether retrying may help, and what to check if not.
    :ivar answered: the node answered ``who_master`` (no master, or one that
        did not confirm).
    """

    node: str
    cause: str
    symptom: Symptom = Symptom.TRANSIENT
    answered: bool = False

    def text(self) -> str:
        """The cause, and what to check unless retrying may help."""
        check = self.symptom.check
        return f"{self.cause} ({check})" if check else self.cause


def after_round(outcomes: Sequence[NodeOutcome], cluster_id: str | None = None) -> NoMasterError:
    """The error of a round of master discovery that confirmed no master:
    :class:`~txarakoon.errors.MisconfiguredCluster` when every node failed
    with a symptom retrying cannot cure (so the call fails at once), else
    :class:`~txarakoon.errors.NoMasterError` (retried until the deadline)."""
    nodes = {outcome.node: outcome.text() for outcome in outcomes}
    reason = "; ".join(f"{node}: {text}" for node, text in nodes.items()) or "no node answered"
    answered = any(outcome.answered for outcome in outcomes)
    if outcomes and all(outcome.symptom is not Symptom.TRANSIENT for outcome in outcomes):
        return MisconfiguredCluster(
            reason, None, nodes=nodes, answered=answered, cluster_id=cluster_id
        )
    return NoMasterError(reason, None, nodes=nodes, answered=answered)


class Interruption(enum.Enum):
    """Why a call stopped before its reply."""

    DEADLINE = "deadline"
    DISCONNECT = "disconnect"


def when_interrupted(
    why: Interruption,
    *,
    sent: bool,
    retry_unknown: bool,
    last_error: BaseException | None,
    request: str,
) -> BaseException:
    """The error of a call stopped by ``why``.

    :param sent: the attempt in progress was written: it may have been applied.
    :param last_error: the error of the previous attempt, if any.
    """
    if why is Interruption.DEADLINE and not sent and last_error is not None:
        return last_error
    unknown = sent and not retry_unknown
    cause: BaseException
    if why is Interruption.DISCONNECT:
        # Inside an OutcomeUnknown, which names the request, the cause need not.
        where = "while it waited for its reply" if unknown else f"during {request}"
        cause = NotConnectedError(f"the client was disconnected {where}")
    else:
        # What the deadline cut short: the wait for a reply, or for a master
        # or a connection before anything was sent.
        reason = "no answer within the deadline" if sent else "the deadline came first"
        cause = RequestTimeout(reason, request, applied=None if sent else False)
    return OutcomeUnknown(cause, request) if unknown else cause


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter, clamped to a deadline.

    :ivar first: the first delay, and the least time an attempt is given.
    :ivar most: the largest delay; delays double up to it.
    :ivar jitter: the fraction of randomness either way (0 to 1).
    """

    first: float = 0.1
    most: float = 2.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.first <= self.most:
            raise ValueError(
                f"backoff must be (first, largest) with 0 < first <= largest: "
                f"{(self.first, self.most)}"
            )
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), not {self.jitter}")

    def wait(self, retry: int, remaining: float, random: float) -> float | None:
        """How long to wait before retry number ``retry`` (0 for the first),
        with ``remaining`` seconds left before the deadline and ``random`` a
        uniform draw from [0, 1); ``None`` when there is no time left for
        another attempt. The wait is shortened so that the last attempt comes
        :attr:`first` seconds before the deadline, not a whole step earlier."""
        if remaining <= self.first:
            return None
        delay: float = min(self.first * 2 ** min(retry, 64), self.most)
        wait = delay * (1 + self.jitter * (2 * random - 1))
        return min(wait, remaining - self.first)

    def is_last(self, wait: float, remaining: float) -> bool:
        """Whether the attempt after ``wait`` is the last before the deadline
        (decided here, not by comparing times again: float rounding could
        leave a sliver of time that schedules attempts at the same instant)."""
        return wait >= remaining - self.first


@dataclass(frozen=True)
class Row:
    """One row of the retry matrix: what happens to reads and to writes."""

    failure: str
    reads: str
    writes: str


#: The retry matrix, in the words of ``docs/guide/failover.rst``.
MATRIX: Final = (
    Row("``NotMaster`` reply (0x04)", "retried", "retried (not applied)"),
    Row(
        "``RequestNotProcessed``: queued behind a reply after which the server "
        "closes, or never written",
        "retried",
        "retried (not applied)",
    ),
    Row(
        "connection refused or unreachable, connect or TLS handshake failed or timed out",
        "retried",
        "retried (not applied)",
    ),
    Row("no master known (``NoMasterError``)", "retried", "retried (not applied)"),
    Row(
        "every node failed a discovery round in a way retrying cannot cure "
        "(``MisconfiguredCluster``): a wrong cluster id, a master the configuration lacks, "
        "TLS refused, TLS against a plain port or the reverse, a peer that is not Arakoon",
        "raised at once",
        "raised at once (not applied)",
    ),
    Row(
        "``MaxConnections`` or ``GoingDown`` as the first reply on a new connection",
        "retried",
        "retried (the server read nothing)",
    ),
    Row("``GoingDown`` after other replies on the connection", "retried", "``OutcomeUnknown``"),
    Row(
        "``ConnectionLost`` after sending (lost, aborted, silence timeout)",
        "retried",
        "``OutcomeUnknown``",
    ),
    Row("``NoLongerMaster`` (0x21)", "(reads do not get it)", "``OutcomeUnknown``"),
    Row("``InconsistentRead`` (0x80, an ``AtLeast`` read)", "raised", "\\-"),
    Row("any other ``ArakoonError``, a protocol violation", "raised", "raised"),
    Row(
        "the call's deadline",
        "``RequestTimeout`` (or the last error, if never sent)",
        "``OutcomeUnknown`` if sent, else the last error (or ``RequestTimeout``)",
    ),
    Row(
        "``disconnect()`` while pending",
        "``NotConnectedError``",
        "``OutcomeUnknown`` if sent, else ``NotConnectedError``",
    ),
)


@dataclass(frozen=True)
class CallOptions:
    """Per-call settings (``client.using(...)``), checked when made.

    :ivar timeout: the call's deadline in seconds (``None``: the client's).
    :ivar retry_idempotent: an idempotent write whose outcome is unknown is
        sent again (see :func:`after_failure`).
    """

    timeout: float | None = None
    retry_idempotent: bool = False

    def __post_init__(self) -> None:
        timeout = self.timeout
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
                raise TypeError(f"timeout must be a number of seconds, not {timeout!r}")
            if not timeout > 0:
                raise ValueError(f"timeout must be positive, not {timeout}")
            # A float: the protocol's fast path takes no int.
            object.__setattr__(self, "timeout", float(timeout))
        if not isinstance(self.retry_idempotent, bool):
            raise TypeError("retry_idempotent must be a bool")


def next_read_node(current: str, names: Sequence[str], avoid: set[str], rng: random.Random) -> str:
    """The node dirty reads go to: ``current`` unless it is to be avoided,
    else one of the others at random (all again, ``avoid`` emptied, once
    every node was avoided)."""
    if current not in avoid:
        return current
    candidates = [name for name in names if name not in avoid]
    if not candidates:
        avoid.clear()
        candidates = list(names)
    return rng.choice(candidates)


class Schedule:
    """The retries of one call: the delay before each, from :class:`Backoff`,
    until the deadline leaves no time (the last attempt is the one that
    :meth:`Backoff.is_last` says uses what was left)."""

    __slots__ = ("_backoff", "_last", "_random", "retries")

    def __init__(self, backoff: Backoff, rng: random.Random) -> None:
        self._backoff = backoff
        self._random = rng
        self._last = False
        #: How many retries were scheduled.
        self.retries = 0

    def next_wait(self, remaining: float) -> float | None:
        """The delay before the next attempt, ``remaining`` seconds before the
        deadline; ``None`` when no attempt is left."""
        if self._last:
            return None
        wait = self._backoff.wait(self.retries, remaining, self._random.random())
        if wait is None:
            return None
        self._last = self._backoff.is_last(wait, remaining)
        self.retries += 1
        return wait
