"""ArakoonClient over TLS: in-memory nodes listening on loopback behind
Twisted's TLS, certificates made in the test with trustme (pytest-twisted runs
these inside the reactor)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import trustme
from OpenSSL import SSL
from twisted.internet import ssl
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import ISSLTransport
from twisted.internet.ssl import TLSVersion
from twisted.internet.task import Clock
from twisted.protocols.tls import TLSMemoryBIOFactory

from txarakoon import errors
from txarakoon.cluster import ArakoonClient
from txarakoon.cluster.links import socket_of
from txarakoon.config import ClusterConfig, ConfigError, TLSConfig
from txarakoon.testing import ArakoonCluster
from txarakoon.tls import VERSION_ADVICE, ClientTLS

GUARD = 10.0  # seconds: a hang fails the test instead of blocking the run


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


@dataclass
class PKI:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as
    files; and a second, unrelated CA."""

    directory: Path
    ca: trustme.CA
    ca_path: str
    other_ca_path: str
    client_cert: str
    client_key: str

    def server(self, *names: str) -> trustme.LeafCert:
        return self.ca.issue_cert(*(names or ("127.0.0.1", "n0.arakoon")))


@pytest.fixture
def pki(tmp_path: Path) -> PKI:
    ca = trustme.CA()
    other = trustme.CA()
    client = ca.issue_cert("client.arakoon")
    paths = {name: str(tmp_path / f"{name}.pem") for name in ("ca", "other", "cert", "key")}
    ca.cert_pem.write_to_path(paths["ca"])
    other.cert_pem.write_to_path(paths["other"])
    client.cert_chain_pems[0].write_to_path(paths["cert"])
    client.private_key_pem.write_to_path(paths["key"])
    return PKI(tmp_path, ca, paths["ca"], paths["other"], paths["cert"], paths["key"])


def server_options(leaf: trustme.LeafCert, **settings: Any) -> ssl.CertificateOptions:
    certificate = ssl.PrivateCertificate.loadPEM(leaf.private_key_and_cert_chain_pem.bytes())  # type: ignore[no-untyped-call]
    return ssl.CertificateOptions(
        privateKey=certificate.privateKey.original,
        certificate=certificate.original,
        **settings,
    )


@dataclass
class TLSCluster:
    cluster: ArakoonCluster
    ports: dict[str, int]

    def config(self, tls: TLSConfig) -> ClusterConfig:
        return ClusterConfig(
            self.cluster.cluster_id,
            {name: (["127.0.0.1"], port) for name, port in self.ports.items()},
            tls=tls,
        )


@pytest_twisted.async_yield_fixture  # type: ignore[untyped-decorator]
async def serve() -> AsyncIterator[Callable[..., TLSCluster]]:
    """Start 3 in-memory nodes behind TLS on loopback ports; stop them after."""
    reactor = _reactor()
    listening: list[Any] = []
    clusters: list[ArakoonCluster] = []

    def start(options: ssl.CertificateOptions) -> TLSCluster:
        # The cluster keeps time on its own clock: no election happens here.
        cluster = ArakoonCluster(3, clock=Clock())
        clusters.append(cluster)
        ports = {}
        for node in cluster:
            port = reactor.listenTCP(
                0, TLSMemoryBIOFactory(options, False, node), interface="127.0.0.1"
            )
            listening.append(port)
            ports[node.name] = port.getHost().port
        return TLSCluster(cluster, ports)

    yield start
    for cluster in clusters:
        await cluster.stop()
    for port in listening:
        await port.stopListening()


async def guarded(deferred: Deferred[Any]) -> Any:
    return await deferred.addTimeout(GUARD, _reactor())


async def use_and_close(client: ArakoonClient) -> bytes:
    """Write, read back, close."""
    try:
        await guarded(client.set(b"k", b"v"))
        return await guarded(client.get(b"k"))  # type: ignore[no-any-return]
    finally:
        await guarded(client.disconnect())


def client_for(tls_cluster: TLSCluster, tls: TLSConfig, **settings: Any) -> ArakoonClient:
    return ArakoonClient(tls_cluster.config(tls), _reactor(), **settings)


@pytest_twisted.ensureDeferred
async def test_a_client_trusting_the_ca_works_over_tls(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    nodes = serve(server_options(pki.server()))
    assert await use_and_close(client_for(nodes, TLSConfig(pki.ca_path))) == b"v"
    assert nodes.cluster.store.get(b"k") == b"v"


@pytest_twisted.ensureDeferred
async def test_the_handshake_happens_and_verifies_the_server_certificate(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    leaf = pki.server()
    nodes = serve(server_options(leaf))
    client = client_for(nodes, TLSConfig(pki.ca_path))
    await guarded(client.node("n1").version())
    protocol = client.connection("n1")
    assert protocol is not None
    transport: Any = protocol.transport
    assert ISSLTransport.providedBy(transport)
    peer = transport.getPeerCertificate()
    assert peer.to_cryptography().public_bytes(ssl_encoding()) == leaf.cert_chain_pems[0].bytes()
    await guarded(client.disconnect())


def ssl_encoding() -> Any:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.PEM


@pytest_twisted.ensureDeferred
async def test_disconnect_over_tls_closes_every_connection(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    nodes = serve(server_options(pki.server()))
    client = client_for(nodes, TLSConfig(pki.ca_path))
    await guarded(client.set(b"k", b"v"))
    for name in ("n1", "n2"):
        await guarded(client.node(name).version())
    assert all(node.connections for node in nodes.cluster)
    await guarded(client.disconnect())
    assert [node.connections for node in nodes.cluster] == [[], [], []]


@pytest_twisted.ensureDeferred
async def test_disconnect_aborts_a_tls_connection_whose_peer_does_not_answer_the_close(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    nodes = serve(server_options(pki.server()))
    client = client_for(nodes, TLSConfig(pki.ca_path), connect_timeout=0.2)
    await guarded(client.node("n1").version())
    (server,) = nodes.cluster["n1"].connections
    tls_layer: Any = server.transport
    tls_layer.transport.stopReading()  # a frozen process: no close_notify back
    protocol = client.connection("n1")
    assert protocol is not None
    await guarded(client.disconnect())
    assert not protocol.connected
    assert protocol.lost_reason is not None  # really closed (aborted)


@pytest_twisted.ensureDeferred
async def test_tcp_keepalive_is_set_on_the_socket_under_tls(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    nodes = serve(server_options(pki.server()))
    client = client_for(nodes, TLSConfig(pki.ca_path))
    await guarded(client.node("n0").version())
    protocol = client.connection("n0")
    assert protocol is not None
    handle = socket_of(protocol.transport)
    assert handle is not None
    assert handle.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0
    if hasattr(socket, "TCP_KEEPIDLE"):
        assert handle.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 20
    await guarded(client.disconnect())


@pytest_twisted.ensureDeferred
async def test_a_server_signed_by_another_ca_fails_the_connection(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    nodes = serve(server_options(pki.server()))
    client = client_for(nodes, TLSConfig(pki.other_ca_path))
    with pytest.raises(errors.RequestNotProcessed) as caught:
        await guarded(client.node("n0").version())
    assert "TLS handshake failed" in str(caught.value)
    assert "certificate verify failed" in str(caught.value)
    await guarded(client.disconnect())


@pytest_twisted.ensureDeferred
async def test_with_the_wrong_ca_the_cluster_has_no_master_at_the_deadline(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    nodes = serve(server_options(pki.server()))
    client = client_for(nodes, TLSConfig(pki.other_ca_path), timeout=0.5)
    with pytest.raises(errors.NoMasterError) as caught:
        await guarded(client.set(b"k", b"v"))
    assert "certificate verify failed" in str(caught.value)
    assert nodes.cluster.store.get(b"k") is None
    await guarded(client.disconnect())


@pytest_twisted.ensureDeferred
async def test_a_ca_bundle_is_trusted_whole(pki: PKI, serve: Callable[..., TLSCluster]) -> None:
    bundle = pki.directory / "bundle.pem"
    bundle.write_bytes(Path(pki.other_ca_path).read_bytes() + Path(pki.ca_path).read_bytes())
    nodes = serve(server_options(pki.server()))
    assert await use_and_close(client_for(nodes, TLSConfig(str(bundle)))) == b"v"


@pytest_twisted.ensureDeferred
async def test_a_client_certificate_required_by_the_server_works_when_given(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    authority = ssl.Certificate.loadPEM(pki.ca.cert_pem.bytes())
    nodes = serve(server_options(pki.server(), trustRoot=authority))
    tls = TLSConfig(pki.ca_path, cert=pki.client_cert, key=pki.client_key)
    assert await use_and_close(client_for(nodes, tls)) == b"v"


@pytest_twisted.ensureDeferred
async def test_a_client_certificate_required_by_the_server_fails_when_missing(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    authority = ssl.Certificate.loadPEM(pki.ca.cert_pem.bytes())
    nodes = serve(server_options(pki.server(), trustRoot=authority))
    client = client_for(nodes, TLSConfig(pki.ca_path), timeout=0.5)
    # TLS 1.3 refuses a missing client certificate after the client's side of
    # the handshake: the first request (discovery's who_master) gets the alert.
    with pytest.raises(errors.NoMasterError) as caught:
        await guarded(client.set(b"k", b"v"))
    assert "certificate required" in str(caught.value)
    await guarded(client.disconnect())


@pytest_twisted.ensureDeferred
async def test_a_missing_client_certificate_fails_the_tls_1_2_handshake(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    authority = ssl.Certificate.loadPEM(pki.ca.cert_pem.bytes())
    options = server_options(
        pki.server(), trustRoot=authority, lowerMaximumSecurityTo=TLSVersion.TLSv1_2
    )
    nodes = serve(options)
    client = client_for(nodes, TLSConfig(pki.ca_path))
    with pytest.raises(errors.RequestNotProcessed) as caught:
        await guarded(client.node("n0").version())
    assert "TLS handshake failed" in str(caught.value)
    await guarded(client.disconnect())


@pytest_twisted.ensureDeferred
async def test_verify_hostname_refuses_a_certificate_for_another_name(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    nodes = serve(server_options(pki.server("n0.arakoon")))
    client = client_for(nodes, TLSConfig(pki.ca_path, verify_hostname=True))
    with pytest.raises(errors.RequestNotProcessed) as caught:
        await guarded(client.node("n0").version())
    assert "TLS handshake failed" in str(caught.value)
    await guarded(client.disconnect())


@pytest_twisted.ensureDeferred
async def test_without_verify_hostname_a_certificate_for_another_name_is_accepted(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    nodes = serve(server_options(pki.server("n0.arakoon")))
    assert await use_and_close(client_for(nodes, TLSConfig(pki.ca_path))) == b"v"


@pytest_twisted.ensureDeferred
async def test_verify_hostname_accepts_a_certificate_for_the_address_dialled(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    nodes = serve(server_options(pki.server("127.0.0.1")))
    tls = TLSConfig(pki.ca_path, verify_hostname=True)
    assert await use_and_close(client_for(nodes, tls)) == b"v"


@pytest_twisted.ensureDeferred
async def test_a_tls_1_3_minimum_works_against_a_tls_1_3_server(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    nodes = serve(server_options(pki.server(), raiseMinimumTo=TLSVersion.TLSv1_3))
    client = client_for(nodes, TLSConfig(pki.ca_path, version="1.3"))
    await guarded(client.node("n0").version())
    protocol = client.connection("n0")
    assert protocol is not None
    transport: Any = protocol.transport
    assert transport.getHandle().get_protocol_version_name() == "TLSv1.3"
    await guarded(client.disconnect())


@pytest_twisted.ensureDeferred
async def test_a_tls_1_3_minimum_refuses_a_tls_1_2_server_with_advice(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    nodes = serve(server_options(pki.server(), lowerMaximumSecurityTo=TLSVersion.TLSv1_2))
    client = client_for(nodes, TLSConfig(pki.ca_path, version="1.3"))
    with pytest.raises(errors.RequestNotProcessed) as caught:
        await guarded(client.node("n0").version())
    assert "asks for 1.3 or later" in str(caught.value)
    await guarded(client.disconnect())


@pytest_twisted.ensureDeferred
async def test_a_tls_1_0_cluster_fails_with_the_openssl_advice(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    options = server_options(
        pki.server(),
        insecurelyLowerMinimumTo=TLSVersion.TLSv1_0,
        lowerMaximumSecurityTo=TLSVersion.TLSv1_0,
    )
    nodes = serve(options)
    client = client_for(nodes, TLSConfig(pki.ca_path, version="1.0"))
    with pytest.raises(errors.RequestNotProcessed) as caught:
        await guarded(client.node("n0").version())
    assert VERSION_ADVICE in str(caught.value)
    await guarded(client.disconnect())


def test_the_connection_creator_plays_the_client_side_of_a_handshake(pki: PKI) -> None:
    """Without Twisted's TLS layer: the creator's connection must be in the
    client state on its own, and verify the chain."""
    client = ClientTLS(TLSConfig(pki.ca_path)).creator("127.0.0.1").clientConnectionForTLS(None)
    server = SSL.Connection(server_options(pki.server()).getContext(), None)
    server.set_accept_state()
    _handshake(client, server)
    assert client.get_peer_certificate() is not None
    assert client.get_protocol_version_name() in ("TLSv1.2", "TLSv1.3")


def test_the_connection_creator_refuses_a_server_of_another_ca(pki: PKI) -> None:
    client = ClientTLS(TLSConfig(pki.other_ca_path)).creator("x").clientConnectionForTLS(None)
    server = SSL.Connection(server_options(pki.server()).getContext(), None)
    server.set_accept_state()
    with pytest.raises(SSL.Error, match="certificate verify failed"):
        _handshake(client, server)


def _handshake(client: SSL.Connection, server: SSL.Connection) -> None:
    """Run a handshake between two memory-BIO connections."""
    done = set()
    for _ in range(20):
        for side, peer in ((client, server), (server, client)):
            try:
                side.do_handshake()
                done.add(id(side))
            except SSL.WantReadError:
                pass
            with contextlib.suppress(SSL.WantReadError):
                peer.bio_write(side.bio_read(65536))
        if len(done) == 2:
            return
    raise AssertionError("the handshake did not complete")


def test_a_missing_ca_file_is_a_config_error_when_the_client_is_built(pki: PKI) -> None:
    config = ClusterConfig(
        "arakoon",
        {"n0": (["127.0.0.1"], 4000)},
        tls=TLSConfig(str(pki.directory / "missing.pem")),
    )
    with pytest.raises(ConfigError, match="tls_ca_cert"):
        ArakoonClient(config, Clock())


def test_a_ca_file_without_a_certificate_is_a_config_error(pki: PKI) -> None:
    empty = pki.directory / "empty.pem"
    empty.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="no PEM certificate"):
        ClientTLS(TLSConfig(str(empty)))


def test_a_key_that_does_not_load_is_a_config_error(pki: PKI) -> None:
    with pytest.raises(ConfigError, match="tls_cert/tls_key"):
        ClientTLS(TLSConfig(pki.ca_path, cert=pki.client_cert, key=pki.ca_path))


@pytest_twisted.ensureDeferred
async def test_a_single_node_protocol_over_tls_closes(
    pki: PKI, serve: Callable[..., TLSCluster]
) -> None:
    """ArakoonProtocol.close() unregisters its producer first: Twisted's TLS
    layer would otherwise never start its shutdown."""
    from twisted.internet.endpoints import TCP4ClientEndpoint, wrapClientTLS

    from txarakoon.protocol import connect
    from txarakoon.tls import client_connection_creator

    nodes = serve(server_options(pki.server()))
    reactor = _reactor()
    endpoint = wrapClientTLS(
        client_connection_creator(TLSConfig(pki.ca_path), "127.0.0.1"),
        TCP4ClientEndpoint(reactor, "127.0.0.1", nodes.ports["n0"]),
    )
    protocol = await guarded(connect(reactor, endpoint, nodes.cluster.cluster_id))
    await guarded(protocol.set(b"k", b"v"))
    assert await guarded(protocol.get(b"k")) == b"v"
    await guarded(protocol.close())
    assert not protocol.connected
