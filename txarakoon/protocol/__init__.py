"""The Twisted client protocol: one connection to one Arakoon node.

:class:`ArakoonProtocol` writes the prologue when the connection is made, then
pipelines requests: each is written as soon as the transport accepts it, and the
replies, which carry no request id, are matched to requests in FIFO order. It
reads them with a :class:`~txarakoon.reader.Reader`: a reply that is already
whole when it starts is decoded in one go, one that is not yet is decoded as
its bytes arrive, resumed where it stopped.

Failure semantics (nothing is ever left pending; every failure says whether the
request was applied):

* an error reply fails its own request with the mapped
  :class:`~txarakoon.errors.ArakoonError`. If the server closes the connection
  after that code (:attr:`~txarakoon.errors.ArakoonError.closes_connection`), the
  requests behind it were never read: they fail at once with
  :class:`~txarakoon.errors.RequestNotProcessed` (``applied=False``), and the
  connection is closed;
* when the connection is lost, requests already written fail with
  :class:`~txarakoon.errors.ConnectionLost` (``applied=None``: unknown), requests
  not yet written with :class:`~txarakoon.errors.RequestNotProcessed`;
* bytes that break the protocol (a malformed reply, a reply nobody asked for)
  fail the request being decoded with
  :class:`~txarakoon.errors.ProtocolViolation`, the other written requests with
  :class:`~txarakoon.errors.ConnectionLost`, the unsent ones with
  :class:`~txarakoon.errors.RequestNotProcessed`, and abort the connection;
* a server silent for ``silence_timeout`` seconds while replies are owed fails
  the pending requests the same way (the cause being :class:`SilenceTimeout`) and
  aborts the connection;
* calls while not connected return a failed Deferred
  (:class:`~txarakoon.errors.NotConnectedError`); only argument errors raise.

Cancelling the Deferred of a request not yet written removes it. Cancelling one
already written cannot unsend it: it keeps its place, and its reply is read and
dropped, so every later reply still reaches its own caller.

The owner of a connection (the cluster client) can also send a request with
:meth:`ArakoonProtocol.submit`: its failures go to the owner's handler before
its Deferred fires, which may fail it with an error of its own or make it
follow a retry, and it may have a deadline, timed by one timer per
connection (:mod:`txarakoon.protocol.owned`). Requests sent as commands are
not affected.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import clientFromString
from twisted.internet.interfaces import IReactorTCP, IStreamClientEndpoint
from twisted.internet.protocol import ClientFactory

from .connection import DEFAULT_MAX_IN_FLIGHT, ArakoonProtocol
from .owned import DeadlinePassed, FailureHandler, OwnedRequest, RequestInterrupted
from .requests import CancelledBeforeSending, SilenceTimeout

__all__ = [
    "DEFAULT_MAX_IN_FLIGHT",
    "ArakoonProtocol",
    "ArakoonProtocolFactory",
    "CancelledBeforeSending",
    "DeadlinePassed",
    "FailureHandler",
    "OwnedRequest",
    "RequestInterrupted",
    "SilenceTimeout",
    "connect",
]


class ArakoonProtocolFactory(ClientFactory):
    """Builds :class:`ArakoonProtocol` instances with the given settings."""

    #: No "Starting factory" line per connection: the cluster client logs the
    #: events that matter (master found or lost, retries, lost connections).
    noisy = False

    def __init__(self, cluster_id: bytes | str, **settings: Any) -> None:
        self.cluster_id = cluster_id
        self.settings = settings

    def buildProtocol(self, addr: object) -> ArakoonProtocol:
        protocol = ArakoonProtocol(self.cluster_id, **self.settings)
        protocol.factory = self
        return protocol


def connect(
    reactor: IReactorTCP,
    endpoint: IStreamClientEndpoint | str,
    cluster_id: bytes | str,
    **settings: Any,
) -> Deferred[ArakoonProtocol]:
    """Connect to one node: a Deferred firing with a connected
    :class:`ArakoonProtocol` once the prologue is written.

    ``endpoint`` is an :class:`~twisted.internet.interfaces.IStreamClientEndpoint`
    or an endpoint string such as ``"tcp:host=127.0.0.1:port=4000"``. ``settings``
    go to :class:`ArakoonProtocol`.
    """
    target: IStreamClientEndpoint = (
        clientFromString(reactor, endpoint)  # type: ignore[no-untyped-call]
        if isinstance(endpoint, str)
        else endpoint
    )
    connecting: Deferred[Any] = target.connect(ArakoonProtocolFactory(cluster_id, **settings))
    return connecting
