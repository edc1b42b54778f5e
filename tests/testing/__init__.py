"""Tests of txarakoon.testing, the in-memory Arakoon server, written from
PROTOCOL.md. Shared helpers: raw byte exchanges with a node, golden vectors."""

from __future__ import annotations

from typing import Any

from twisted.internet.task import Clock

from txarakoon.messages import Message, prologue
from txarakoon.testing import ArakoonCluster, ArakoonNode, RawClient, connect_in_memory

from ..helpers import vectors


def cluster(node_names: Any = 1, **settings: Any) -> ArakoonCluster:
    """A cluster on a fresh task.Clock (``cluster.clock``)."""
    return ArakoonCluster(node_names, clock=Clock(), **settings)


def clock_of(arakoon: ArakoonCluster) -> Clock:
    assert isinstance(arakoon.clock, Clock)
    return arakoon.clock


def wire(request: Message[Any] | bytes) -> bytes:
    return request if isinstance(request, bytes) else request.serialize()


def exchange(
    node: ArakoonNode, *requests: Message[Any] | bytes, greeting: bytes | None = None
) -> tuple[bytes, bool]:
    """Connect a raw client to ``node`` in memory, send the prologue (or
    ``greeting``) and ``requests`` in one chunk; the bytes received and
    whether the connection was closed."""
    first = prologue(node.cluster.cluster_id) if greeting is None else greeting
    client = RawClient(first + b"".join(wire(request) for request in requests))
    connect_in_memory(node, client)
    node.cluster.flush()
    return bytes(client.received), client.lost


def open_raw(node: ArakoonNode) -> RawClient:
    """A raw client, connected to ``node`` in memory, prologue sent."""
    client = RawClient.with_prologue(node.cluster.cluster_id)
    connect_in_memory(node, client)
    return client


def response(vector_id: str) -> bytes:
    """The exact bytes of a response vector."""
    (found,) = [v for v in vectors.ALL if v["id"] == vector_id]
    return bytes.fromhex(found["response_hex"])
