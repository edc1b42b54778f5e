"""A blocking client for scripts, tools and tests: :class:`SocketClient`.

It speaks to one node over one TCP connection with the very same messages as
:class:`~txarakoon.protocol.ArakoonProtocol`, but each call sends its request,
waits for the complete reply and returns the value itself (or raises the
error). No reactor is involved.

.. code-block:: python

    from txarakoon.blocking import SocketClient

    with SocketClient(("127.0.0.1", 4000), "arakoon") as client:
        client.set(b"key", b"value")
        assert client.get(b"key") == b"value"
        client["greeting"] = "hello"  # str is encoded as UTF-8
        assert b"greeting" in client
        print(client.version())

A :class:`SocketClient` talks to the node it was given, which is not
necessarily the master: writes and consistent reads sent to a slave fail with
:class:`~txarakoon.errors.NotMaster`, and ``who_master()`` names the master.
It sends one request at a time (no pipelining) and is not thread-safe: give
each thread its own client.
"""

from __future__ import annotations

import logging
import socket
import ssl
from types import TracebackType
from typing import TypeVar

from .admin import AdminMixin
from .client import AbstractClient, ClientMixin, Sync
from .codec import DEFAULT_MAX_REPLY_LENGTH, STRING
from .config import KeepAlive, TLSConfig
from .errors import (
    ArakoonError,
    CallbackError,
    ConnectionLost,
    NotConnectedError,
    ProtocolViolation,
    RequestNotProcessed,
    RequestTimeout,
)
from .keys import Key
from .messages import Message, prologue
from .reader import Reader
from .socket_reads import EndOfStream, Patience, read_reply, readable_now
from .ssl_context import ClientContext

__all__ = ["ClosedOnExit", "SocketClient"]

log = logging.getLogger(__name__)

T = TypeVar("T")

Address = tuple[str, int]


def _address(address: object) -> Address:
    """``address`` as ``(host, port)``: a pair, or ``"host:port"`` /
    ``"[v6 host]:port"``. Checked here so that a wrong one fails at construction,
    naming what was given, rather than deep inside the first ``connect()``."""
    if isinstance(address, str):
        host, colon, digits = address.rpartition(":")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        elif ":" in host:
            raise ValueError(
                f"address {address!r}: write an IPv6 host in brackets, as in '[::1]:4000'"
            )
        if not colon or not host or not (digits.isascii() and digits.isdigit()):
            raise ValueError(f"address {address!r} is not 'host:port' (e.g. '127.0.0.1:4000')")
        port = int(digits)
    elif isinstance(address, (tuple, list)) and len(address) == 2:
        host, given = address
        if not isinstance(host, str):
            raise TypeError(f"address {address!r}: the host must be a str")
        if not isinstance(given, int) or isinstance(given, bool):
            raise TypeError(f"address {address!r}: the port must be an int")
        if not host:
            raise ValueError(f"address {address!r}: the host is empty")
        port = given
    else:
        raise TypeError(
            f"address must be a (host, port) pair or a 'host:port' str, not {address!r}"
        )
    if not 0 < port < 65536:
        raise ValueError(f"address {address!r}: the port must be 1 to 65535")
    return host, port


_Closes = TypeVar("_Closes", bound="ClosedOnExit")


class ClosedOnExit:
    """A blocking client that a ``with`` block closes at its end."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _Closes) -> _Closes:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class SocketClient(ClosedOnExit, ClientMixin[Sync], AdminMixin[Sync], AbstractClient):
    """A blocking connection to one Arakoon node.

    Every method of :class:`~txarakoon.client.ClientMixin` and
    :class:`~txarakoon.admin.AdminMixin` blocks until the reply is complete and
    returns its value, so ``client.get(b"k")`` is typed ``bytes``.

    :param address: the node's ``(host, port)``, or the same as a
        ``"host:port"`` string (``"[::1]:4000"`` for an IPv6 address). Anything
        else raises :class:`TypeError` or :class:`ValueError` here.
    :param cluster_id: the cluster id sent in the prologue (``bytes``, or
        ``str`` encoded as UTF-8). A node of another cluster closes the
        connection without a word: the first request then fails with
        :class:`~txarakoon.errors.ConnectionLost`.
    :param timeout: how many seconds connecting, and each wait for the server
        to accept request bytes or to send reply bytes, may take; ``None``
        waits forever. It bounds silence, not the whole call, so a long reply
        that keeps arriving (``collapse_tlogs`` progress, a large range) is not
        cut short. When it expires the connection is closed and the call raises
        :class:`RequestTimeout`.
    :param max_reply_length: the largest string length or element count
        accepted in a reply; anything larger is a
        :class:`~txarakoon.errors.ProtocolViolation`, not an allocation.
    :param tls: speak TLS: a :class:`~txarakoon.config.TLSConfig` (its files
        are read here: a bad one is a :class:`~txarakoon.config.ConfigError`)
        or a :class:`~txarakoon.ssl_context.ClientContext` already loaded. The
        handshake happens in :meth:`connect`, before the prologue.
    :param keepalive: turn on TCP keepalive with these settings (``None``:
        the system's default, usually off).

    Failures, and whether the request may have been applied:

    * an error reply raises the mapped :class:`~txarakoon.errors.ArakoonError`.
      For the codes after which the server closes the connection
      (:attr:`~txarakoon.errors.ArakoonError.closes_connection`) the client
      closes its socket too and :attr:`connected` becomes false;
    * a connection closed or reset by the server before the reply is complete,
      or an error while sending, raises
      :class:`~txarakoon.errors.ConnectionLost` (``applied=None``: unknown);
    * a connection the server closed while it was idle (a restart, a
      failover) is noticed before the next request is written: that request
      raises :class:`~txarakoon.errors.RequestNotProcessed` (``applied=False``,
      safe to retry) and :attr:`connected` becomes false;
    * a timeout raises :class:`RequestTimeout`, a ``ConnectionLost`` (unknown)
      and a :class:`TimeoutError`;
    * bytes that break the protocol raise
      :class:`~txarakoon.errors.ProtocolViolation`;
    * a call while not connected raises
      :class:`~txarakoon.errors.NotConnectedError`, and bad arguments raise
      :class:`TypeError` / :class:`ValueError`: in both cases nothing is sent.

    After a ``ConnectionLost``, a timeout or a protocol violation the client is
    closed; :meth:`connect` opens a new connection.

    As in pyrakoon, the client also behaves like a mapping:
    ``client[key]`` is :meth:`get`, ``client[key] = value`` is :meth:`set`,
    ``del client[key]`` is :meth:`delete` and ``key in client`` is
    :meth:`exists`. :class:`~txarakoon.protocol.ArakoonProtocol` deliberately
    lacks these: there each call returns a Deferred, so ``key in proto`` would
    be a Deferred, always true, whatever the server holds, and
    ``proto[key] = value`` would silently drop the write's outcome.
    """

    def __init__(
        self,
        address: Address | str,
        cluster_id: bytes | str,
        timeout: float | None = 30.0,
        max_reply_length: int = DEFAULT_MAX_REPLY_LENGTH,
        *,
        tls: TLSConfig | ClientContext | None = None,
        keepalive: KeepAlive | None = None,
    ) -> None:
        self._socket: socket.socket | None = None
        #: A reply came on the connection: the server read our prologue.
        self._answered = False
        self.address = _address(address)
        self.cluster_id = STRING.check(cluster_id)
        self.timeout = timeout
        self.max_reply_length = max_reply_length
        self.tls = ClientContext(tls) if isinstance(tls, TLSConfig) else tls
        self.keepalive = keepalive
        self._reader = Reader(max_reply_length)

    def __repr__(self) -> str:
        state = "connected" if self.connected else "not connected"
        return f"<SocketClient {self.address[0]}:{self.address[1]} {state}>"

    # -- connection -----------------------------------------------------------

    @property
    def timeout(self) -> float | None:
        """The timeout (see the class documentation). Changing it applies to
        the open connection at once, so it may differ from call to call."""
        return self._timeout

    @timeout.setter
    def timeout(self, timeout: float | None) -> None:
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be positive or None, not {timeout!r}")
        self._timeout = timeout
        if self._socket is not None:
            self._socket.settimeout(timeout)

    @property
    def connected(self) -> bool:
        """Whether the client holds an open connection."""
        return self._socket is not None

    def connect(self) -> None:
        """Connect to the node and send the prologue. Does nothing if already
        connected.

        Raises :class:`OSError` when the connection cannot be made (refused,
        unreachable, :class:`TimeoutError`); with TLS, a failed handshake is a
        :class:`ConnectionError` saying what to check, the :mod:`ssl`
        module's error as its cause.
        """
        if self._socket is not None:
            return
        sock = socket.create_connection(self.address, self.timeout)
        if self.tls is not None:
            sock = self.tls.wrap(sock, *self.address)
        try:
            # Requests are small and each waits for its reply: Nagle would only
            # add a delayed-ACK round trip to every call.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.keepalive is not None and self.keepalive.enabled:
                self.keepalive.set_on(sock)
            sock.sendall(prologue(self.cluster_id))
        except BaseException:
            sock.close()
            raise
        self._reader.clear()
        self._socket = sock
        self._answered = False

    def close(self) -> None:
        """Close the connection. Does nothing if it is not open."""
        sock, self._socket = self._socket, None
        self._reader.clear()
        if sock is not None:
            sock.close()

    def __enter__(self) -> SocketClient:
        self.connect()
        return self

    # -- mapping aliases --------------------------------------------------------

    def __getitem__(self, key: Key) -> bytes:
        """``client[key]``: :meth:`get` (a consistent read); a missing key raises
        :class:`~txarakoon.errors.NotFound`, a :class:`KeyError`."""
        return self.get(key)

    def __setitem__(self, key: Key, value: Key) -> None:
        """``client[key] = value``: :meth:`set`."""
        self.set(key, value)

    def __delitem__(self, key: Key) -> None:
        """``del client[key]``: :meth:`delete`."""
        self.delete(key)

    def __contains__(self, key: Key) -> bool:
        """``key in client``: :meth:`exists` (a consistent read)."""
        return self.exists(key)

    # -- AbstractClient -------------------------------------------------------

    def _lost(self, error: Exception) -> object:
        """Why the connection was lost, as a ``ConnectionLost``'s reason: with
        TLS, in txarakoon's words when TLS may be why. A TLS 1.3 node refusing
        the client's certificate (or the lack of one) says so only after the
        handshake, at the first read, or resets the connection before."""
        if self.tls is None:
            return error
        first = not self._answered
        if first or isinstance(error, ssl.SSLError):
            return self.tls.failure(error, *self.address, first_reply=first)
        return error

    def send(self, message: Message[T], patience: Patience | None = None) -> T:
        """Send a declared :class:`~txarakoon.messages.Message` and return its
        value: what every command method does, for clients built on this one
        (the blocking cluster client sends its requests so).

        :param patience: how long to wait for the reply's bytes, instead of
            :attr:`timeout` for each wait (:data:`txarakoon.socket_reads.Patience`):
            asked before each wait with the silence so far (about 0 after a
            chunk), it answers the next wait, or ``None`` to give up with
            :class:`RequestTimeout`. Between two waits it may do what it
            likes (the cluster client asks other nodes whether this one
            stalled), but must not raise. The request is still written within
            :attr:`timeout`.
        """
        return self._process(message, patience)

    def readable(self) -> bool:
        """Whether bytes (or the end of the stream) wait to be read on the
        connection right now; ``False`` when not connected."""
        return self._socket is not None and readable_now(self._socket)

    def _process(self, message: Message[T], patience: Patience | None = None) -> T:
        """Send ``message``, read until its reply is complete, and return the
        value or raise the error (see the class documentation)."""
        sock = self._socket
        if sock is None:
            raise NotConnectedError(
                f"cannot send {message.command.name}: the client is not connected; "
                "call connect() first, or use it in a with block"
            )
        request = repr(message)
        if self._answered and readable_now(sock):
            # Idle, yet readable: the server closed the connection (a restart,
            # a failover) or broke the protocol. Either way the request would
            # be lost unread, and sending it would make its fate unknown.
            self.close()
            raise RequestNotProcessed(
                "the server had closed the connection (noticed before sending)", request
            )
        reader = self._reader
        reply = message.reply
        try:
            # A failed sendall does not say how much went out: the server may
            # have the whole request, as when the reply is cut short.
            sock.sendall(message.serialize())
            outcome = read_reply(sock, reader, reply, patience)
        except EndOfStream as error:
            reason = self._lost(error)
            self.close()
            raise ConnectionLost(reason, request) from None
        except TimeoutError as error:
            self.close()
            raise RequestTimeout(error, request, applied=None) from error
        except OSError as error:
            reason = self._lost(error)
            self.close()
            raise ConnectionLost(reason, request) from error
        except ProtocolViolation as error:
            log.error("Closing the connection: %s", error)
            self.close()
            raise
        except Exception as error:
            log.error("Closing the connection: %s", error)
            self.close()
            raise ProtocolViolation(f"{type(error).__name__}: {error}") from error
        except BaseException:
            # Interrupted mid-reply (KeyboardInterrupt): the rest of the reply
            # would be taken for the next one.
            self.close()
            raise
        self._answered = True
        if isinstance(outcome, ArakoonError):
            if outcome.closes_connection:
                self.close()
            raise outcome
        if isinstance(outcome, CallbackError):
            raise outcome
        if len(reader):
            # The server sent more than the reply. The value stands (a write was
            # applied), but what follows can no longer be matched to a request.
            log.error(
                "Closing the connection: %d unexpected bytes after the reply to %s",
                len(reader),
                request,
            )
            self.close()
        value: T = outcome
        return value
