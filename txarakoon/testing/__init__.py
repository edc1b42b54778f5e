"""An Arakoon-compatible in-memory server and cluster, for tests.

It speaks the real wire protocol with the same codec as the client, and
behaves like Arakoon 1.9.25 as described in PROTOCOL.md (observed behaviours
D16, D19–D24, D27 and D31 included: see :mod:`txarakoon.testing.node` and
:mod:`txarakoon.testing.cluster`). Use it like
``fakeredis``: on real loopback ports, or with no socket at all.

On real ports (under a running reactor)::

    from txarakoon.protocol import connect
    from txarakoon.testing import ArakoonCluster

    cluster = ArakoonCluster(3)
    cluster.listen(reactor)                       # port 0: free ports
    client = await connect(reactor, cluster.endpoint(), cluster.cluster_id)
    await client.set(b"key", b"value")
    ...
    await client.close()
    await cluster.stop()

In memory, with a :class:`~twisted.internet.task.Clock` (see
:mod:`txarakoon.testing.memory`)::

    cluster = ArakoonCluster(3, clock=Clock())
    client = cluster.connect_in_memory().client   # an ArakoonProtocol
    d = client.set(b"key", b"value")
    cluster.flush()

Main names: :class:`ArakoonCluster` (nodes, master, lag, leases, failure
controls such as ``kill`` and ``freeze`` / ``thaw``, ``listen``, ``ini``,
``nodes_spec``), :class:`ArakoonNode` (one node, a ``ServerFactory``),
:func:`connect_in_memory` / :class:`MemoryConnection`, :class:`RawClient`,
:class:`Store` / :class:`Transaction`.
"""

from __future__ import annotations

from .cluster import FIRST, ArakoonCluster
from .memory import MemoryConnection, RawClient, connect_in_memory
from .node import (
    ARAKOON_VERSION,
    MAX_BUFFER_SIZE,
    NO_LONGER_MASTER_MESSAGE,
    ArakoonNode,
    NodeProtocol,
    UserFunction,
)
from .store import Mutation, Store, Transaction

__all__ = [
    "ARAKOON_VERSION",
    "FIRST",
    "MAX_BUFFER_SIZE",
    "NO_LONGER_MASTER_MESSAGE",
    "ArakoonCluster",
    "ArakoonNode",
    "MemoryConnection",
    "Mutation",
    "NodeProtocol",
    "RawClient",
    "Store",
    "Transaction",
    "UserFunction",
    "connect_in_memory",
]
