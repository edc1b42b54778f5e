"""Fixtures of the behaviour suite: the target cluster, a client of each flavour
connected to its master, unique keys, and an in-process cluster with controls.

* ``target``: the cluster under test (session-wide). Without
  ``TXARAKOON_TEST_NODES`` it is our in-memory cluster served by
  ``serve_cluster.py`` in a subprocess (so that the blocking client never waits
  on this process's reactor).
* ``flavour`` / ``client``: parametrized over the Twisted ``ArakoonProtocol``
  and the blocking ``SocketClient`` (seen through fired Deferreds, so that one
  ``async`` test body serves both), connected to the node ``who_master`` names.
* ``keys``: a fresh key prefix, deleted from the target after the test.
* ``in_memory``: in-process clusters on loopback with their controls (kill,
  elect, lag, ...); any test using it, or marked ``in_memory_only``, is skipped
  against a real cluster.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from txarakoon.config import ClusterConfig

from .support import (
    FLAVOURS,
    NODES_VARIABLE,
    Flavour,
    InMemory,
    Keys,
    ServedCluster,
    Target,
    blockon,
)

MARKER = "in_memory_only"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(reason): needs what only the in-memory cluster offers; "
        f"skipped when {NODES_VARIABLE} names a real cluster",
    )


def _real_cluster() -> bool:
    return bool(os.environ.get(NODES_VARIABLE))


@pytest.fixture(autouse=True)
def _skip_what_a_real_cluster_cannot_do(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None and _real_cluster():
        pytest.skip(marker.args[0] if marker.args else "needs the in-memory cluster")


@pytest.fixture(scope="session")
def target() -> Iterator[Target]:
    spec = os.environ.get(NODES_VARIABLE)
    if spec:
        yield Target(ClusterConfig.from_spec(spec), real=True)
        return
    served = ServedCluster.start()
    try:
        yield Target(ClusterConfig.from_spec(served.spec), real=False)
    finally:
        served.stop()


@pytest.fixture
def keys(target: Target) -> Iterator[Keys]:
    made = Keys()
    yield made
    target.delete_prefix(made.prefix)


@pytest.fixture(params=sorted(FLAVOURS))
def flavour(request: pytest.FixtureRequest, target: Target) -> Iterator[Flavour]:
    made = FLAVOURS[request.param](target)
    yield made
    made.close_all()


@pytest.fixture
def client(flavour: Flavour) -> Any:
    """A client of the flavour, connected to the master."""
    return blockon(flavour.connect())


@pytest.fixture
def in_memory() -> Iterator[InMemory]:
    if _real_cluster():
        pytest.skip("needs the in-memory cluster's controls")
    made = InMemory()
    yield made
    made.close()
