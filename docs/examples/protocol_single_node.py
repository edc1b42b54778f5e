"""One connection to one node: ``ArakoonProtocol`` through ``txarakoon.protocol.connect``.

Use it when you want to address one node yourself (tools, monitoring, a
single-node cluster); for a real cluster prefer ``ArakoonClient``, which finds
the master and fails over. This program starts an in-memory three-node cluster,
connects to the master, pipelines requests on that one connection, and then
shows what a slave says to a write::

    python docs/examples/protocol_single_node.py
"""

from __future__ import annotations

from typing import Any

from twisted.internet import task
from twisted.internet.defer import Deferred, gatherResults

from txarakoon import NoGuarantees
from txarakoon.errors import NotMaster
from txarakoon.protocol import connect
from txarakoon.testing import ArakoonCluster


async def run(reactor: Any) -> None:
    cluster = ArakoonCluster(3)
    cluster.listen(reactor)
    master = cluster.master
    assert master is not None
    endpoint = cluster.endpoint(master)  # e.g. "tcp:host=127.0.0.1:port=4000"
    print(f"connecting to the master {master}: {endpoint}")
    proto = await connect(reactor, endpoint, cluster.cluster_id)

    # Pipelining: all ten writes are on the wire before the first reply; the
    # replies come back in order and fire the Deferreds in order.
    await gatherResults([proto.set(b"key/%02d" % i, b"value %d" % i) for i in range(10)])
    keys = await proto.range(b"key/", True, b"key/05", False)
    print(f"range(key/ .. key/05) -> {keys!r}")
    print(f"multi_get -> {await proto.multi_get([b'key/00', b'key/09'])!r}")
    major, minor, patch, _ = await proto.version()
    statistics = await proto.statistics()
    print(f"node version {major}.{minor}.{patch}; {len(statistics)} statistics fields")
    await proto.close()

    # A slave serves dirty reads, but refuses writes with NotMaster and closes
    # the connection: the error's hint names the master.
    slave = next(name for name in cluster.names if name != master)
    proto = await connect(reactor, cluster.endpoint(slave), cluster.cluster_id)
    print(f"dirty read on {slave} -> {await proto.get(b'key/00', consistency=NoGuarantees)!r}")
    try:
        await proto.set(b"key/10", b"value 10")
    except NotMaster as error:
        print(f"set on {slave} -> NotMaster (hint: {error.master_hint!r})")
    print(f"connected after NotMaster: {proto.connected}")
    await proto.close()
    await cluster.stop()
    print("done")


def main() -> None:
    task.react(lambda reactor: Deferred.fromCoroutine(run(reactor)))


if __name__ == "__main__":
    main()
