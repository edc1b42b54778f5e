r"""What a failure to reach a node says of the client's configuration: the
Twisted transports' exceptions read as :class:`~txarakoon.retry.Symptom`\ s,
which :mod:`txarakoon.retry` weighs (see :func:`~txarakoon.retry.after_round`)."""

from __future__ import annotations

from twisted.internet.error import ConnectionClosed

from ..errors import ConnectionLost, ProtocolViolation, RequestNotProcessed
from ..retry import Symptom

__all__ = ["CannotConnect", "ConnectFailed", "symptom_of"]


class CannotConnect(RequestNotProcessed):
    """No address of a node took a connection. :attr:`symptom` says whether
    retrying may help: not :attr:`~txarakoon.retry.Symptom.TRANSIENT` when
    every address failed the same way that retrying cannot cure."""

    def __init__(self, reason: object, symptom: Symptom) -> None:
        super().__init__(reason, None)
        self.symptom = symptom


class ConnectFailed(ConnectionError):
    """A connection to one address failed after TCP connected: its TLS
    handshake (a timeout is :attr:`~txarakoon.retry.Symptom.TRANSIENT`), or
    the node closed it at once."""

    def __init__(self, text: str, symptom: Symptom) -> None:
        super().__init__(text)
        self.symptom = symptom


def symptom_of(error: BaseException, *, first_reply: bool, tls: bool) -> Symptom:
    """The :class:`~txarakoon.retry.Symptom` of ``error``, a failure to connect
    to a node or to get the reply to a request on a new connection
    (``first_reply``: the first request sent on it); ``tls``: the client
    speaks TLS. This reads the transports' exceptions; :mod:`txarakoon.retry`
    decides what the symptoms mean."""
    if isinstance(error, (CannotConnect, ConnectFailed)):
        return error.symptom
    if isinstance(error, ProtocolViolation):
        return Symptom.NOT_ARAKOON
    if isinstance(error, ConnectionLost) and first_reply:
        reason = error.reason
        if tls:
            from ..tls import is_tls_error

            if is_tls_error(reason):
                # E.g. a client certificate refused by an alert after a TLS
                # 1.3 handshake the client saw complete.
                return Symptom.TLS_REFUSED
        if isinstance(reason, ConnectionClosed):
            return Symptom.CLOSED_AFTER_PROLOGUE
    return Symptom.TRANSIENT
