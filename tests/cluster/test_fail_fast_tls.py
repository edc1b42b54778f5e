"""TLS settings the nodes refuse fail a call at once, with what to check: in-memory
nodes on loopback behind Twisted's TLS (certificates made with trustme).

The sockets run on the reactor, but the client keeps time on a Clock that
never advances: its deadline, backoff and timeouts never fire, so a call that
fails at all failed before its deadline, without a retry. (The guard, on the
reactor, turns a hang into a failed test.)"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import ssl
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.ssl import TLSVersion
from twisted.internet.task import Clock

from txarakoon import errors
from txarakoon.cluster import ArakoonClient
from txarakoon.config import ClusterConfig, NodeConfig, TLSConfig
from txarakoon.testing import ArakoonCluster

from .test_tls import PKI, TLSCluster, _reactor, guarded, pki, serve, server_options

__all__ = ["pki", "serve"]  # fixtures, used by name


def frozen_client(config: ClusterConfig) -> ArakoonClient:
    """A client connecting over loopback whose time stands still."""
    reactor = _reactor()

    def endpoint(node: NodeConfig, host: str) -> IStreamClientEndpoint:
        return TCP4ClientEndpoint(reactor, host, node.port)

    return ArakoonClient(config, Clock(), endpoint_factory=endpoint)


async def refused(client: ArakoonClient) -> errors.MisconfiguredCluster:
    """The MisconfiguredCluster a write fails with; the client is left."""
    with pytest.raises(errors.MisconfiguredCluster) as caught:
        await guarded(client.set(b"k", b"v"))
    error = caught.value
    assert error.applied is False
    assert set(error.nodes) == {"n0", "n1", "n2"}
    for connection in (client.connection(name) for name in error.nodes):
        if connection is not None:
            connection.abort()
    return error


def authority(pki: PKI) -> Any:
    return ssl.Certificate.loadPEM(pki.ca.cert_pem.bytes())


@pytest_twisted.ensureDeferred
async def test_a_server_of_another_ca_fails_at_once_saying_to_check_the_ca(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    nodes = serve(server_options(pki.server()))
    error = await refused(frozen_client(nodes.config(TLSConfig(pki.other_ca_path))))
    for text in error.nodes.values():
        assert "certificate verify failed" in text
        assert "tls_ca_cert" in text
    assert nodes.cluster.store.get(b"k") is None


@pytest_twisted.ensureDeferred
async def test_an_expired_server_certificate_fails_at_once(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    leaf = pki.ca.issue_cert("127.0.0.1", not_before=past, not_after=past.replace(month=2))
    nodes = serve(server_options(leaf))
    error = await refused(frozen_client(nodes.config(TLSConfig(pki.ca_path))))
    assert all("certificate has expired" in text for text in error.nodes.values())


@pytest_twisted.ensureDeferred
async def test_a_missing_client_certificate_refused_after_a_tls_1_3_handshake_fails_at_once(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    nodes = serve(server_options(pki.server(), trustRoot=authority(pki)))
    error = await refused(frozen_client(nodes.config(TLSConfig(pki.ca_path))))
    for text in error.nodes.values():
        assert "certificate required" in text
        assert "tls_cert" in text


@pytest_twisted.ensureDeferred
async def test_a_missing_client_certificate_refused_in_a_tls_1_2_handshake_fails_at_once(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    options = server_options(
        pki.server(), trustRoot=authority(pki), lowerMaximumSecurityTo=TLSVersion.TLSv1_2
    )
    nodes = serve(options)
    error = await refused(frozen_client(nodes.config(TLSConfig(pki.ca_path))))
    assert all("TLS handshake failed" in text for text in error.nodes.values())


@pytest_twisted.async_yield_fixture  # type: ignore[untyped-decorator]
async def plain() -> AsyncIterator[ArakoonCluster]:
    """Three in-memory nodes listening on loopback without TLS."""
    cluster = ArakoonCluster(3, clock=Clock())
    cluster.listen(_reactor())
    yield cluster
    await cluster.stop()


def config_of(cluster: ArakoonCluster, tls: TLSConfig | None) -> ClusterConfig:
    return ClusterConfig(
        cluster.cluster_id,
        {name: ([host], port) for name, (host, port) in cluster.addresses.items()},
        tls=tls,
    )


@pytest_twisted.ensureDeferred
async def test_tls_against_a_plain_port_fails_at_once_saying_it_speaks_no_tls(
    pki: PKI, plain: ArakoonCluster
) -> None:
    error = await refused(frozen_client(config_of(plain, TLSConfig(pki.ca_path))))
    assert all("speaks no TLS" in text for text in error.nodes.values())


@pytest_twisted.ensureDeferred
async def test_plain_bytes_against_a_tls_port_fail_at_once(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    nodes = serve(server_options(pki.server()))
    config = ClusterConfig(
        nodes.cluster.cluster_id,
        {name: (["127.0.0.1"], port) for name, port in nodes.ports.items()},
    )
    error = await refused(frozen_client(config))
    assert all("TLS" in text for text in error.nodes.values())


@pytest_twisted.ensureDeferred
async def test_who_master_raises_why_when_every_node_fails_its_handshake(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    nodes = serve(server_options(pki.server()))
    client = frozen_client(nodes.config(TLSConfig(pki.other_ca_path)))
    with pytest.raises(errors.MisconfiguredCluster) as caught:
        await guarded(client.who_master())
    assert "certificate verify failed" in str(caught.value)
