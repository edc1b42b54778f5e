"""The control channel: an :class:`~txarakoon.testing.cluster.ArakoonCluster`'s
controls served on a TCP port, one command a line (``txarakoon serve
--control PORT``).

The grammar and its clients are in :mod:`txarakoon.testing.control`. Every
control is one entry of :data:`CONTROLS`: its name, its parameters (each a
parser of one word) and what it does to the cluster. A control returns
``None`` (the reply is ``ok``), text (``ok TEXT``) or a Deferred of either;
while a Deferred is pending the connection reads no further request, so the
replies keep the requests' order.

=========================================  =====================================================
request                                    what it does
=========================================  =====================================================
``state``                                  ``ok {JSON}``: master, txid, lag, timings, nodes
``kill NODE``                              ``cluster.kill(NODE)``, answered once its
                                           connections are closed
``revive NODE``                            ``cluster.revive(NODE)``, answered once it listens
``elect NODE``                             ``cluster.elect(NODE)``
``drop_master``                            ``cluster.drop_master()``
``catch_up``                               ``cluster.catch_up()``
``lag N``                                  ``cluster.lag = N``
``lease_period SECONDS``                   ``cluster.lease_period = SECONDS``
``election_delay SECONDS|none``            ``cluster.election_delay = SECONDS``
``no_longer_master NODE [COUNT [BOOL]]``   ``cluster.no_longer_master(NODE, COUNT, BOOL)``
``delay_replies NODE SECONDS``             ``cluster[NODE].delay_replies(SECONDS)``
``freeze NODE`` / ``thaw NODE``            ``cluster.freeze(NODE)`` / ``cluster.thaw(NODE)``
``lease_renewals BOOL``                    ``cluster.lease_renewals = BOOL``
``settle_time SECONDS``                    ``cluster.settle_time = SECONDS``
``stall NODE`` / ``unstall NODE``          hold every request and reply / release them
``cut_connections_after NODE BYTES|none``  ``cluster[NODE].cut_connections_after(BYTES)``
``drop_connections NODE``                  ``cluster[NODE].drop_connections()``
``going_down NODE BOOL``                   ``cluster[NODE].going_down = BOOL``
``max_connections NODE N|none``            ``cluster[NODE].max_connections = N``
``hold_replies NODE COMMAND [BOOL``        ``cluster.hold_replies(NODE, ...)``: hold the next COUNT
``[COUNT [KEY]]]``                         COMMAND requests (about KEY), executed if BOOL
``held NODE``                              ``ok N`` once NODE's last hold caught its requests
``release NODE``                           release NODE's holds (``kill NODE`` drops them)
=========================================  =====================================================
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from twisted.internet.defer import Deferred, maybeDeferred, succeed
from twisted.internet.interfaces import IAddress, IListeningPort, IReactorTCP
from twisted.internet.protocol import ServerFactory
from twisted.logger import Logger
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure

from .cluster import ArakoonCluster
from .control_grammar import (
    DELIMITER,
    FALSE,
    MAX_LINE,
    NONE,
    TRUE,
    ControlError,
    decode_request,
    encode_error,
    encode_ok,
)
from .hold_controls import command_named, held, hold

__all__ = [
    "CONTROLS",
    "Control",
    "ControlChannel",
    "ControlChannelFactory",
    "Parameter",
    "cluster_state",
    "listen_control",
]


# -- what a word may be -------------------------------------------------------------


def _node(cluster: ArakoonCluster, word: str) -> str:
    if word not in cluster.names:
        raise ControlError(f"no node {word!r} in {list(cluster.names)}")
    return word


def _at_least_zero(
    convert: Callable[[str], float], what: str
) -> Callable[[ArakoonCluster, str], float]:
    """A word parsed by ``convert`` into a finite number, 0 or more."""

    def parse(cluster: ArakoonCluster, word: str) -> float:
        try:
            value = convert(word)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value >= 0):
            raise ControlError(f"must be {what}, 0 or more, not {word!r}")
        return value

    return parse


_count = _at_least_zero(int, "a whole number")
_seconds = _at_least_zero(float, "a number of seconds")


def _positive_seconds(cluster: ArakoonCluster, word: str) -> float:
    value = _seconds(cluster, word)
    if value == 0:
        raise ControlError(f"must be a positive number of seconds, not {word!r}")
    return value


def _flag(cluster: ArakoonCluster, word: str) -> bool:
    if word not in (TRUE, FALSE):
        raise ControlError(f"must be {TRUE} or {FALSE}, not {word!r}")
    return word == TRUE


def _or_none(
    parse: Callable[[ArakoonCluster, str], Any],
) -> Callable[[ArakoonCluster, str], Any]:
    def parse_or_none(cluster: ArakoonCluster, word: str) -> Any:
        return None if word == NONE else parse(cluster, word)

    return parse_or_none


@dataclass(frozen=True)
class Parameter:
    """One argument of a control: its name in usage lines and its parser
    (``parse(cluster, word)``, raising :class:`ControlError`). An optional
    one left out is not passed, so the control's default applies."""

    name: str
    parse: Callable[[ArakoonCluster, str], Any]
    optional: bool = False


NODE: Final = Parameter("NODE", _node)


@dataclass(frozen=True)
class Control:
    """One command of the channel: ``run(cluster, *values)`` returns ``None``,
    the reply's text or a Deferred of either."""

    name: str
    parameters: tuple[Parameter, ...]
    run: Callable[..., Any]

    @property
    def usage(self) -> str:
        words = [self.name]
        for parameter in self.parameters:
            words.append(f"[{parameter.name}]" if parameter.optional else parameter.name)
        return " ".join(words)

    def bind(self, cluster: ArakoonCluster, words: list[str]) -> list[Any]:
        """The values of ``words``, the arguments of this control."""
        required = sum(not parameter.optional for parameter in self.parameters)
        if not required <= len(words) <= len(self.parameters):
            raise ControlError(f"usage: {self.usage}")
        values = []
        for parameter, word in zip(self.parameters, words, strict=False):
            try:
                values.append(parameter.parse(cluster, word))
            except ControlError as error:
                raise ControlError(f"{self.name} {parameter.name}: {error}") from None
        return values


def cluster_state(cluster: ArakoonCluster) -> dict[str, Any]:
    """What ``state`` answers: the cluster and its nodes now, as JSON values."""

    def role(name: str) -> str:
        node = cluster[name]
        if not node.alive:
            return "dead"
        return "master" if node.is_master else "slave"

    return {
        "master": cluster.master,
        "who_master": cluster.who_master(),
        "txid": cluster.txid,
        "lag": cluster.lag,
        "lease_period": cluster.lease_period,
        "election_delay": cluster.election_delay,
        "progress_possible": cluster.progress_possible(),
        "nodes": {
            node.name: {
                "alive": node.alive,
                "role": role(node.name),
                "txid": node.store.txid,
                "address": None if node.address is None else list(node.address),
                "stalled": node.stalled,
                "reply_delay": node.reply_delay,
                "cut_after": node.cut_after,
                "going_down": node.going_down,
                "max_connections": node.max_connections,
            }
            for node in cluster
        },
    }


def _setter(attribute: str) -> Callable[[Any, Any], None]:
    def set_attribute(target: Any, value: Any) -> None:
        setattr(target, attribute, value)

    return set_attribute


def _on_node(action: Callable[..., Any]) -> Callable[..., Any]:
    """``action(node, *values)`` as a control taking the node's name first."""

    def run(cluster: ArakoonCluster, name: str, *values: Any) -> Any:
        return action(cluster[name], *values)

    return run


def _table(controls: Iterable[Control]) -> Mapping[str, Control]:
    return {control.name: control for control in controls}


#: Every control of the channel, by name.
CONTROLS: Final[Mapping[str, Control]] = _table(
    [
        Control("state", (), lambda cluster: json.dumps(cluster_state(cluster))),
        Control("kill", (NODE,), ArakoonCluster.kill),
        Control("revive", (NODE,), ArakoonCluster.revive),
        Control("elect", (NODE,), ArakoonCluster.elect),
        Control("drop_master", (), ArakoonCluster.drop_master),
        Control("catch_up", (), ArakoonCluster.catch_up),
        Control("lag", (Parameter("N", _count),), _setter("lag")),
        Control(
            "lease_period", (Parameter("SECONDS", _positive_seconds),), _setter("lease_period")
        ),
        Control(
            "election_delay",
            (Parameter("SECONDS|none", _or_none(_seconds)),),
            _setter("election_delay"),
        ),
        Control(
            "no_longer_master",
            (NODE, Parameter("COUNT", _count, True), Parameter("BOOL", _flag, True)),
            ArakoonCluster.no_longer_master,
        ),
        Control(
            "delay_replies",
            (NODE, Parameter("SECONDS", _seconds)),
            _on_node(lambda node, seconds: node.delay_replies(seconds)),
        ),
        Control("freeze", (NODE,), ArakoonCluster.freeze),
        Control("thaw", (NODE,), ArakoonCluster.thaw),
        Control("lease_renewals", (Parameter("BOOL", _flag),), _setter("lease_renewals")),
        Control("settle_time", (Parameter("SECONDS", _seconds),), _setter("settle_time")),
        Control("stall", (NODE,), _on_node(lambda node: node.stall())),
        Control("unstall", (NODE,), _on_node(lambda node: node.unstall())),
        Control(
            "cut_connections_after",
            (NODE, Parameter("BYTES|none", _or_none(_count))),
            _on_node(lambda node, reply_bytes: node.cut_connections_after(reply_bytes)),
        ),
        Control("drop_connections", (NODE,), _on_node(lambda node: node.drop_connections())),
        Control("going_down", (NODE, Parameter("BOOL", _flag)), _on_node(_setter("going_down"))),
        Control(
            "max_connections",
            (NODE, Parameter("N|none", _or_none(_count))),
            _on_node(_setter("max_connections")),
        ),
        Control(
            "hold_replies",
            (
                NODE,
                Parameter("COMMAND", command_named),
                Parameter("BOOL", _flag, True),
                Parameter("COUNT", _count, True),
                Parameter("KEY", lambda cluster, word: word, True),
            ),
            hold,
        ),
        Control("held", (NODE,), held),
        Control("release", (NODE,), _on_node(lambda node: node.holds.release())),
    ]
)


class ControlChannel(LineReceiver):
    """One connection to the channel: answers a request a line, in order."""

    delimiter = DELIMITER
    MAX_LENGTH = MAX_LINE
    log = Logger()

    def __init__(self, factory: ControlChannelFactory) -> None:
        self.factory = factory
        self._requests: deque[bytes] = deque()
        self._busy = False

    def lineReceived(self, line: bytes) -> None:
        self._requests.append(line)
        self._answer_requests()

    def _answer_requests(self) -> None:
        # A control answering later holds back the requests behind it, so that
        # the replies keep the order of the requests.
        while self._requests and not self._busy:
            reply = self._reply(self._requests.popleft())
            self._busy = True
            reply.addCallback(self._answered)

    def _answered(self, reply: bytes) -> None:
        self._busy = False
        if self.transport is not None and self.connected:
            self.transport.write(reply)
            self._answer_requests()

    def _reply(self, line: bytes) -> Deferred[bytes]:
        try:
            result = self.factory.run(line)
        except ControlError as error:
            return succeed(encode_error(str(error)))
        reply: Deferred[bytes] = result.addCallbacks(_reply_to, self._failed)
        return reply

    def _failed(self, failure: Failure) -> bytes:
        error = failure.value
        assert error is not None
        if not isinstance(error, _EXPECTED):
            self.log.failure("control channel: a control failed", failure)
        return encode_error(_message(error))

    def lineLengthExceeded(self, line: bytes) -> None:
        if self.transport is not None:
            self.transport.write(encode_error(f"a request is at most {MAX_LINE} bytes"))
            self.transport.loseConnection()


#: What a control raises for a bad argument or state, rather than a bug.
_EXPECTED: Final = (ControlError, ValueError, KeyError, RuntimeError)


def _reply_to(result: object) -> bytes:
    """The ``ok`` reply to what a control returned (``None`` or text)."""
    return encode_ok(result if isinstance(result, str) else None)


def _message(error: BaseException) -> str:
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])
    if isinstance(error, _EXPECTED):
        return str(error)
    return f"{type(error).__name__}: {error}"


class ControlChannelFactory(ServerFactory):
    """Serves ``controls`` (default: :data:`CONTROLS`) of ``cluster``."""

    noisy = False

    def __init__(self, cluster: ArakoonCluster, controls: Mapping[str, Control] = CONTROLS) -> None:
        self.cluster = cluster
        self.controls = controls

    def buildProtocol(self, addr: IAddress | None) -> ControlChannel:
        return ControlChannel(self)

    def run(self, line: bytes) -> Deferred[Any]:
        """Run the request ``line``: a Deferred of what its control returned;
        :class:`ControlError` at once for a request that names no control or
        whose arguments do not fit."""
        command, *words = decode_request(line)
        control = self.controls.get(command)
        if control is None:
            known = ", ".join(self.controls)
            raise ControlError(f"unknown command {command!r} (commands: {known})")
        values = control.bind(self.cluster, words)
        return maybeDeferred(control.run, self.cluster, *values)


def listen_control(
    reactor: IReactorTCP, cluster: ArakoonCluster, port: int = 0, interface: str = "127.0.0.1"
) -> IListeningPort:
    """Serve ``cluster``'s controls on ``interface``:``port`` (0: a free port)."""
    return reactor.listenTCP(port, ControlChannelFactory(cluster), interface=interface)
