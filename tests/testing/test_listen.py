"""The cluster on real loopback ports, with an ArakoonProtocol client
(pytest-twisted runs these inside the reactor)."""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.error import ConnectionRefusedError

from txarakoon.errors import ConnectionLost, NotMaster
from txarakoon.protocol import ArakoonProtocol, connect
from txarakoon.testing import ArakoonCluster


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


@pytest_twisted.inlineCallbacks  # type: ignore[untyped-decorator]
def test_listen_serves_clients_on_free_loopback_ports() -> Generator[Any, Any, None]:
    reactor = _reactor()
    arakoon = ArakoonCluster(3)
    addresses = arakoon.listen(reactor)
    try:
        assert list(addresses) == ["n0", "n1", "n2"]
        assert {host for host, _ in addresses.values()} == {"127.0.0.1"}
        assert len({port for _, port in addresses.values()}) == 3
        assert arakoon.clock is reactor
        client: ArakoonProtocol = yield connect(reactor, arakoon.endpoint(), arakoon.cluster_id)
        yield client.set(b"k", b"v")
        assert (yield client.get(b"k")) == b"v"
        assert (yield client.who_master()) == b"n0"
        yield client.close()
    finally:
        yield arakoon.stop()


@pytest_twisted.inlineCallbacks  # type: ignore[untyped-decorator]
def test_slave_over_tcp_answers_not_master_and_closes() -> Generator[Any, Any, None]:
    reactor = _reactor()
    arakoon = ArakoonCluster(3)
    arakoon.listen(reactor)
    try:
        client: ArakoonProtocol = yield connect(reactor, arakoon.endpoint("n1"), b"arakoon")
        with pytest.raises(NotMaster):
            yield client.get(b"k")
        yield client.when_lost()
    finally:
        yield arakoon.stop()


@pytest_twisted.inlineCallbacks  # type: ignore[untyped-decorator]
def test_kill_refuses_connections_and_revive_listens_on_the_same_port() -> Generator[
    Any, Any, None
]:
    reactor = _reactor()
    arakoon = ArakoonCluster(3)
    arakoon.listen(reactor)
    try:
        port = arakoon["n2"].address
        open_client: ArakoonProtocol = yield connect(reactor, arakoon.endpoint("n2"), b"arakoon")
        arakoon["n2"].stall()
        pending = open_client.who_master()
        yield arakoon.kill("n2")
        with pytest.raises(ConnectionLost):
            yield pending
        with pytest.raises(ConnectionRefusedError):
            yield connect(reactor, arakoon.endpoint("n2"), b"arakoon")
        yield arakoon.revive("n2")
        assert arakoon["n2"].address == port
        client: ArakoonProtocol = yield connect(reactor, arakoon.endpoint("n2"), b"arakoon")
        assert (yield client.who_master()) == b"n0"
        yield client.close()
    finally:
        yield arakoon.stop()


@pytest_twisted.inlineCallbacks  # type: ignore[untyped-decorator]
def test_ini_and_nodes_spec_describe_the_listening_cluster() -> Generator[Any, Any, None]:
    arakoon = ArakoonCluster(("a", "b"), cluster_id="demo")
    addresses = arakoon.listen(_reactor())
    try:
        ini = arakoon.ini()
        assert ini.startswith("[global]\ncluster_id = demo\ncluster = a, b\n")
        for name, (host, port) in addresses.items():
            assert f"\n[{name}]\nip = {host}\nclient_port = {port}\n" in ini
        spec = arakoon.nodes_spec()
        assert re.fullmatch(r"demo@a=127\.0\.0\.1:\d+,b=127\.0\.0\.1:\d+", spec)
        assert spec == "demo@" + ",".join(f"{n}={h}:{p}" for n, (h, p) in addresses.items())
    finally:
        yield arakoon.stop()


@pytest_twisted.inlineCallbacks  # type: ignore[untyped-decorator]
def test_listen_moves_pending_elections_to_the_reactor() -> Generator[Any, Any, None]:
    from twisted.internet.task import deferLater

    reactor = _reactor()
    arakoon = ArakoonCluster(3, master=None, election_delay=0.01)
    arakoon.listen(reactor)
    try:
        assert arakoon.master is None
        yield deferLater(reactor, 0.05, lambda: None)
        assert arakoon.master == "n0"
    finally:
        yield arakoon.stop()
