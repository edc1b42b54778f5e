"""Clients of the control channel of ``txarakoon serve --control PORT``.

A test suite whose service under test runs in another process cannot call
:meth:`ArakoonCluster.kill <txarakoon.testing.cluster.ArakoonCluster.kill>`
on a cluster it does not hold. ``txarakoon serve --control PORT`` serves the
cluster's controls on a loopback port (:mod:`txarakoon.testing.channel`), and
these clients call them:

* :class:`ControlClient`, blocking, for any test runner::

      with ControlClient("127.0.0.1:7000") as control:
          control.kill("n0")
          control.elect("n1")
          assert control.state()["master"] == "n1"

* :class:`ControlProtocol`, a Twisted protocol, for trial suites:
  ``control = await connect_control(reactor, "127.0.0.1:7000")``; each
  method returns a Deferred, and ``await control.close()`` closes it.

:mod:`txarakoon.testing.process` starts ``txarakoon serve`` in a child
process and hands out a :class:`ControlClient` connected to it.

The grammar, in UTF-8: a request is one line (``\\n``; a ``\\r`` before it is
ignored), a command and its arguments separated by spaces; each argument is a
word without whitespace (``none``, ``true`` and ``false`` stand for those
values). The channel answers each request, in order, with one line: ``ok``,
``ok TEXT`` (``state`` answers JSON), or ``error MESSAGE``, which the clients
raise as :class:`ControlError`.
"""

from __future__ import annotations

import json
import os
import socket
from collections import deque
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.interfaces import IReactorTCP
from twisted.internet.protocol import connectionDone
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure

from .control_grammar import (
    CONTROL_VARIABLE,
    DELIMITER,
    MAX_LINE,
    ControlError,
    decode_reply,
    encode_request,
    parse_address,
)

# ControlError and CONTROL_VARIABLE are the grammar's, offered here with the
# clients that raise and read them.
__all__ = [
    "CONTROL_VARIABLE",
    "ControlClient",
    "ControlError",
    "ControlProtocol",
    "Controls",
    "connect_control",
]

R = TypeVar("R")


# -- the controls, for both flavours ---------------------------------------------


class Controls(Generic[R]):
    """The cluster's controls, one method each; what each returns is
    :meth:`call`'s: the reply's text (``""`` for most) for the blocking
    client, a Deferred of it for the Twisted one. A control the channel has
    and this class lacks is ``call("name", *arguments)``."""

    def call(self, command: str, *arguments: object) -> R:
        """Run ``command`` with ``arguments`` (words, numbers, booleans or
        ``None``) on the served cluster."""
        raise NotImplementedError

    def kill(self, name: str) -> R:
        """Kill node ``name`` (answered once its connections are closed)."""
        return self.call("kill", name)

    def revive(self, name: str) -> R:
        """Restart a killed node as a slave (answered once it listens again)."""
        return self.call("revive", name)

    def elect(self, name: str) -> R:
        """Make ``name`` master now."""
        return self.call("elect", name)

    def drop_master(self) -> R:
        """The master gives up mastership at once (the test control, not the
        ``drop_master`` command)."""
        return self.call("drop_master")

    def catch_up(self) -> R:
        """Let every live slave apply everything agreed so far."""
        return self.call("catch_up")

    def set_lag(self, updates: int) -> R:
        """How many updates slaves lag behind the master."""
        return self.call("lag", updates)

    def set_lease_period(self, seconds: float) -> R:
        """The master lease, in seconds."""
        return self.call("lease_period", seconds)

    def set_election_delay(self, seconds: float | None) -> R:
        """Seconds without master before an election, or ``None`` to wait for
        :meth:`elect`."""
        return self.call("election_delay", seconds)

    def no_longer_master(self, name: str, count: int = 1, applied: bool = True) -> R:
        """Node ``name`` answers its next ``count`` writes with 0x21
        NoLongerMaster, applying them or not."""
        return self.call("no_longer_master", name, count, applied)

    def delay_replies(self, name: str, seconds: float) -> R:
        """Node ``name`` writes each reply ``seconds`` late (0: stop)."""
        return self.call("delay_replies", name, seconds)

    def freeze(self, name: str) -> R:
        """Node ``name`` stops like a paused process: it answers nothing, keeps
        its connections and renews no lease, so a frozen master is replaced."""
        return self.call("freeze", name)

    def thaw(self, name: str) -> R:
        """Node ``name`` goes on, and answers what it held as the node it is now."""
        return self.call("thaw", name)

    def set_lease_renewals(self, renewing: bool) -> R:
        """Whether lease renewals are updates (``False``: the txid counts writes)."""
        return self.call("lease_renewals", renewing)

    def set_settle_time(self, seconds: float) -> R:
        """How long a new master reports ``Master_dictate``."""
        return self.call("settle_time", seconds)

    def stall(self, name: str) -> R:
        """Node ``name`` holds every request and reply until :meth:`unstall`."""
        return self.call("stall", name)

    def unstall(self, name: str) -> R:
        """Node ``name`` answers what it held, and goes on."""
        return self.call("unstall", name)

    def cut_connections_after(self, name: str, reply_bytes: int | None) -> R:
        """Node ``name`` cuts each connection after ``reply_bytes`` more reply
        bytes (``None``: no more cuts)."""
        return self.call("cut_connections_after", name, reply_bytes)

    def drop_connections(self, name: str) -> R:
        """Node ``name`` cuts every open connection at once."""
        return self.call("drop_connections", name)

    def set_going_down(self, name: str, going_down: bool) -> R:
        """Whether node ``name`` answers new connections with 0x10 GoingDown."""
        return self.call("going_down", name, going_down)

    def hold_replies(
        self,
        name: str,
        command: str,
        applied: bool = True,
        count: int = 1,
        key: str | None = None,
    ) -> R:
        """Node ``name`` holds the next ``count`` requests of ``command`` (a
        command's name, e.g. ``"sequence"``), only those about ``key`` if
        given: executed at once with their replies held if ``applied``, else
        held unexecuted (see :mod:`txarakoon.testing.holds`). Then
        :meth:`release` them, or :meth:`kill` the node with them unsent."""
        if key is None:
            return self.call("hold_replies", name, command, applied, count)
        return self.call("hold_replies", name, command, applied, count, key)

    def held(self, name: str) -> R:
        """Answered (with how many it holds) once node ``name``'s last hold
        caught its requests."""
        return self.call("held", name)

    def release(self, name: str) -> R:
        """Answer what node ``name`` holds, and hold nothing more."""
        return self.call("release", name)

    def set_max_connections(self, name: str, count: int | None) -> R:
        """Node ``name`` refuses connections beyond ``count`` with 0xfe
        MaxConnections (``None``: no limit)."""
        return self.call("max_connections", name, count)


# -- blocking --------------------------------------------------------------------


class ControlClient(Controls[str]):
    """A blocking client of a control channel at ``address`` (``(host, port)``
    or ``"host:port"``). It connects on first use and answers each call with
    the reply's text; an ``error`` reply raises :class:`ControlError`, a lost
    connection :class:`ConnectionError` (the next call connects again).
    ``timeout``: seconds to wait for each connection and reply."""

    def __init__(self, address: str | tuple[str, int], timeout: float | None = 30.0) -> None:
        self.address = parse_address(address)
        self.timeout = timeout
        self._socket: socket.socket | None = None
        self._buffer = b""

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] | None = None, timeout: float | None = 30.0
    ) -> ControlClient:
        """A client of the channel named by ``$TXARAKOON_CONTROL`` (the line
        ``serve --control`` prints); ``LookupError`` if it is not set."""
        environ = os.environ if environ is None else environ
        if CONTROL_VARIABLE not in environ:
            raise LookupError(f"${CONTROL_VARIABLE} is not set: run txarakoon serve --control 0")
        return cls(environ[CONTROL_VARIABLE], timeout)

    def __repr__(self) -> str:
        host, port = self.address
        state = "connected" if self._socket is not None else "not connected"
        return f"<ControlClient {host}:{port} {state}>"

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection, if any."""
        connection, self._socket = self._socket, None
        self._buffer = b""
        if connection is not None:
            connection.close()

    def call(self, command: str, *arguments: object) -> str:
        request = encode_request(command, *arguments)
        if self._socket is None:
            self._socket = socket.create_connection(self.address, timeout=self.timeout)
        try:
            self._socket.sendall(request)
            line = self._read_line()
        except OSError:
            self.close()
            raise
        return decode_reply(line)

    def state(self) -> dict[str, Any]:
        """The served cluster now: ``master``, ``who_master``, ``txid``,
        ``lag``, ``lease_period``, ``election_delay``, ``progress_possible``
        and ``nodes`` (by name: ``alive``, ``role``, ``txid``, ``address``,
        ``stalled``, ``reply_delay``, ``cut_after``, ``going_down``,
        ``max_connections``)."""
        return _json_object(self.call("state"))

    def _read_line(self) -> bytes:
        assert self._socket is not None
        while DELIMITER not in self._buffer:
            if len(self._buffer) > MAX_LINE:
                raise ConnectionError(f"control reply longer than {MAX_LINE} bytes")
            chunk = self._socket.recv(65536)
            if not chunk:
                host, port = self.address
                raise ConnectionError(f"the control channel {host}:{port} closed the connection")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(DELIMITER)
        return line


# -- Twisted -----------------------------------------------------------------------


class ControlProtocol(LineReceiver, Controls[Deferred[str]]):
    """A Twisted client of a control channel: each call returns a Deferred
    of the reply's text, failing with :class:`ControlError` for an ``error``
    reply and :class:`ConnectionError` when the connection is gone. Calls
    may be pipelined; replies come in order. Connect it with
    :func:`connect_control`, close it with :meth:`close`."""

    delimiter = DELIMITER
    MAX_LENGTH = MAX_LINE

    def __init__(self) -> None:
        self._waiting: deque[Deferred[str]] = deque()
        self._open = False
        self._closing: list[Deferred[None]] = []

    def close(self) -> Deferred[None]:
        """Close the connection: a Deferred that fires (with ``None``) once it
        is closed, at once if it is already. Calls still waiting for their
        replies fail with :class:`ConnectionError`."""
        if not self._open or self.transport is None:
            return succeed(None)
        closed: Deferred[None] = Deferred()
        self._closing.append(closed)
        self.transport.loseConnection()
        return closed

    def connectionMade(self) -> None:
        self._open = True

    def call(self, command: str, *arguments: object) -> Deferred[str]:
        request = encode_request(command, *arguments)
        if not self._open:
            return fail(ConnectionError("the control channel is not connected"))
        waiting: Deferred[str] = Deferred()
        self._waiting.append(waiting)
        assert self.transport is not None
        self.transport.write(request)
        return waiting

    def state(self) -> Deferred[dict[str, Any]]:
        """The served cluster now (see :meth:`ControlClient.state`)."""
        return self.call("state").addCallback(_json_object)

    def lineReceived(self, line: bytes) -> None:
        if not self._waiting:
            # A reply to no request: the peer is no control channel.
            if self.transport is not None:
                self.transport.loseConnection()
            return
        waiting = self._waiting.popleft()
        try:
            text = decode_reply(line)
        except ControlError:
            waiting.errback()
        else:
            waiting.callback(text)

    def lineLengthExceeded(self, line: bytes) -> None:
        if self.transport is not None:
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._open = False
        waiting, self._waiting = self._waiting, deque()
        for call in waiting:
            lost = ConnectionError(f"the control channel connection was lost: {reason.value}")
            call.errback(lost)
        closing, self._closing = self._closing, []
        for closed in closing:
            closed.callback(None)


def _json_object(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value


def connect_control(
    reactor: IReactorTCP, address: str | tuple[str, int]
) -> Deferred[ControlProtocol]:
    """Connect a :class:`ControlProtocol` to the channel at ``address``
    (``(host, port)`` or ``"host:port"``)."""
    host, port = parse_address(address)
    endpoint = TCP4ClientEndpoint(reactor, host, port)
    connecting: Deferred[ControlProtocol] = connectProtocol(  # type: ignore[no-untyped-call]
        endpoint, ControlProtocol()
    )
    return connecting
