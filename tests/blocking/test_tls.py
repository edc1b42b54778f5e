"""TLS for the blocking flavour: SocketClient(tls=...) and
BlockingArakoonClient over the standard library's ssl, against in-memory
nodes behind Twisted's TLS in a child process (serve_tls.py), certificates
made in the test with trustme. Each failure is worded as txarakoon's own,
the ssl module's error its cause."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

import txarakoon
from txarakoon import BlockingArakoonClient
from txarakoon.blocking import SocketClient
from txarakoon.config import ClusterConfig, ConfigError, TLSConfig
from txarakoon.errors import ConnectionLost, NoMasterError
from txarakoon.ssl_context import ClientContext
from txarakoon.tls import VERSION_ADVICE

SCRIPT = Path(__file__).with_name("serve_tls.py")
TIMEOUT = 10.0


@dataclass
class PKI:
    """A CA, a client certificate it signed, and an unrelated CA, as files."""

    directory: Path
    ca: trustme.CA
    ca_path: str
    other_ca_path: str
    client_cert: str
    client_key: str

    def server(self, *names: str) -> str:
        """A server certificate (and key) for ``names``, as one PEM file."""
        leaf = self.ca.issue_cert(*(names or ("127.0.0.1", "n0.arakoon")))
        path = self.directory / f"server-{'-'.join(names) or 'default'}.pem"
        leaf.private_key_and_cert_chain_pem.write_to_path(str(path))
        return str(path)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    directory = tmp_path_factory.mktemp("pki")
    ca, other = trustme.CA(), trustme.CA()
    client = ca.issue_cert("client.arakoon")
    paths = {name: str(directory / f"{name}.pem") for name in ("ca", "other", "cert", "key")}
    ca.cert_pem.write_to_path(paths["ca"])
    other.cert_pem.write_to_path(paths["other"])
    client.cert_chain_pems[0].write_to_path(paths["cert"])
    client.private_key_pem.write_to_path(paths["key"])
    return PKI(directory, ca, paths["ca"], paths["other"], paths["cert"], paths["key"])


class Served:
    """serve_tls.py running: three nodes behind TLS, n0 master."""

    def __init__(self, *arguments: str) -> None:
        root = str(Path(txarakoon.__file__).resolve().parent.parent)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TXARAKOON_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), *arguments],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert self.process.stdout is not None
        spec = self.process.stdout.readline().strip()
        if not spec:
            self.stop()
            raise RuntimeError(f"{SCRIPT.name} did not start")
        self.spec = spec

    def config(self, tls: TLSConfig) -> ClusterConfig:
        plain = ClusterConfig.from_spec(self.spec)
        return ClusterConfig(plain.cluster_id, plain.nodes, tls=tls)

    def address(self, name: str = "n0") -> tuple[str, int]:
        node = ClusterConfig.from_spec(self.spec).nodes[name]
        return node.hosts[0], node.port

    def socket_client(self, tls: TLSConfig | ClientContext) -> SocketClient:
        return SocketClient(self.address(), "arakoon", timeout=TIMEOUT, tls=tls)

    def stop(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


@pytest.fixture(scope="module")
def default(pki: PKI) -> Iterator[Served]:
    """Nodes with a certificate for 127.0.0.1 and n0.arakoon; no client certificate."""
    served = Served(pki.server())
    yield served
    served.stop()


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    """``serve(*arguments)``: serve_tls.py with those arguments, stopped after."""
    started: list[Served] = []

    def start(*arguments: str) -> Served:
        started.append(Served(*arguments))
        return started[-1]

    yield start
    for served in started:
        served.stop()


def _round_trip(client: SocketClient | BlockingArakoonClient) -> bytes:
    with client:
        client.set(b"k", b"v")
        return client.get(b"k")


# -- success -------------------------------------------------------------------------


def test_a_socket_client_trusting_the_ca_works_over_tls(pki: PKI, default: Served) -> None:
    assert _round_trip(default.socket_client(TLSConfig(pki.ca_path))) == b"v"


def test_the_cluster_client_finds_the_master_over_tls(pki: PKI, default: Served) -> None:
    with BlockingArakoonClient(default.config(TLSConfig(pki.ca_path)), timeout=TIMEOUT) as client:
        client.set(b"cluster", b"v")
        assert client.master == "n0"
        assert client.get(b"cluster") == b"v"


def test_a_ca_bundle_is_trusted_whole(pki: PKI, default: Served) -> None:
    bundle = pki.directory / "bundle.pem"
    bundle.write_bytes(Path(pki.other_ca_path).read_bytes() + Path(pki.ca_path).read_bytes())
    assert _round_trip(default.socket_client(TLSConfig(str(bundle)))) == b"v"


def test_one_loaded_context_serves_many_connections(pki: PKI, default: Served) -> None:
    context = ClientContext(TLSConfig(pki.ca_path))
    for _ in range(2):
        assert _round_trip(default.socket_client(context)) == b"v"


def test_a_client_certificate_required_by_the_server_works_when_given(
    pki: PKI, serve: Callable[..., Served]
) -> None:
    served = serve(pki.server(), "--client-ca", pki.ca_path)
    tls = TLSConfig(pki.ca_path, cert=pki.client_cert, key=pki.client_key)
    assert _round_trip(BlockingArakoonClient(served.config(tls), timeout=TIMEOUT)) == b"v"


def test_a_tls_1_3_minimum_works_against_a_tls_1_3_server(
    pki: PKI, serve: Callable[..., Served]
) -> None:
    served = serve(pki.server(), "--minimum", "1.3")
    assert _round_trip(served.socket_client(TLSConfig(pki.ca_path, version="1.3"))) == b"v"


def test_without_verify_hostname_a_certificate_for_another_name_is_accepted(
    pki: PKI, serve: Callable[..., Served]
) -> None:
    served = serve(pki.server("n0.arakoon"))
    assert _round_trip(served.socket_client(TLSConfig(pki.ca_path))) == b"v"


def test_verify_hostname_accepts_a_certificate_for_the_address_dialled(
    pki: PKI, default: Served
) -> None:
    tls = TLSConfig(pki.ca_path, verify_hostname=True)
    assert _round_trip(default.socket_client(tls)) == b"v"


# -- failures --------------------------------------------------------------------------


def test_a_server_signed_by_another_ca_fails_the_connection_in_our_words(
    pki: PKI, default: Served
) -> None:
    client = default.socket_client(TLSConfig(pki.other_ca_path))
    with pytest.raises(ConnectionError, match="does not verify against tls_ca_cert") as raised:
        client.connect()
    assert isinstance(raised.value.__cause__, ssl.SSLCertVerificationError)
    assert "TLS handshake with 127.0.0.1:" in str(raised.value)
    assert not client.connected


def test_with_the_wrong_ca_the_cluster_client_finds_no_master(pki: PKI, default: Served) -> None:
    config = default.config(TLSConfig(pki.other_ca_path))
    client = BlockingArakoonClient(config, timeout=0.5)
    with client, pytest.raises(NoMasterError, match="does not verify against tls_ca_cert"):
        client.set(b"wrong-ca", b"v")
    with default.socket_client(TLSConfig(pki.ca_path)) as check:
        assert check.get_key_count() >= 0
        assert not check.exists(b"wrong-ca")


def test_verify_hostname_refuses_a_certificate_for_another_name(
    pki: PKI, serve: Callable[..., Served]
) -> None:
    served = serve(pki.server("n0.arakoon"))
    client = served.socket_client(TLSConfig(pki.ca_path, verify_hostname=True))
    with pytest.raises(ConnectionError, match=r"does not name 127\.0\.0\.1") as raised:
        client.connect()
    assert isinstance(raised.value.__cause__, ssl.SSLCertVerificationError)


def test_a_missing_client_certificate_fails_the_tls_1_2_handshake(
    pki: PKI, serve: Callable[..., Served]
) -> None:
    served = serve(pki.server(), "--client-ca", pki.ca_path, "--maximum", "1.2")
    client = served.socket_client(TLSConfig(pki.ca_path))
    with pytest.raises(ConnectionError, match="may require a client certificate") as raised:
        client.connect()
    assert isinstance(raised.value.__cause__, ssl.SSLError)


def test_a_missing_client_certificate_fails_the_first_tls_1_3_request(
    pki: PKI, serve: Callable[..., Served]
) -> None:
    """TLS 1.3 refuses a missing client certificate after the client's side
    of the handshake: the first request gets the alert (or, when the node's
    reset overtook it, the end of the connection: the advice is the same)."""
    served = serve(pki.server(), "--client-ca", pki.ca_path, "--minimum", "1.3")
    client = served.socket_client(TLSConfig(pki.ca_path))
    with client, pytest.raises(ConnectionLost, match="may require a client certificate") as raised:
        client.get(b"k")
    assert isinstance(raised.value.reason, ConnectionError)  # ours, naming what to check


def test_a_tls_1_3_minimum_refuses_a_tls_1_2_server_with_advice(
    pki: PKI, serve: Callable[..., Served]
) -> None:
    served = serve(pki.server(), "--maximum", "1.2")
    client = served.socket_client(TLSConfig(pki.ca_path, version="1.3"))
    with pytest.raises(ConnectionError, match=r"asks for 1\.3 or later"):
        client.connect()


def test_a_tls_1_0_cluster_fails_with_the_openssl_advice(
    pki: PKI, serve: Callable[..., Served]
) -> None:
    served = serve(pki.server(), "--minimum", "1.0", "--maximum", "1.0")
    client = served.socket_client(TLSConfig(pki.ca_path, version="1.0"))
    with pytest.raises(ConnectionError) as raised:
        client.connect()
    assert VERSION_ADVICE in str(raised.value)


def test_a_node_that_speaks_no_tls_fails_the_handshake_saying_so(pki: PKI) -> None:
    listener = socket.create_server(("127.0.0.1", 0))

    def hang_up() -> None:
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.close()

    peer = threading.Thread(target=hang_up, daemon=True)
    peer.start()
    client = SocketClient(
        listener.getsockname(), "arakoon", timeout=TIMEOUT, tls=TLSConfig(pki.ca_path)
    )
    try:
        with pytest.raises(ConnectionError, match="does its client port speak TLS"):
            client.connect()
    finally:
        peer.join(TIMEOUT)
        listener.close()


# -- configuration ---------------------------------------------------------------------


def test_a_missing_ca_file_is_a_config_error_when_the_client_is_built(pki: PKI) -> None:
    tls = TLSConfig(str(pki.directory / "missing.pem"))
    with pytest.raises(ConfigError, match="tls_ca_cert: cannot read"):
        SocketClient(("127.0.0.1", 4000), "arakoon", tls=tls)
    config = ClusterConfig("arakoon", {"n0": (["127.0.0.1"], 4000)}, tls=tls)
    with pytest.raises(ConfigError, match="tls_ca_cert"):
        BlockingArakoonClient(config)


def test_a_ca_file_without_a_certificate_is_a_config_error(pki: PKI) -> None:
    empty = pki.directory / "empty.pem"
    empty.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="no PEM certificate"):
        ClientContext(TLSConfig(str(empty)))


def test_a_key_that_does_not_load_is_a_config_error(pki: PKI) -> None:
    with pytest.raises(ConfigError, match="tls_cert/tls_key"):
        ClientContext(TLSConfig(pki.ca_path, cert=pki.client_cert, key=pki.ca_path))


def test_a_missing_key_file_is_a_config_error_naming_it(pki: PKI) -> None:
    missing = str(pki.directory / "missing.key")
    with pytest.raises(ConfigError, match="tls_key: cannot read"):
        ClientContext(TLSConfig(pki.ca_path, cert=pki.client_cert, key=missing))


def test_the_minimum_version_follows_tls_version(pki: PKI) -> None:
    assert ClientContext(TLSConfig(pki.ca_path)).context.minimum_version is ssl.TLSVersion.TLSv1_2
    modern = ClientContext(TLSConfig(pki.ca_path, version="1.3"))
    assert modern.context.minimum_version is ssl.TLSVersion.TLSv1_3
    old = ClientContext(TLSConfig(pki.ca_path, version="1.0"))
    assert old.context.minimum_version is ssl.TLSVersion.TLSv1
    assert old.context.verify_mode is ssl.CERT_REQUIRED
