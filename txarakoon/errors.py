"""Exceptions: what the server said, and what happened to the connection.

Three families, so that a caller knows at once what to do:

* :class:`ArakoonError` and its subclasses carry a return code the server sent
  (PROTOCOL.md §4.1). Each class knows whether the server closes the connection
  after sending it (:attr:`ArakoonError.closes_connection`).
* :class:`ConnectionFailure` subclasses say a request got no reply and whether
  it was applied: :class:`RequestNotProcessed` (no, always safe to retry),
  :class:`ConnectionLost` (unknown), :class:`OutcomeUnknown` (a write that may
  or may not have happened, raised by the cluster client instead of retrying),
  :class:`NoMasterError` (no master confirmed; retried until the deadline) and
  its :class:`MisconfiguredCluster` (no node can be used as configured: raised
  at once, since retrying cannot help).
* :class:`ProtocolViolation`: the server broke the wire protocol; the connection
  is closed. :class:`NotConnectedError`: the client is not connected.

Caller mistakes (a key of the wrong type, a negative tlog count) are plain
:class:`TypeError` / :class:`ValueError`, raised before anything is sent.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping
from typing import Any

from . import codes

# The return codes' classes live in codes; callers find them here too.
from .codes import *  # noqa: F403
from .codes import ArakoonError

__all__ = [
    "CallbackError",
    "ConnectionFailure",
    "ConnectionLost",
    "MisconfiguredCluster",
    "NoMasterError",
    "NotConnectedError",
    "OutcomeUnknown",
    "ProtocolViolation",
    "RequestNotProcessed",
    "RequestTimeout",
    "explain",
]
__all__ += codes.__all__


class ProtocolViolation(Exception):
    """The server sent bytes that break the wire protocol (an impossible length,
    a bad tag, a reply nobody asked for). The connection is closed, and every
    request still pending on it fails with :class:`ConnectionLost` or
    :class:`RequestNotProcessed`; the request being decoded fails with this."""


class CallbackError(Exception):
    """A callback given with a request (``collapse_tlogs``'s ``progress``) raised.

    The reply was still read to its end, so the connection is in sync and stays
    open; ``__cause__`` is the callback's exception.
    """


class NotConnectedError(RuntimeError):
    """A call was made on a client that is not connected (or no longer)."""


def explain(reason: object) -> str:
    """``reason`` (an exception, or a text) as the cause of another failure: how
    the end of a :class:`ConnectionFailure`'s ``str()`` names it.

    A server error is named by its class (``the server answered NotMaster
    (n0)``), another exception by its type, and a connection failure by its own
    cause, without its request or its verdict (the failure it explains says
    those).
    """
    if isinstance(reason, ConnectionFailure):
        return reason._why()
    if isinstance(reason, ArakoonError):
        said = f" ({reason})" if reason.message else ""
        return f"the server answered {type(reason).__name__}{said}"
    if isinstance(reason, BaseException):
        text = str(reason)
        return f"{type(reason).__name__}: {text}" if text else type(reason).__name__
    return str(reason)


class ConnectionFailure(Exception):
    """A request got no reply. :attr:`applied` says whether it was applied:
    ``False`` (certainly not), ``None`` (unknown).

    :ivar reason: why (an exception or a text), or ``None``.
    :ivar request: the request, as text (``set(key=b'k', value=b'v')``), or
        ``None`` when the failure is not about one request.

    ``str()`` is one sentence: the request, whether it may have been applied
    (so whether to retry it), and the reason.
    """

    applied: bool | None = None

    def __init__(self, reason: object = None, request: str | None = None) -> None:
        self.reason = reason
        self.request = request
        super().__init__(reason, request)

    def __str__(self) -> str:
        verdict = self._verdict(self.request or "the request")
        return verdict if self.reason is None else f"{verdict}: {explain(self.reason)}"

    def _verdict(self, request: str) -> str:
        """What happened to ``request``, and what that means for the caller."""
        return f"{request} got no reply"

    def _why(self) -> str:
        """The failure as the reason of another one about the same request."""
        return "no reason given" if self.reason is None else explain(self.reason)


class RequestNotProcessed(ConnectionFailure):
    """The server never read this request; it was not applied. Safe to retry."""

    applied = False

    def _verdict(self, request: str) -> str:
        return f"{request} was not applied, so it is safe to retry"


class ConnectionLost(ConnectionFailure):
    """The connection was lost after this request was sent: it may have been applied."""

    applied = None

    def _verdict(self, request: str) -> str:
        return (
            f"the connection was lost after {request} was sent, "
            "so it may or may not have been applied"
        )

    def _why(self) -> str:
        return f"the connection was lost after it was sent ({super()._why()})"


class OutcomeUnknown(ConnectionFailure):
    """A write may or may not have been applied; it was not retried.

    :attr:`reason` is the underlying failure (``NoLongerMaster``,
    ``ConnectionLost``, ``GoingDown``, a timeout) and :attr:`request` names the
    request. Read the key back before deciding what to do.
    """

    applied = None

    def _verdict(self, request: str) -> str:
        return (
            f"{request} may or may not have been applied and was not retried "
            "(check the keys it writes before repeating it)"
        )


class NoMasterError(ConnectionFailure):
    """No node could be confirmed as master before the call's deadline (an
    election in progress, or too many nodes down). The request was not sent.

    :ivar nodes: what each node asked came to, by name (a text each).
    :ivar answered: whether some node answered ``who_master`` (with no master,
        or one that did not confirm); ``False`` when no node could be asked.
    """

    applied = False

    def __init__(
        self,
        reason: object = None,
        request: str | None = None,
        *,
        nodes: Mapping[str, str] | None = None,
        answered: bool = False,
    ) -> None:
        super().__init__(reason, request)
        self.nodes: Mapping[str, str] = dict(nodes or {})
        self.answered = answered

    def _verdict(self, request: str) -> str:
        if self.nodes and not self.answered:
            return (
                f"no node could be confirmed as master, nor even asked, so {request} was "
                "not sent and is safe to retry (are the nodes up and reachable?)"
            )
        return (
            f"no node could be confirmed as master, so {request} was not sent and is "
            "safe to retry (an election may be under way, or too few nodes are up)"
        )

    def _why(self) -> str:
        return f"no node could be confirmed as master ({super()._why()})"


class MisconfiguredCluster(NoMasterError):
    """Every node failed, in one round of master discovery, in a way retrying
    cannot fix: the client's configuration does not match the cluster (a wrong
    cluster id, a node list the cluster does not know, TLS settings the nodes
    refuse, an address where no Arakoon node listens). Raised at once, not at
    the deadline; the request was not sent.

    :attr:`nodes` says, for each node, what happened and what to check.

    :ivar cluster_id: the cluster id the client was configured with.
    """

    def __init__(self, *args: Any, cluster_id: str | None = None, **kwargs: Any) -> None:
        # The rest as NoMasterError takes it.
        super().__init__(*args, **kwargs)
        self.cluster_id = cluster_id

    def _verdict(self, request: str) -> str:
        cluster = "" if self.cluster_id is None else f" of cluster {self.cluster_id!r}"
        return (
            f"{request} was not sent: no node{cluster} can be used as configured, "
            "and retrying will not help"
        )

    def _why(self) -> str:
        return f"no node can be used as configured ({ConnectionFailure._why(self)})"


class RequestTimeout(ConnectionFailure, TimeoutError):
    """A request's time ran out: the cluster client's call deadline, or the
    blocking client's socket timeout (which also closes its connection, since a
    late reply would be taken for the answer to the next request).

    :attr:`applied` is ``False`` when the request was never sent, ``None`` when
    it was (a cluster-client write then raises :class:`OutcomeUnknown` wrapping
    this instead). Also a :class:`TimeoutError`.
    """

    def __init__(
        self, reason: object = None, request: str | None = None, applied: bool | None = None
    ) -> None:
        super().__init__(reason, request)
        self.applied = applied
        # OSError's constructor took the first two arguments as errno and strerror.
        self.errno = errno.ETIMEDOUT
        self.strerror = str(self)

    def _verdict(self, request: str) -> str:
        if self.applied is False:
            return f"{request} was not sent before its deadline, so it is safe to retry"
        return f"{request} got no reply in time, so it may or may not have been applied"
