"""The settings both cluster clients refuse when they are built (both check
them with ``txarakoon.config.check_client_settings``), for a cluster of
:data:`CONFIG`: each row is the settings, the exception and words of its
message."""

from __future__ import annotations

from typing import Any

from txarakoon.config import ClusterConfig

CONFIG = ClusterConfig("arakoon", {"n0": (["127.0.0.1"], 4000), "n1": (["127.0.0.1"], 4001)})

BAD_SETTINGS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"timeout": 0}, ValueError, "timeout must be positive"),
    ({"timeout": None}, TypeError, "timeout must be a number of seconds"),
    ({"silence_timeout": "30"}, TypeError, "silence_timeout must be a number"),
    ({"connect_timeout": -1}, ValueError, "connect_timeout must be positive"),
    ({"silence_timeout": 0}, ValueError, "silence_timeout must be positive"),
    ({"stall_interval": 0}, ValueError, "stall_interval must be positive"),
    ({"stall_interval": float("nan")}, ValueError, "stall_interval must be positive"),
    ({"read_node": "n9"}, ValueError, "read_node 'n9' is not a node"),
    ({"backoff": (2.0, 1.0)}, ValueError, "backoff"),
    ({"jitter": 1.5}, ValueError, "jitter"),
]
