"""Masters and slaves: what a slave refuses (NotMaster, then the connection
closes) and serves, through both client flavours; and, on an in-process
in-memory cluster with its controls, lag and AtLeast, elections, dead nodes and
NoLongerMaster."""

from __future__ import annotations

import time
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.error import ConnectionRefusedError

from txarakoon.cluster import ArakoonClient
from txarakoon.config import ClusterConfig
from txarakoon.consistency import AtLeast, NoGuarantees
from txarakoon.errors import InconsistentRead, NoLongerMaster, NotFound, NotMaster
from txarakoon.protocol import connect

from .support import TIMEOUT, Flavour, InMemory, Keys, Target, reactor

ensure = pytest_twisted.ensureDeferred

SLAVE_REFUSALS = [
    ("set", lambda c, k: c.set(k, b"v")),
    ("delete", lambda c, k: c.delete(k)),
    ("get", lambda c, k: c.get(k)),
    ("exists", lambda c, k: c.exists(k)),
    ("range", lambda c, k: c.range(k, True, None, True)),
    ("multi_get", lambda c, k: c.multi_get([k])),
    ("sequence", lambda c, k: c.sequence([])),
    ("nop", lambda c, k: c.nop()),
    ("get_key_count", lambda c, k: c.get_key_count()),
    ("confirm", lambda c, k: c.confirm(k, b"v")),
]


@pytest.mark.parametrize("call", [c[1] for c in SLAVE_REFUSALS], ids=[c[0] for c in SLAVE_REFUSALS])
@ensure
async def test_a_slave_answers_not_master_naming_the_master_and_closes(
    flavour: Flavour, target: Target, keys: Keys, call: Any
) -> None:
    master = target.master()
    slave = await flavour.connect(target.slave())
    with pytest.raises(NotMaster) as caught:
        await call(slave, keys("k"))
    assert caught.value.message == master.encode()
    assert caught.value.master_hint == master.encode()
    await flavour.assert_closed(slave)


@ensure
async def test_a_slave_serves_reads_without_guarantees(
    flavour: Flavour, target: Target, client: Any, keys: Keys
) -> None:
    await client.set(keys("k"), b"v")
    await client.nop()  # a slave applies an update once the next one is agreed
    slave = await flavour.connect(target.slave())
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            assert await slave.get(keys("k"), allow_dirty=True) == b"v"
            break
        except NotFound:
            # A real slave may still be catching up.
            if time.monotonic() > deadline:
                raise
    assert await slave.exists(keys("k"), consistency=NoGuarantees) is True
    assert await slave.who_master() == target.master().encode()
    assert isinstance(await slave.get_txid(), AtLeast)
    assert await slave.get_current_state() != b"Stable_master"


# -- in-process in-memory cluster with its controls --------------------------------


@ensure
async def test_a_slave_lags_one_update_so_at_least_needs_one_more(in_memory: InMemory) -> None:
    # On wall-clock time, a lease renewal (D31) mid-test would let the slave catch up.
    cluster = in_memory.start(lease_renewals=False)
    master = await in_memory.connect(cluster)
    slave = await in_memory.connect(cluster, "n1")
    await master.set(b"k", b"v")
    txid = await master.get_txid()
    assert isinstance(txid, AtLeast)
    assert await slave.get_txid() == AtLeast(txid.i - 1)
    with pytest.raises(NotFound):
        await slave.get(b"k", allow_dirty=True)
    with pytest.raises(InconsistentRead) as caught:
        await slave.get(b"k", consistency=txid)
    assert caught.value.message == b"store not fresh enough"
    assert slave.connected
    await master.nop()
    assert await slave.get(b"k", consistency=txid) == b"v"


@ensure
async def test_without_lag_a_slave_is_fresh_at_once(in_memory: InMemory) -> None:
    cluster = in_memory.start(lag=0)
    master = await in_memory.connect(cluster)
    slave = await in_memory.connect(cluster, "n2")
    await master.set(b"k", b"v")
    assert await slave.get(b"k", consistency=await master.get_txid()) == b"v"


@ensure
async def test_without_a_master_every_node_says_none(in_memory: InMemory) -> None:
    cluster = in_memory.start(election_delay=None)
    old = await in_memory.connect(cluster, "n0")
    cluster.drop_master()
    for name in cluster.names:
        client = await in_memory.connect(cluster, name)
        assert await client.who_master() is None
    with pytest.raises(NotMaster) as caught:
        await old.set(b"k", b"v")
    assert caught.value.message == b"None"


@ensure
async def test_after_an_election_the_old_master_redirects_to_the_new(
    in_memory: InMemory,
) -> None:
    cluster = in_memory.start()
    cluster.elect("n1")
    for name in cluster.names:
        client = await in_memory.connect(cluster, name)
        assert await client.who_master() == b"n1"
    new = await in_memory.connect(cluster, "n1")
    await new.set(b"k", b"v")
    old = await in_memory.connect(cluster, "n0")
    with pytest.raises(NotMaster) as caught:
        await old.get(b"k")
    assert caught.value.message == b"n1"


@ensure
async def test_drop_master_on_the_master_answers_once_another_node_took_over(
    in_memory: InMemory,
) -> None:
    cluster = in_memory.start(lease_period=0.2, election_delay=0.05)
    master = await in_memory.connect(cluster)
    await master.drop_master()
    assert cluster.master == "n1"
    assert await master.who_master() == b"n1"


@ensure
async def test_a_killed_node_cuts_its_connections_and_refuses_new_ones(
    in_memory: InMemory,
) -> None:
    cluster = in_memory.start()
    victim = await in_memory.connect(cluster, "n2")
    await cluster.kill("n2")
    await victim.when_lost().addTimeout(TIMEOUT, reactor())
    with pytest.raises(ConnectionRefusedError):
        await connect(reactor(), cluster.endpoint("n2"), cluster.cluster_id)
    await cluster.revive("n2")
    revived = await in_memory.connect(cluster, "n2")
    assert await revived.who_master() == b"n0"


@ensure
async def test_no_longer_master_is_reported_and_keeps_the_connection(
    in_memory: InMemory,
) -> None:
    cluster = in_memory.start()
    master = await in_memory.connect(cluster)
    cluster.no_longer_master("n0")
    with pytest.raises(NoLongerMaster):
        await master.set(b"k", b"v")
    assert master.connected
    # Applied anyway, as production usually did (the outcome is unknown to a client).
    assert await master.get(b"k") == b"v"


@ensure
async def test_the_cluster_client_follows_the_master_through_an_election(
    in_memory: InMemory,
) -> None:
    cluster = in_memory.start()
    client = ArakoonClient(ClusterConfig.from_spec(cluster.nodes_spec()), reactor())
    try:
        await client.set(b"k", b"1")
        assert client.master == "n0"
        cluster.elect("n2")
        await client.set(b"k", b"2")
        assert client.master == "n2"
        assert await client.get(b"k") == b"2"
    finally:
        await client.disconnect()
