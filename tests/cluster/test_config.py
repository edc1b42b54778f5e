"""ClusterConfig: from Python values, from an Arakoon .ini, from a node spec."""

from __future__ import annotations

import pytest

from txarakoon.config import ClusterConfig, ConfigError, KeepAlive, NodeConfig, TLSConfig

INI = """
[global]
cluster_id = ricky
cluster = n0, n1,n2
tls_ca_cert = /etc/arakoon/ca.pem
tls_cert = /etc/arakoon/client.pem
tls_key = /etc/arakoon/client.key
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


def test_ini_gives_nodes_tls_and_keepalive() -> None:
    config = ClusterConfig.from_ini(INI)
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
    config = ClusterConfig.from_ini(INI)
    again = ClusterConfig.from_ini(config.to_ini())
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
            "[global]\ncluster_id = x\ncluster = a\ntls_ca_cert = c\ntls_version = 0.9\n"
            "[a]\nip = h\nclient_port = 1\n",
            "tls_version",
        ),
        (
            "[global]\ncluster_id = x\ncluster = a\ntls_ca_cert = c\ntls_cert = d\n"
            "[a]\nip = h\nclient_port = 1\n",
            "tls_key",
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
