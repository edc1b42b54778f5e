"""txarakoon from asyncio code, through Twisted's asyncio reactor.

Twisted's ``AsyncioSelectorReactor`` runs on an asyncio event loop, so Twisted
and asyncio code share one thread and one loop. ``Deferred.asFuture(loop)``
turns each txarakoon Deferred into an asyncio Future that ``async def``
asyncio code can await, gather, or wrap in ``asyncio.wait_for``.

Two ways to run, both tested::

    python docs/examples/asyncio_example.py              # the reactor drives the loop
    python docs/examples/asyncio_example.py --asyncio-run   # asyncio.run() owns the loop

The program starts an in-memory three-node Arakoon on loopback and exits 0.
Nothing happens at import time: the reactor is installed in ``main``.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from txarakoon.cluster import ArakoonClient
from txarakoon.config import ClusterConfig
from txarakoon.testing import ArakoonCluster


async def work(reactor: Any) -> None:
    """Plain asyncio code using txarakoon."""
    loop = asyncio.get_running_loop()
    cluster = ArakoonCluster(3)
    cluster.listen(reactor)
    client = ArakoonClient(ClusterConfig.from_ini(cluster.ini()), reactor)
    try:
        await client.set(b"greeting", b"hello").asFuture(loop)
        print(f"get -> {await client.get(b'greeting').asFuture(loop)!r}")

        # asyncio-style concurrency; the requests are pipelined on one connection.
        keys = [b"k%d" % i for i in range(5)]
        await asyncio.gather(*(client.set(key, key.upper()).asFuture(loop) for key in keys))
        values = await asyncio.gather(*(client.get(key).asFuture(loop) for key in keys))
        print(f"gathered -> {values!r}")

        # Cancelling the Future cancels the Deferred: here asyncio.wait_for gives
        # up on a read that the master (made slow on purpose) answers too late.
        assert cluster.master is not None
        cluster[cluster.master].delay_replies(1.0)
        try:
            await asyncio.wait_for(client.get(b"greeting").asFuture(loop), timeout=0.1)
        except asyncio.TimeoutError:
            print("wait_for(get, 0.1) -> TimeoutError (the Deferred was cancelled)")
        cluster[cluster.master].delay_replies(0)

        # The connection is still good: the late reply was read and dropped.
        print(f"get after the timeout -> {await client.get(b'k0').asFuture(loop)!r}")
    finally:
        await client.disconnect().asFuture(loop)
        await cluster.stop().asFuture(loop)
    print("done")


def run_with_reactor() -> None:
    """Install the reactor on a new loop; ``task.react`` runs the loop."""
    from twisted.internet import asyncioreactor

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    asyncioreactor.install(loop)
    from twisted.internet import task
    from twisted.internet.defer import Deferred

    def start(reactor: Any) -> Deferred[None]:
        return Deferred.fromFuture(loop.create_task(work(reactor)))

    task.react(start)


async def asyncio_main() -> None:
    """For an application that ``asyncio.run()`` starts: install the reactor on
    the running loop, start it without running it, and shut it down at the
    end (that stops its thread pool, used to resolve host names)."""
    from twisted.internet import asyncioreactor

    asyncioreactor.install(asyncio.get_running_loop())
    from twisted.internet import reactor

    reactor.startRunning(installSignalHandlers=False)
    try:
        await work(reactor)
    finally:
        reactor.fireSystemEvent("shutdown")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--asyncio-run"]:
        asyncio.run(asyncio_main())
    elif not args:
        run_with_reactor()
    else:
        raise SystemExit(f"usage: {sys.argv[0]} [--asyncio-run]")


if __name__ == "__main__":
    main()
