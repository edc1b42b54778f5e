"""What BlockingArakoonClient checks and costs before it touches the network:
its import, its settings, and its views' settings. No socket is opened."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

import txarakoon
from txarakoon import BlockingArakoonClient, ClusterConfig
from txarakoon.blocking_cluster import client as client_module

from ..helpers.settings import BAD_SETTINGS, CONFIG


def _loaded_after(statement: str) -> list[str]:
    script = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    modules: list[str] = json.loads(output)
    return modules


def test_it_is_importable_from_the_top_level() -> None:
    assert txarakoon.BlockingArakoonClient is client_module.BlockingArakoonClient
    assert "BlockingArakoonClient" in txarakoon.__all__


def test_importing_and_building_it_loads_no_twisted() -> None:
    modules = _loaded_after(
        "from txarakoon import BlockingArakoonClient, ClusterConfig\n"
        "BlockingArakoonClient(ClusterConfig.from_spec('arakoon@n0=127.0.0.1:4000'))"
    )
    assert not [name for name in modules if name.split(".")[0] in ("twisted", "zope")]
    assert "logging" in modules


def test_the_discovery_rule_loads_no_io() -> None:
    modules = _loaded_after("import txarakoon.master_claims")
    assert not [m for m in modules if m.split(".")[0] in ("twisted", "socket", "ssl", "select")]


@pytest.mark.parametrize(("settings", "error", "words"), BAD_SETTINGS)
def test_a_bad_setting_is_refused_when_the_client_is_built(
    settings: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        BlockingArakoonClient(CONFIG, **settings)


def test_the_stall_interval_is_one_second_without_a_lease_period() -> None:
    assert BlockingArakoonClient(CONFIG).stall_interval == 1.0


def test_the_stall_interval_is_a_quarter_of_the_lease_period() -> None:
    config = ClusterConfig("arakoon", CONFIG.nodes, lease_period=2.0)
    assert BlockingArakoonClient(config).stall_interval == 0.5


def test_a_stall_interval_given_wins_over_the_lease_period() -> None:
    config = ClusterConfig("arakoon", CONFIG.nodes, lease_period=2.0)
    assert BlockingArakoonClient(config, stall_interval=3.0).stall_interval == 3.0


def test_the_configuration_must_be_a_cluster_config() -> None:
    with pytest.raises(TypeError, match="ClusterConfig"):
        BlockingArakoonClient("arakoon@n0=127.0.0.1:4000")  # type: ignore[arg-type]


def test_using_checks_its_settings() -> None:
    client = BlockingArakoonClient(CONFIG)
    with pytest.raises(ValueError, match="timeout must be positive"):
        client.using(timeout=0)
    with pytest.raises(TypeError, match="retry_idempotent must be a bool"):
        client.using(retry_idempotent="yes")  # type: ignore[arg-type]


def test_the_read_node_is_one_of_the_cluster() -> None:
    client = BlockingArakoonClient(CONFIG, read_node="n1")
    assert client.read_node == "n1"
    client.read_node = "n0"
    assert client.read_node == "n0"
    with pytest.raises(KeyError, match="n9"):
        client.read_node = "n9"


def test_a_node_is_named_by_str_or_bytes() -> None:
    client = BlockingArakoonClient(CONFIG)
    assert client.node(b"n1").name == client.node("n1").name == "n1"


def test_bad_arguments_raise_before_anything_is_sent() -> None:
    client = BlockingArakoonClient(CONFIG)
    with pytest.raises(TypeError):
        client.get(42)  # type: ignore[arg-type]
    assert client.master is None  # no discovery was made


def test_repr_names_the_cluster_and_what_it_knows() -> None:
    client = BlockingArakoonClient(CONFIG)
    assert repr(client) == (
        "<BlockingArakoonClient arakoon@n0=127.0.0.1:4000,n1=127.0.0.1:4001 master unknown>"
    )
    client.close()
    assert repr(client).endswith(" closed>")
