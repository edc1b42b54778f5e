"""Testing code that uses Arakoon with pytest and txarakoon's fixtures.

Run it with ``python -m pytest docs/examples/test_with_pytest.py``. The plugin
comes with txarakoon, and these tests need nothing else: they run on the
in-memory cluster, without a reactor. The tests over real loopback sockets,
which need pytest-twisted, are in ``test_with_pytest_twisted.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.defer import Deferred, gatherResults

from txarakoon import messages
from txarakoon.errors import (
    AssertionFailed,
    ConnectionLost,
    InconsistentRead,
    NoLongerMaster,
    NotFound,
    NotMaster,
    OutcomeUnknown,
)
from txarakoon.recipes import MARKER_PREFIX, increment
from txarakoon.sequence import AssertRange, Delete, DeletePrefix, Set
from txarakoon.testing.holds import touching
from txarakoon.testing.trial import memory_cluster_client

# -- the code under test --------------------------------------------------------


async def count_visit(client: Any) -> int:
    """Count one visit; the new count.

    ``client`` is a cluster client (an ``ArakoonClient``).
    :func:`~txarakoon.recipes.increment` adds one exactly once, even when the
    master dies in the middle of the write, where a loop of ``get`` and
    ``test_and_set`` would count twice or not at all.
    """
    return await increment(client, b"visits")


# -- synchronous tests: an in-memory cluster, no sockets, no reactor --------------------


def test_increment_counts_from_one(
    arakoon_memory_cluster_client: Any, arakoon_resolve: Any
) -> None:
    client = arakoon_memory_cluster_client
    assert arakoon_resolve(count_visit(client)) == 1
    assert arakoon_resolve(count_visit(client)) == 2
    assert arakoon_resolve(client.get(b"visits")) == b"2"


def test_concurrent_increments_lose_no_update(
    arakoon_cluster: Any, arakoon_memory_cluster_client: Any, arakoon_resolve: Any
) -> None:
    # Two clients race; the loser of each attempt reads and tries again.
    first = arakoon_memory_cluster_client
    second = memory_cluster_client(arakoon_cluster)
    both = gatherResults(
        [
            Deferred.fromCoroutine(count_visit(first)),
            Deferred.fromCoroutine(count_visit(second)),
        ]
    )
    assert sorted(arakoon_resolve(both)) == [1, 2]
    arakoon_resolve(second.disconnect())


def test_bytes_move_only_when_flushed(arakoon_client: Any, arakoon_cluster: Any) -> None:
    pending = arakoon_client.set(b"key", b"value")
    assert not pending.called  # written to the in-memory transport, not delivered
    arakoon_cluster.flush()
    assert pending.called


def test_increment_survives_losing_the_master(
    arakoon_cluster: Any, arakoon_memory_cluster_client: Any, arakoon_resolve: Any
) -> None:
    client = arakoon_memory_cluster_client  # an ArakoonClient: it finds the master
    assert arakoon_resolve(count_visit(client)) == 1
    arakoon_resolve(arakoon_cluster.kill("n0"))
    # The others name n0 until its lease runs out, then elect n1: about 11 s,
    # which arakoon_resolve lets pass on the cluster's clock at once.
    assert arakoon_resolve(count_visit(client)) == 2
    assert arakoon_cluster.master == "n1"


def test_an_increment_in_flight_when_the_master_dies_counts_once(
    arakoon_cluster: Any, arakoon_memory_cluster_client: Any, arakoon_resolve: Any
) -> None:
    client = arakoon_memory_cluster_client
    assert arakoon_resolve(count_visit(client)) == 1
    # n0 applies the next write of the counter, but dies before it answers.
    hold = arakoon_cluster.hold_replies("n0", touching(messages.SEQUENCE, b"visits"))
    counting = Deferred.fromCoroutine(count_visit(client))
    arakoon_resolve(hold.when_held())
    arakoon_resolve(hold.kill())
    # Not 3: the recipe read its marker on the new master, so it did not retry.
    assert arakoon_resolve(counting) == 2
    assert arakoon_resolve(client.prefix(MARKER_PREFIX)) == []


def test_a_plain_write_in_flight_when_the_master_dies_is_outcome_unknown(
    arakoon_cluster: Any, arakoon_memory_cluster_client: Any, arakoon_resolve: Any
) -> None:
    client = arakoon_memory_cluster_client
    # n0 reads the next set, and dies before executing it.
    hold = arakoon_cluster.hold_replies("n0", messages.SET, applied=False)
    written = client.set(b"key", b"value")
    arakoon_resolve(hold.when_held())
    arakoon_resolve(hold.kill())
    with pytest.raises(OutcomeUnknown):
        arakoon_resolve(written)
    # Dropped, this time: only reading the key can tell.
    assert arakoon_resolve(client.multi_get_option([b"key"])) == [None]


@pytest.mark.arakoon(3, lag=1)
def test_a_slave_lags_one_update(arakoon_cluster: Any, arakoon_resolve: Any) -> None:
    master = arakoon_cluster.connect_in_memory("n0").client
    slave = arakoon_cluster.connect_in_memory("n1").client
    arakoon_resolve(master.set(b"key", b"value"))
    txid = arakoon_resolve(master.get_txid())
    with pytest.raises(InconsistentRead):
        arakoon_resolve(slave.get(b"key", consistency=txid))
    arakoon_resolve(master.nop())  # one more update: the slave applies ours
    assert arakoon_resolve(slave.get(b"key", consistency=txid)) == b"value"


def test_a_node_that_answers_slowly(
    arakoon_cluster: Any, arakoon_client: Any, arakoon_resolve: Any
) -> None:
    arakoon_cluster["n0"].delay_replies(2.5)
    arakoon_resolve(arakoon_client.nop())
    assert arakoon_cluster.clock.seconds() == 2.5


def test_a_write_answered_no_longer_master(
    arakoon_cluster: Any, arakoon_client: Any, arakoon_resolve: Any
) -> None:
    # The master loses its role while handling the write: the client cannot
    # know whether it was applied (here it was, as production usually does).
    arakoon_cluster.no_longer_master("n0", applied=True)
    with pytest.raises(NoLongerMaster):
        arakoon_resolve(arakoon_client.set(b"key", b"value"))
    assert arakoon_resolve(arakoon_client.get(b"key")) == b"value"  # connection kept


def test_a_connection_cut_in_the_middle_of_a_reply(
    arakoon_cluster: Any, arakoon_client: Any, arakoon_resolve: Any
) -> None:
    arakoon_cluster.seed({"key": "a value longer than six bytes"})
    arakoon_cluster["n0"].cut_connections_after(6)
    with pytest.raises(ConnectionLost):
        arakoon_resolve(arakoon_client.get(b"key"))


# -- what the real Arakoon does, and the in-memory one too -----------------------------


def test_d16_test_and_set_of_a_missing_key(arakoon_client: Any, arakoon_resolve: Any) -> None:
    # A missing key with an expected value: None back, nothing written, no NotFound.
    assert arakoon_resolve(arakoon_client.test_and_set(b"key", b"expected", b"new")) is None
    assert arakoon_resolve(arakoon_client.exists(b"key")) is False


def test_d19_a_failing_sequence_keeps_a_delete_prefix(
    arakoon_cluster: Any, arakoon_client: Any, arakoon_resolve: Any
) -> None:
    arakoon_cluster.seed({"job/1": "a", "job/2": "b"})
    steps = [DeletePrefix(b"job/"), Set(b"job/3", b"c"), Delete(b"missing")]
    with pytest.raises(NotFound):
        arakoon_resolve(arakoon_client.sequence(steps))
    # The Set was undone; the DeletePrefix was not.
    assert arakoon_resolve(arakoon_client.prefix(b"job/")) == []


def test_d20_delete_prefix_does_not_see_earlier_steps(
    arakoon_client: Any, arakoon_resolve: Any
) -> None:
    arakoon_resolve(arakoon_client.sequence([Set(b"job/new", b"x"), DeletePrefix(b"job/")]))
    assert arakoon_resolve(arakoon_client.prefix(b"job/")) == [b"job/new"]


def test_d21_the_value_limit_is_for_set_not_for_sequences(
    arakoon_client: Any, arakoon_resolve: Any
) -> None:
    eight_mib = b"x" * (8 * 1024 * 1024)
    with pytest.raises(ValueError):
        arakoon_client.set(b"big", eight_mib)  # refused before sending
    arakoon_resolve(arakoon_client.sequence([Set(b"big", eight_mib)]))
    assert len(arakoon_resolve(arakoon_client.get(b"big"))) == len(eight_mib)


def test_d22_any_negative_max_elements_means_all(
    arakoon_cluster: Any, arakoon_client: Any, arakoon_resolve: Any
) -> None:
    arakoon_cluster.seed({"a": "1", "b": "2", "c": "3"})
    assert arakoon_resolve(arakoon_client.prefix(b"", -5)) == [b"a", b"b", b"c"]
    assert arakoon_resolve(arakoon_client.prefix(b"", 0)) == []


def test_d23_a_failing_assert_range_names_both_key_lists(
    arakoon_cluster: Any, arakoon_client: Any, arakoon_resolve: Any
) -> None:
    arakoon_cluster.seed({"job/1": "a", "job/3": "c"})
    with pytest.raises(AssertionFailed) as caught:
        arakoon_resolve(arakoon_client.sequence([AssertRange(b"job/", [b"job/1", b"job/2"])]))
    assert caught.value.message == b'ContainsExactly [ "job/1; job/2" ] actual: job/1,job/3'


def test_d24_d31_an_idle_slave_catches_up_by_itself(
    arakoon_cluster: Any, arakoon_resolve: Any
) -> None:
    master = arakoon_cluster.connect_in_memory("n0").client
    slave = arakoon_cluster.connect_in_memory("n1").client
    arakoon_resolve(master.set(b"key", b"value"))
    txid = arakoon_resolve(master.get_txid())
    # No write: the master's next lease renewal is an update the slave applies.
    arakoon_cluster.advance(arakoon_cluster.lease_period / 2)
    assert arakoon_resolve(slave.get(b"key", consistency=txid)) == b"value"
    assert arakoon_resolve(master.get_txid()).i > txid.i


def test_d27_drop_master_keeps_the_master_for_a_lease(
    arakoon_cluster: Any, arakoon_resolve: Any, arakoon_clock: Any
) -> None:
    dropping = arakoon_cluster.connect_in_memory("n0").client.drop_master()
    writer = arakoon_cluster.connect_in_memory("n0").client
    arakoon_resolve(writer.set(b"key", b"value"))  # still the master: it commits
    arakoon_resolve(dropping)  # a lease, an election, then half a lease
    lease, delay = arakoon_cluster.lease_period, arakoon_cluster.election_delay
    assert arakoon_clock.seconds() == lease + delay + lease / 2
    new = arakoon_cluster.connect_in_memory("n1").client
    assert arakoon_resolve(new.get(b"key")) == b"value"


def test_a_frozen_master_is_replaced_after_its_lease(
    arakoon_cluster: Any, arakoon_resolve: Any
) -> None:
    old = arakoon_cluster.connect_in_memory("n0").client
    arakoon_cluster.freeze("n0")  # like SIGSTOP: no answer, no lease renewal
    written = old.set(b"key", b"value")
    arakoon_cluster.advance(arakoon_cluster.lease_period)
    arakoon_cluster.advance(arakoon_cluster.election_delay)
    assert arakoon_cluster.master == "n1" and not written.called
    arakoon_cluster.thaw("n0")  # it answers what it held, as a slave now
    with pytest.raises(NotMaster):
        arakoon_resolve(written)
