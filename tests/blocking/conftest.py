"""Fixtures of the blocking cluster client's tests: the in-memory cluster
served by ``txarakoon serve`` in a child process (a blocking call inside a
test run by pytest-twisted must never wait on this process's reactor), with
its control channel."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from txarakoon.blocking_cluster import BlockingArakoonClient
from txarakoon.testing.control import ControlClient
from txarakoon.testing.process import ServeProcess

#: Without the developer's own cluster settings, if any.
ENV = {name: value for name, value in os.environ.items() if not name.startswith("TXARAKOON_")}

#: A short lease, so that a killed master is replaced within seconds; no
#: election until a test kills or elects (``--election-delay`` below).
OPTIONS = ("--count", "3", "--lease", "1")


@pytest.fixture
def served() -> Iterator[ServeProcess]:
    """Three nodes, n0 master; a dead master is replaced about 2 s later.
    For tests that change the cluster (kill, elect, stall, ...)."""
    with ServeProcess.start(*OPTIONS, "--election-delay", "1", env=ENV) as process:
        yield process


@pytest.fixture(scope="module")
def shared() -> Iterator[ServeProcess]:
    """Three nodes, n0 master, for the tests of a module that leave the
    cluster as they found it (each with keys of its own)."""
    with ServeProcess.start(*OPTIONS, "--election-delay", "1", env=ENV) as process:
        yield process


@pytest.fixture
def served_without_elections() -> Iterator[ServeProcess]:
    """Three nodes, n0 master; a new master only when a test elects one."""
    with ServeProcess.start(*OPTIONS, "--election-delay", "none", env=ENV) as process:
        yield process


@pytest.fixture
def control(served: ServeProcess) -> Iterator[ControlClient]:
    with served.control(timeout=30) as client:
        yield client


@pytest.fixture
def shared_control(shared: ServeProcess) -> Iterator[ControlClient]:
    with shared.control(timeout=30) as client:
        yield client


MakeClient = Callable[..., BlockingArakoonClient]


def _factory(process: ServeProcess) -> Iterator[MakeClient]:
    made: list[BlockingArakoonClient] = []

    def make(**settings: object) -> BlockingArakoonClient:
        settings.setdefault("timeout", 15.0)
        client = BlockingArakoonClient(process.config(), **settings)  # type: ignore[arg-type]
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def make_client(served: ServeProcess) -> Iterator[MakeClient]:
    """``make_client(**settings)``: a client of ``served``, closed after the test."""
    yield from _factory(served)


@pytest.fixture
def shared_client(shared: ServeProcess) -> Iterator[MakeClient]:
    """``shared_client(**settings)``: a client of ``shared``, closed after the test."""
    yield from _factory(shared)
