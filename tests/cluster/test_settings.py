"""The cluster client's settings are refused when it is built, before it
connects anywhere (the same rules as the blocking flavour's)."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.task import Clock

from txarakoon.cluster import ArakoonClient
from txarakoon.config import ClusterConfig

CONFIG = ClusterConfig("arakoon", {"n0": (["127.0.0.1"], 4000), "n1": (["127.0.0.1"], 4001)})


@pytest.mark.parametrize(
    ("settings", "error", "words"),
    [
        ({"timeout": 0}, ValueError, "timeout must be positive"),
        ({"connect_timeout": -1}, ValueError, "connect_timeout must be positive"),
        ({"silence_timeout": 0}, ValueError, "silence_timeout must be positive"),
        ({"stall_interval": 0}, ValueError, "stall_interval must be positive"),
        ({"read_node": "n9"}, ValueError, "read_node 'n9' is not a node"),
        ({"backoff": (2.0, 1.0)}, ValueError, "backoff"),
        ({"jitter": 1.5}, ValueError, "jitter"),
    ],
)
def test_a_bad_setting_is_refused_when_the_client_is_built(
    settings: dict[str, Any], error: type[Exception], words: str
) -> None:
    clock = Clock()
    with pytest.raises(error, match=words):
        ArakoonClient(CONFIG, clock, **settings)
    assert clock.getDelayedCalls() == []


def test_the_configuration_must_be_a_cluster_config() -> None:
    with pytest.raises(TypeError, match="ClusterConfig"):
        ArakoonClient("arakoon@n0=127.0.0.1:4000", Clock())  # type: ignore[arg-type]
