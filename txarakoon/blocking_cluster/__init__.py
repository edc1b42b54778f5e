"""The blocking cluster client: :class:`BlockingArakoonClient`, "the
cluster" for scripts, cron jobs and tools without a reactor.

.. code-block:: python

    from txarakoon import BlockingArakoonClient, ClusterConfig

    config = ClusterConfig.from_ini("/etc/arakoon/arakoon.ini")
    with BlockingArakoonClient(config) as client:
        client.set(b"greeting", b"hello")
        print(client.get(b"greeting"))

It has the semantics of :class:`~txarakoon.cluster.ArakoonClient`, with
values instead of Deferreds: master discovery with validation
(:mod:`txarakoon.master_claims`), cached and forgotten when a failure says
the master may have moved; failover and retries decided by the same policy
(:mod:`txarakoon.retry`), so a write whose fate is unknown raises
:class:`~txarakoon.errors.OutcomeUnknown` and is never repeated silently;
``using(timeout=..., retry_idempotent=...)``, dirty reads on the read node,
``read_your_writes()`` sessions and ``node(name)`` for per-node and admin
commands. TLS comes from the configuration's
:class:`~txarakoon.config.TLSConfig`, through the standard library's
:mod:`ssl` (:mod:`txarakoon.ssl_context`).

It logs with :mod:`logging` (logger ``txarakoon.blocking_cluster``): the
master found or changed, each retry with its delay and cause, a forgotten
master, a change of read node.

A master that stops answering without closing its connection is left once
the others have elected another (``stall_interval``; the rule is
:mod:`txarakoon.stall_rule`).

The package: ``client`` (:class:`BlockingArakoonClient`: the calls, the retry
loop, the master), ``links`` (one :class:`~txarakoon.blocking.SocketClient`
per node, made on demand, each request under the call's deadline), ``stalls``
(the stall check, between the slices of a read of the master's reply) and
``views`` (per-call settings, one node, read-your-writes sessions).
"""

from __future__ import annotations

from .client import BlockingArakoonClient
from .views import CallOptions, ClientView, NodeClient, ReadYourWrites

__all__ = ["BlockingArakoonClient", "CallOptions", "ClientView", "NodeClient", "ReadYourWrites"]
