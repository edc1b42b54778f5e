"""txarakoon: a Twisted client for the Arakoon key-value store.

The names most programs need are importable from here; see the documentation of
each module for the rest.
"""

from __future__ import annotations

from .blocking import SocketClient
from .client import AbstractClient, ClientMixin
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

__version__ = "0.1.0"

__all__ = [
    "AbstractClient",
    "ArakoonError",
    "AtLeast",
    "ClientMixin",
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
]
