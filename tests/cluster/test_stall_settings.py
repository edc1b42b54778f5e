"""The stall check's settings: ``stall_interval``, and the cluster's
``lease_period`` it is derived from (``ClusterConfig``, ``[global]`` of the
``.ini``)."""

from __future__ import annotations

import random

import pytest
from twisted.internet.task import Clock

from txarakoon.cluster import ArakoonClient
from txarakoon.config import ClusterConfig, ConfigError

from .fakes import FakeCluster

INI = """
[global]
cluster_id = ricky
cluster = n0, n1
lease_period = 2

[n0]
ip = 10.0.0.1
client_port = 4000

[n1]
ip = 10.0.0.2
client_port = 4001
"""

NODES = {"n0": (["10.0.0.1"], 4000), "n1": (["10.0.0.2"], 4001)}


def test_the_ini_gives_the_lease_period() -> None:
    assert ClusterConfig.from_ini(INI).lease_period == 2.0


def test_an_ini_without_lease_period_gives_none() -> None:
    assert ClusterConfig.from_ini(INI.replace("lease_period = 2\n", "")).lease_period is None


def test_to_ini_keeps_the_lease_period() -> None:
    config = ClusterConfig("ricky", NODES, lease_period=2.5)
    assert ClusterConfig.from_ini(config.to_ini()).lease_period == 2.5


@pytest.mark.parametrize("text", ["0", "-4", "soon", "inf", "nan"])
def test_a_bad_lease_period_in_the_ini_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="lease_period"):
        ClusterConfig.from_ini(INI.replace("lease_period = 2", f"lease_period = {text}"))


@pytest.mark.parametrize("value", [0, -1.0, True, "2"])
def test_a_bad_lease_period_is_a_config_error(value: object) -> None:
    with pytest.raises(ConfigError, match="lease_period"):
        ClusterConfig("ricky", NODES, lease_period=value)  # type: ignore[arg-type]


def test_the_stall_interval_is_one_second_without_a_lease_period() -> None:
    assert ArakoonClient(ClusterConfig("ricky", NODES), Clock()).stall_interval == 1.0


def test_the_stall_interval_is_a_quarter_of_the_lease_period() -> None:
    assert ArakoonClient(ClusterConfig.from_ini(INI), Clock()).stall_interval == 0.5


def test_a_stall_interval_given_wins_over_the_lease_period() -> None:
    client = ArakoonClient(ClusterConfig.from_ini(INI), Clock(), stall_interval=3.0)
    assert client.stall_interval == 3.0


@pytest.mark.parametrize("value", [0, -1.0, float("nan")])
def test_a_stall_interval_that_is_not_positive_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match="stall_interval must be positive"):
        ArakoonClient(ClusterConfig("ricky", NODES), Clock(), stall_interval=value)


def test_the_master_connection_is_checked_after_a_quarter_of_the_lease() -> None:
    cluster = FakeCluster()
    cluster.store[b"k"] = b"v"
    config = ClusterConfig(cluster.config.cluster_id, cluster.config.nodes, lease_period=2.0)
    client = ArakoonClient(
        config,
        cluster.clock,
        endpoint_factory=cluster.endpoint_factory,
        random=random.Random(7),
        timeout=50.0,
    )
    first = client.get(b"k")
    cluster.flush()
    assert first.called
    cluster.nodes["n0"].silent = True
    client.get(b"k")
    assert sorted(call.getTime() for call in cluster.clock.getDelayedCalls()) == [0.5, 50.0]


def test_the_in_memory_clusters_configuration_carries_its_lease() -> None:
    from twisted.internet import reactor

    from txarakoon.testing import ArakoonCluster

    cluster = ArakoonCluster(3, lease_period=4.0)
    cluster.listen(reactor)
    try:
        config = cluster.config()
        assert config.lease_period == 4.0
        assert ClusterConfig.from_ini(cluster.ini()).lease_period == 4.0
    finally:
        cluster.stop()
