"""txarakoon: a Twisted client for the Arakoon key-value store.

The names most programs need are importable from here; see the documentation of
each module for the rest. The clients are imported on first use, so that
``import txarakoon`` (or its sans-IO core, :mod:`txarakoon.codec` and friends)
loads neither Twisted nor :mod:`socket`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .consistency import AtLeast, Consistency, Consistent, NoGuarantees
from .errors import (
    ArakoonError,
    ConnectionLost,
    NotConnectedError,
    NotFound,
    OutcomeUnknown,
    ProtocolViolation,
    RequestNotProcessed,
)

if TYPE_CHECKING:
    from .blocking import SocketClient
    from .blocking_cluster import BlockingArakoonClient
    from .client import AbstractClient, ClientMixin
    from .cluster import ArakoonClient
    from .config import ClusterConfig
    from .protocol import ArakoonProtocol, connect

__version__ = "0.1.0"

#: The names imported on first use, and the module each comes from.
_LAZY = {
    "AbstractClient": "client",
    "ArakoonClient": "cluster",
    "ArakoonProtocol": "protocol",
    "BlockingArakoonClient": "blocking_cluster",
    "ClientMixin": "client",
    "ClusterConfig": "config",
    "SocketClient": "blocking",
    "connect": "protocol",
}

__all__ = [
    "AbstractClient",
    "ArakoonClient",
    "ArakoonError",
    "ArakoonProtocol",
    "AtLeast",
    "BlockingArakoonClient",
    "ClientMixin",
    "ClusterConfig",
    "ConnectionLost",
    "Consistency",
    "Consistent",
    "NoGuarantees",
    "NotConnectedError",
    "NotFound",
    "OutcomeUnknown",
    "ProtocolViolation",
    "RequestNotProcessed",
    "SocketClient",
    "__version__",
    "connect",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'txarakoon' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
