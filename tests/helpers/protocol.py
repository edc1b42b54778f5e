"""Helpers shared by the ``test_protocol_*`` modules: an :class:`ArakoonProtocol`
on a :class:`StringTransport`, reply bytes, and outcomes of Deferreds that can be
compared with ``==``."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from txarakoon.codec import Type
from txarakoon.errors import ArakoonError, ConnectionFailure
from txarakoon.protocol import ArakoonProtocol
from txarakoon.sequence import Step

from . import vectors

CLUSTER_ID = b"arakoon"

#: The reply to any command whose result is unit.
OK = b"\x00\x00\x00\x00"


class NoDelayTransport(StringTransport):
    """A StringTransport that records ``setTcpNoDelay`` calls, as TCP transports have."""

    def __init__(self) -> None:
        super().__init__()
        self.no_delay: list[bool] = []

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.no_delay.append(enabled)


def connect(
    cluster_id: bytes | str = CLUSTER_ID,
    *,
    transport: StringTransport | None = None,
    keep_prologue: bool = False,
    **settings: Any,
) -> tuple[ArakoonProtocol, StringTransport]:
    """A connected protocol, its transport emptied of the prologue unless
    ``keep_prologue``."""
    protocol = ArakoonProtocol(cluster_id, **settings)
    if transport is None:
        transport = StringTransport()
    protocol.makeConnection(transport)
    if not keep_prologue:
        transport.clear()
    return protocol, transport


def take(transport: StringTransport) -> bytes:
    """What was written since the last call, then forget it."""
    data: bytes = transport.value()
    transport.clear()
    return data


def success(result: Type[Any], value: Any) -> bytes:
    """The reply bytes of a successful command."""
    return OK + result.encode(value)


def error_reply(code: int, message: bytes) -> bytes:
    return code.to_bytes(4, "little") + len(message).to_bytes(4, "little") + message


def describe(error: BaseException) -> tuple[Any, ...]:
    """What a test compares of an error: its class and what it carries."""
    if isinstance(error, ArakoonError):
        return (type(error), error.code, error.message)
    if isinstance(error, ConnectionFailure):
        return (type(error), error.applied)
    return (type(error),)


def outcome(deferred: Deferred[Any]) -> tuple[Any, ...]:
    """``("value", v)`` or ``("error", *describe(e))`` of a fired Deferred,
    consuming a failure so that it is never reported as unhandled."""
    seen: list[tuple[Any, ...]] = []

    def on_value(value: Any) -> None:
        seen.append(("value", value))

    def on_failure(failure: Failure) -> None:
        seen.append(("error", *describe(failure.value)))

    deferred.addCallbacks(on_value, on_failure)
    assert seen, "the Deferred has not fired"
    return seen[0]


def chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the given offsets (taken modulo its length + 1)."""
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    return [data[start:end] for start, end in pairwise(points)]


# -- the vectors as ClientMixin / AdminMixin calls ------------------------------

_METHOD_FOR_API = {"get_tx_id": "get_txid", "sequence(sync=True)": "sequence"}


def method_call(vector: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The facade method and keyword arguments that send a request vector."""
    api = vector["api"] or vector["command"]
    kwargs: dict[str, Any] = {}
    for name, value in vector["args"].items():
        if name == "allow_dirty":
            kwargs[name] = value
        elif name == "consistency":
            kwargs[name] = vectors.consistency(vector["args"])
        elif name == "steps":
            steps: list[Step] = [vectors.step(spec) for spec in value]
            kwargs[name] = steps
        elif name == "keys":
            kwargs[name] = [vectors.b(key) for key in value]
        elif isinstance(value, str):
            kwargs[name] = vectors.b(value)
        else:
            kwargs[name] = value
    if api == "sequence(sync=True)":
        kwargs["sync"] = True
    return _METHOD_FOR_API.get(api, api), kwargs


def request_vector_for(command_name: str) -> dict[str, Any]:
    """The first in-scope request vector of a command."""
    for vector in vectors.in_scope_requests():
        command = vectors.command_for(vector)
        if command is not None and command.name == command_name:
            return vector
    raise LookupError(command_name)


def send(protocol: ArakoonProtocol, vector: dict[str, Any], **extra: Any) -> Deferred[Any]:
    """Send a request vector through the facade method that exposes it."""
    method, kwargs = method_call(vector)
    result: Deferred[Any] = getattr(protocol, method)(**kwargs, **extra)
    return result
