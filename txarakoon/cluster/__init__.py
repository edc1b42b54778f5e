"""The cluster client: one object that is "the cluster".

:class:`ArakoonClient` finds the master, keeps one pipelined
:class:`~txarakoon.protocol.ArakoonProtocol` connection per node it talks to,
follows the master through elections, and retries only what is safe. "Reads"
are the commands declared :attr:`~txarakoon.messages.Command.read_only`; every other
command is a write. What is retried after which failure is decided by the
sans-IO policy of :mod:`txarakoon.retry`; its matrix is in
:ref:`the failover guide <retry-matrix>`.

``client.using(retry_idempotent=True)`` also retries ``set``, ``confirm`` and
``nop`` where the table says ``OutcomeUnknown``: doing them twice has the same
effect as doing them once (unless another client wrote the key in between).
Retries back off exponentially with jitter until the call's deadline, then the
last error is raised, except that a round of discovery in which every node
failed in a way retrying cannot fix raises
:class:`~txarakoon.errors.MisconfiguredCluster` at once. ``who_master()`` on
the client runs one fresh round of discovery: the master's name, ``None`` when
nodes answered and none confirmed a master, the round's error (each node's
cause) when no node could be asked.

Reads with ``allow_dirty=True``, ``NoGuarantees`` or ``AtLeast(i)`` go to the
*read node* (by default one chosen at random, falling back to others); the
rest go to the master.

The package: ``client`` (:class:`ArakoonClient`), ``dispatch`` (how each call
is sent: at once on the hot path when the master is known and connected,
through the retry loop otherwise), ``deadlines`` (every pending call's
deadline, under one timer per client), ``discovery`` (which node is master),
``links`` (one connection per node, made on demand), ``symptoms`` (what a
failure to reach a node says of the configuration), ``stalls`` (leaving a
master that went silent once the others elected another), ``views``
(per-call settings, one node, read-your-writes sessions) and ``calls`` (a
call's state across its attempts); the retry decisions are
:mod:`txarakoon.retry`'s.
"""

from __future__ import annotations

from .calls import CallOptions
from .client import IDEMPOTENT_WRITES as IDEMPOTENT_WRITES
from .client import ArakoonClient
from .client import EndpointFactory as EndpointFactory
from .views import ClientView, NodeClient, ReadYourWrites

__all__ = ["ArakoonClient", "CallOptions", "ClientView", "NodeClient", "ReadYourWrites"]
