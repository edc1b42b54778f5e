"""``txarakoon demo``: a tour of the API against the in-memory Arakoon, for a
first look (``txarakoon serve`` is :mod:`txarakoon.cli.serve`). Nothing here
is needed to use the library."""

from __future__ import annotations

from typing import Any, TextIO

from .cluster import ArakoonClient
from .config import ClusterConfig
from .consistency import NoGuarantees
from .errors import AssertionFailed, NotFound
from .sequence import Assert, Delete, Set

__all__ = ["demo"]


async def _tour(reactor: Any, out: TextIO) -> None:
    from .testing import ArakoonCluster

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    # Short leases so that the failover at the end takes a second, not eleven.
    cluster = ArakoonCluster(3, lease_period=1.0, election_delay=0.5)
    cluster.listen(reactor)
    say(f"Started an in-memory Arakoon cluster: {cluster.nodes_spec()}")
    config = ClusterConfig.from_ini(cluster.ini())
    slave = next(name for name in cluster.names if name != cluster.master)
    client = ArakoonClient(config, reactor, read_node=slave)
    try:
        say(f"who_master()                 -> {await client.who_master()!r}")
        await client.set(b"fruit/apple", b"red")
        await client.set(b"fruit/banana", b"yellow")
        await client.set("fruit/cherry", "dark red")  # str is sent as UTF-8
        say("set three fruit/ keys")
        say(f"get(b'fruit/apple')          -> {await client.get(b'fruit/apple')!r}")
        keys = await client.range(b"fruit/", True, b"fruit/c", False)
        say(f"range(fruit/ .. fruit/c)     -> {keys!r}")
        say(f"prefix(b'fruit/', 2)         -> {await client.prefix(b'fruit/', 2)!r}")
        try:
            await client.get(b"fruit/durian")
        except NotFound as error:
            say(f"get(b'fruit/durian')         -> NotFound({error})")

        say("sequence: Set fruit/elder, Delete fruit/apple, Assert fruit/banana == 'green'")
        try:
            await client.sequence(
                [
                    Set(b"fruit/elder", b"purple"),
                    Delete(b"fruit/apple"),
                    Assert(b"fruit/banana", b"green"),
                ]
            )
        except AssertionFailed as error:
            say(f"  -> AssertionFailed({error}); nothing was applied:")
            say(
                f"     exists(fruit/elder) = {await client.exists(b'fruit/elder')}, "
                f"exists(fruit/apple) = {await client.exists(b'fruit/apple')}"
            )

        previous = await client.test_and_set(b"fruit/apple", b"red", b"green")
        say(f"test_and_set(apple, red -> green) -> previous {previous!r}")
        previous = await client.test_and_set(b"fruit/apple", b"red", b"blue")
        say(f"test_and_set(apple, red -> blue)  -> previous {previous!r} (no change)")

        await client.set(b"fruit/apple", b"ripe")
        say("set(fruit/apple, ripe)")
        stale = await client.get(b"fruit/apple", consistency=NoGuarantees)
        say(f"dirty read on slave {slave}: apple = {stale!r} (a slave lags one update)")
        await client.nop()
        fresh = await client.get(b"fruit/apple", consistency=NoGuarantees)
        say(f"after a nop, the slave has it:  apple = {fresh!r}")

        stats = await client.node(cluster.master or cluster.names[0]).statistics()
        say(f"statistics of the master: {len(stats)} fields, set_info.n = {stats['set_info']['n']}")

        old_master = cluster.master
        assert old_master is not None
        await cluster.kill(old_master)
        say(f"killed the master {old_master}; writing again (the client waits for an election)")
        started = reactor.seconds()
        # A write in flight when a connection drops may or may not have been
        # applied (OutcomeUnknown); set is idempotent, so it may be retried.
        await client.using(retry_idempotent=True).set(b"fruit/fig", b"purple")
        say(
            f"  -> written through the new master {client.master} "
            f"after {reactor.seconds() - started:.1f} s"
        )
        say(f"get(b'fruit/banana')         -> {await client.get(b'fruit/banana')!r}")
        say("Done.")
    finally:
        await client.disconnect()
        await cluster.stop()


def demo(out: TextIO) -> int:
    """Start an in-memory 3-node cluster on loopback and tour the API."""
    from twisted.internet import task
    from twisted.internet.defer import Deferred

    def run(reactor: Any) -> Deferred[None]:
        return Deferred.fromCoroutine(_tour(reactor, out))

    try:
        task.react(run)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    return 0
