"""ClusterConfig: from Python values, from an Arakoon .ini, from a node spec."""

from __future__ import annotations

import pytest

from txarakoon.config import ClusterConfig, ConfigError, KeepAlive, NodeConfig, TLSConfig

INI = """
[global]
cluster_id = ricky
cluster = n0, n1,n2
tls_service = true
tls_ca_cert = /etc/arakoon/ca.pem
tls_version = 1.2
enable_tcp_keepalive = false
tcp_keepalive_time = 30

[n0]
ip = 10.0.0.1, 10.0.1.1
client_port = 4000
messaging_port = 4010

[n1]
ip = 10.0.0.2
client_port = 4001

[n2]
ip = 10.0.0.3
client_port = 4002
"""


def test_nodes_from_a_dict_keep_their_order_and_addresses() -> None:
    config = ClusterConfig("arakoon", {"a": (["h1", "h2"], 1), "b": ("h3, h4", 2)})
    assert config.cluster_id == b"arakoon"
    assert config.node_names == ("a", "b")
    assert config.nodes["a"] == NodeConfig("a", ("h1", "h2"), 1)
    assert config.nodes["b"].hosts == ("h3", "h4")


CLIENT = {"client_cert": "/etc/arakoon/client.pem", "client_key": "/etc/arakoon/client.key"}


def test_ini_gives_nodes_tls_and_keepalive() -> None:
    config = ClusterConfig.from_ini(INI, **CLIENT)
    assert config.cluster_id == b"ricky"
    assert config.node_names == ("n0", "n1", "n2")
    assert config.nodes["n0"].hosts == ("10.0.0.1", "10.0.1.1")
    assert config.nodes["n2"].port == 4002
    assert config.tls == TLSConfig(
        "/etc/arakoon/ca.pem", "/etc/arakoon/client.pem", "/etc/arakoon/client.key", "1.2"
    )
    assert config.keepalive == KeepAlive(enabled=False, idle=30, interval=20, probes=3)


def test_ini_file_path_is_read(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "cluster.ini"
    path.write_text(INI)
    assert ClusterConfig.from_ini(path).node_names == ("n0", "n1", "n2")


def test_to_ini_loads_back_unchanged() -> None:
    config = ClusterConfig.from_ini(INI, **CLIENT)
    again = ClusterConfig.from_ini(config.to_ini(), **CLIENT)
    assert again.nodes == config.nodes
    assert again.tls == config.tls


def test_spec_string_parses_like_the_test_nodes_variable() -> None:
    config = ClusterConfig.from_spec("arakoon@n0=127.0.0.1:4000,n1=[::1]:4001")
    assert config.nodes["n0"] == NodeConfig("n0", ("127.0.0.1",), 4000)
    assert config.nodes["n1"] == NodeConfig("n1", ("::1",), 4001)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[global]\ncluster = a\n[a]\nip = h\nclient_port = 1\n", "cluster_id"),
        ("[global]\ncluster_id = x\n", "global.cluster"),
        ("[global]\ncluster_id = x\ncluster = a\n", "[a]"),
        ("[global]\ncluster_id = x\ncluster = a\n[a]\nip = h\n", "a.client_port"),
        ("[global]\ncluster_id = x\ncluster = a\n[a]\nip = h\nclient_port = z\n", "a.client_port"),
        (
            "[global]\ncluster_id = x\ncluster = a\n[a]\nip = h\nclient_port = 70000\n",
            "a.client_port",
        ),
        ("[global]\ncluster_id = x\ncluster = a\n[a]\nclient_port = 1\n", "a.ip"),
        (
            "[global]\ncluster_id = x\ncluster = a\ntls_service = true\ntls_ca_cert = c\n"
            "tls_version = 0.9\n"
            "[a]\nip = h\nclient_port = 1\n",
            "tls_version",
        ),
        (
            "[global]\ncluster_id = x\ncluster = a\ntls_service = yes please\n"
            "[a]\nip = h\nclient_port = 1\n",
            "global.tls_service must be true or false",
        ),
        (
            "[global]\ncluster_id = x\ncluster = a\ntls_service = true\n"
            "[a]\nip = h\nclient_port = 1\n",
            "global.tls_ca_cert is missing",
        ),
        (
            "[global]\ncluster_id = x\ncluster = a\ntls_service = true\ntls_ca_cert = c\n"
            "tls_service_validate_peer = true\n[a]\nip = h\nclient_port = 1\n",
            "require a client certificate",
        ),
    ],
)
def test_invalid_ini_names_the_bad_field(text: str, field: str) -> None:
    with pytest.raises(ConfigError, match=field.replace("[", r"\[").replace("]", r"\]")):
        ClusterConfig.from_ini(text)


def test_a_config_needs_nodes() -> None:
    with pytest.raises(ConfigError, match="node"):
        ClusterConfig("x", {})


def test_a_malformed_spec_is_refused() -> None:
    with pytest.raises(ConfigError):
        ClusterConfig.from_spec("n0=127.0.0.1:4000")


def test_to_spec_parses_back_unchanged() -> None:
    config = ClusterConfig.from_spec("arakoon@n0=127.0.0.1:4000,n1=[::1]:4001")
    assert config.to_spec() == "arakoon@n0=127.0.0.1:4000,n1=[::1]:4001"
    assert ClusterConfig.from_spec(config.to_spec()).nodes == config.nodes


PLAIN_PORT_INI = """
[global]
cluster_id = x
cluster = a
tls_ca_cert = /etc/arakoon/ca.pem

[a]
ip = h
client_port = 1
"""


def test_a_ca_without_tls_service_secures_the_nodes_traffic_not_the_client_port() -> None:
    assert ClusterConfig.from_ini(PLAIN_PORT_INI).tls is None


def test_a_client_certificate_for_a_port_without_tls_is_refused() -> None:
    with pytest.raises(ConfigError, match="the client port speaks no TLS"):
        ClusterConfig.from_ini(PLAIN_PORT_INI, **CLIENT)


def test_a_client_certificate_needs_its_key() -> None:
    with pytest.raises(ConfigError, match="tls_cert and tls_key must be given together"):
        ClusterConfig.from_ini(INI, client_cert="/etc/arakoon/client.pem")
