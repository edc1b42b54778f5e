"""Cluster behaviour (PROTOCOL.md §5, §9): slaves, lag and AtLeast, mastership
and the test controls, driven with task.Clock and ArakoonProtocol in memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionRefusedError
from twisted.trial.unittest import SynchronousTestCase

from txarakoon.consistency import AtLeast, NoGuarantees
from txarakoon.errors import (
    ConnectionLost,
    InconsistentRead,
    NoLongerMaster,
    NotFound,
    NotMaster,
    RequestNotProcessed,
)
from txarakoon.protocol import ArakoonProtocol
from txarakoon.sequence import Set
from txarakoon.testing import ArakoonCluster, connect_in_memory

from . import cluster, exchange

T = TypeVar("T")


class _ClusterTest(SynchronousTestCase):
    def setUp(self) -> None:
        self.arakoon: ArakoonCluster = cluster(3)

    def client(self, name: str) -> ArakoonProtocol:
        return self.arakoon.connect_in_memory(name).client

    def value(self, deferred: Deferred[T]) -> T:
        self.arakoon.flush()
        return self.successResultOf(deferred)

    def error(self, deferred: Deferred[Any], *kinds: type[BaseException]) -> BaseException:
        self.arakoon.flush()
        failure = self.failureResultOf(deferred, *kinds)  # type: ignore[no-untyped-call]
        error: BaseException = failure.value
        return error

    def no_result(self, deferred: Deferred[Any]) -> None:
        self.assertNoResult(deferred)  # type: ignore[no-untyped-call]


class SlaveTests(_ClusterTest):
    def test_who_master_names_the_master_on_every_node(self) -> None:
        for name in ("n0", "n1", "n2"):
            assert self.value(self.client(name).who_master()) == b"n0"

    def test_consistent_read_on_a_slave_is_not_master_and_closes(self) -> None:
        slave = self.client("n1")
        first, second = slave.get(b"k"), slave.exists(b"k")
        error = self.error(first, NotMaster)
        assert isinstance(error, NotMaster) and error.message == b"n0"
        self.error(second, RequestNotProcessed)
        assert not slave.connected

    def test_writes_on_a_slave_are_not_master(self) -> None:
        writes: list[Callable[[ArakoonProtocol], Deferred[Any]]] = [
            lambda c: c.set(b"k", b"v"),
            lambda c: c.delete(b"k"),
            lambda c: c.confirm(b"k", b"v"),
            lambda c: c.get_key_count(),
            lambda c: c.nop(),
            lambda c: c.delete_prefix(b""),
            lambda c: c.replace(b"k", None),
            lambda c: c.test_and_set(b"k", None, b"v"),
            lambda c: c.sequence([Set(b"k", b"v")]),
        ]
        for write in writes:
            self.error(write(self.client("n2")), NotMaster)
        assert self.arakoon.txid == 0

    def test_dirty_reads_work_on_a_slave(self) -> None:
        self.arakoon.seed({b"k": b"v"})
        self.arakoon.seed({})
        slave = self.client("n1")
        assert self.value(slave.get(b"k", allow_dirty=True)) == b"v"
        assert self.value(slave.range(None, True, None, True, allow_dirty=True)) == [b"k"]
        assert slave.connected

    def test_assert_on_a_slave_needs_no_guarantees(self) -> None:
        slave = self.client("n1")
        self.value(slave.assert_(b"k", None, allow_dirty=True))
        self.error(slave.assert_(b"k", None), NotMaster)

    def test_current_state_names_roles(self) -> None:
        assert self.value(self.client("n0").get_current_state()) == b"Stable_master"
        assert self.value(self.client("n2").get_current_state()) == b"Slave_steady_state"


class LagTests(_ClusterTest):
    def test_slave_lags_one_update_behind(self) -> None:
        master, slave = self.client("n0"), self.client("n1")
        self.value(master.set(b"k", b"v"))
        assert self.value(master.get_txid()) == AtLeast(1)
        assert self.value(slave.get_txid()) == AtLeast(0)
        self.error(slave.get(b"k", consistency=NoGuarantees), NotFound)

    def test_at_least_read_on_a_lagging_slave_is_inconsistent_read(self) -> None:
        master, slave = self.client("n0"), self.client("n1")
        self.value(master.set(b"k", b"v"))
        txid = self.value(master.get_txid())
        self.error(slave.get(b"k", consistency=txid), InconsistentRead)
        assert slave.connected

    def test_one_more_update_lets_the_slave_catch_up(self) -> None:
        master, slave = self.client("n0"), self.client("n1")
        self.value(master.set(b"k", b"v"))
        txid = self.value(master.get_txid())
        self.value(master.nop())
        assert self.value(slave.get(b"k", consistency=txid)) == b"v"

    def test_lag_zero_keeps_slaves_up_to_date(self) -> None:
        self.arakoon.lag = 0
        self.value(self.client("n0").set(b"k", b"v"))
        assert self.value(self.client("n2").get(b"k", allow_dirty=True)) == b"v"

    def test_lowering_the_lag_catches_up_at_once(self) -> None:
        self.arakoon.lag = 3
        for index in range(3):
            self.arakoon.seed({b"k": b"%d" % index})
        assert self.arakoon["n1"].store.txid == 0
        self.arakoon.lag = 1
        assert self.arakoon["n1"].store.txid == 2

    def test_catch_up_applies_everything(self) -> None:
        self.arakoon.seed({b"k": b"v"})
        self.arakoon.catch_up()
        assert self.arakoon["n2"].store.get(b"k") == b"v"

    def test_single_node_serves_consistent_reads_and_never_lags(self) -> None:
        single = cluster(1)
        client = single.connect_in_memory().client
        client.set(b"k", b"v")
        got = client.get(b"k")
        single.flush()
        assert self.successResultOf(got) == b"v"


class ElectionTests(_ClusterTest):
    def test_elect_moves_mastership(self) -> None:
        self.arakoon.elect("n2")
        assert self.value(self.client("n0").who_master()) == b"n2"
        error = self.error(self.client("n0").set(b"k", b"v"), NotMaster)
        assert isinstance(error, NotMaster) and error.message == b"n2"
        self.value(self.client("n2").set(b"k", b"v"))

    def test_new_master_has_applied_everything(self) -> None:
        self.arakoon.seed({b"k": b"v"})
        self.arakoon.elect("n1")
        assert self.value(self.client("n1").get(b"k")) == b"v"

    def test_drop_master_leaves_no_master_then_elects_another_node(self) -> None:
        self.arakoon.drop_master()
        assert self.value(self.client("n1").who_master()) is None
        error = self.error(self.client("n0").set(b"k", b"v"), NotMaster)
        assert isinstance(error, NotMaster) and error.message == b"None"
        self.arakoon.advance(0.9)
        assert self.arakoon.master is None
        self.arakoon.advance(0.1)
        assert self.arakoon.master == "n1"

    def test_without_election_delay_the_cluster_waits_for_elect(self) -> None:
        self.arakoon.election_delay = None
        self.arakoon.drop_master()
        self.arakoon.advance(1000)
        assert self.arakoon.master is None
        state = self.value(self.client("n2").get_current_state())
        assert state == b"Slave_waiting_for_prepare"
        self.arakoon.elect("n0")
        assert self.value(self.client("n2").who_master()) == b"n0"

    def test_an_election_delay_set_while_masterless_elects_after_it(self) -> None:
        self.arakoon.election_delay = None
        self.arakoon.drop_master()
        self.arakoon.advance(1000)
        self.arakoon.election_delay = 1.0
        self.arakoon.advance(0.9)
        assert self.arakoon.master is None
        self.arakoon.advance(0.1)
        assert self.arakoon.master == "n1"

    def test_young_cluster_elects_after_the_election_delay(self) -> None:
        young = cluster(3, master=None, election_delay=2.0)
        assert young.master is None
        young.advance(2.0)
        assert young.master == "n0"

    def test_drop_master_command_keeps_mastership_a_lease_and_answers_after_the_next(
        self,
    ) -> None:
        done = self.client("n0").drop_master()
        self.arakoon.flush()
        self.no_result(done)
        assert self.arakoon.master == "n0"
        self.arakoon.advance(9.9)
        assert self.arakoon.master == "n0"
        self.arakoon.advance(0.1)
        assert self.arakoon.master is None
        self.arakoon.advance(1.0)
        assert self.arakoon.master == "n1"
        self.arakoon.advance(4.9)
        self.no_result(done)
        self.arakoon.advance(0.1)
        self.successResultOf(done)


class KillTests(_ClusterTest):
    def test_killed_node_refuses_connections(self) -> None:
        self.arakoon.kill("n2")
        with pytest.raises(ConnectionRefusedError):
            self.arakoon.connect_in_memory("n2")

    def test_kill_cuts_open_connections(self) -> None:
        slave = self.client("n2")
        pending = slave.who_master()
        self.arakoon["n2"].stall()
        self.arakoon.flush()
        killed = self.arakoon.kill("n2")
        self.error(pending, ConnectionLost)
        self.successResultOf(killed)
        assert not slave.connected

    def test_revived_node_catches_up_and_serves(self) -> None:
        self.arakoon.kill("n2")
        self.arakoon.seed({b"k": b"v"})
        self.arakoon.seed({})
        assert self.arakoon["n2"].store.txid == 0
        self.successResultOf(self.arakoon.revive("n2"))
        assert self.value(self.client("n2").get(b"k", allow_dirty=True)) == b"v"

    def test_dead_master_is_named_until_its_lease_expires_then_replaced(self) -> None:
        self.arakoon.kill("n0")
        assert self.value(self.client("n1").who_master()) == b"n0"
        self.arakoon.advance(10.0)
        assert self.value(self.client("n1").who_master()) is None
        self.arakoon.advance(1.0)
        assert self.arakoon.master == "n1"
        assert self.value(self.client("n2").who_master()) == b"n1"

    def test_master_without_majority_holds_writes_until_it_returns(self) -> None:
        master = self.client("n0")
        self.arakoon.kill("n1")
        self.arakoon.kill("n2")
        written = master.set(b"k", b"v")
        self.arakoon.flush()
        self.no_result(written)
        self.arakoon.revive("n1")
        assert self.value(written) is None
        assert self.arakoon.store.get(b"k") == b"v"

    def test_master_without_majority_steps_down_after_its_lease(self) -> None:
        master = self.client("n0")
        self.arakoon.kill("n1")
        self.arakoon.kill("n2")
        written = master.set(b"k", b"v")
        self.arakoon.advance(10.0)
        self.error(written, NoLongerMaster)
        assert self.arakoon.master is None
        assert b"k" not in self.arakoon.store
        self.arakoon.revive("n1")
        self.arakoon.advance(1.0)
        assert self.arakoon.master == "n1"


class InjectionTests(_ClusterTest):
    def test_no_longer_master_applied_by_default(self) -> None:
        self.arakoon.no_longer_master("n0")
        master = self.client("n0")
        self.error(master.set(b"k", b"v"), NoLongerMaster)
        assert master.connected
        assert self.value(master.get(b"k")) == b"v"

    def test_no_longer_master_not_applied(self) -> None:
        self.arakoon.no_longer_master("n0", count=2, applied=False)
        master = self.client("n0")
        self.error(master.set(b"k", b"v"), NoLongerMaster)
        self.error(master.delete_prefix(b""), NoLongerMaster)
        self.value(master.set(b"k2", b"v"))
        assert list(self.arakoon.store) == [b"k2"]
        assert self.arakoon.master == "n0"

    def test_reads_are_not_affected_by_no_longer_master(self) -> None:
        self.arakoon.no_longer_master("n0")
        assert self.value(self.client("n0").exists(b"k")) is False

    def test_delayed_reply_arrives_after_the_delay_but_the_write_is_applied(self) -> None:
        self.arakoon["n0"].delay_replies(2.0)
        written = self.client("n0").set(b"k", b"v")
        self.arakoon.flush()
        self.no_result(written)
        assert self.arakoon.store.get(b"k") == b"v"
        self.arakoon.advance(2.0)
        self.successResultOf(written)

    def test_cut_after_n_reply_bytes(self) -> None:
        self.arakoon.seed({b"k": b"value"})
        self.arakoon["n0"].cut_connections_after(10)
        connection = connect_in_memory(self.arakoon["n0"])
        got = connection.client.get(b"k")
        self.error(got, ConnectionLost)
        assert connection.server.bytes_written == 10

    def test_cut_after_counts_from_when_it_is_armed(self) -> None:
        master = self.client("n0")
        self.value(master.nop())
        self.arakoon["n0"].cut_connections_after(6)
        self.value(master.nop())  # 4 bytes
        self.error(master.nop(), ConnectionLost)  # 2 of 4 bytes, then closed

    def test_stalled_node_neither_executes_nor_answers_until_unstalled(self) -> None:
        # A stalled master keeps renewing its lease: only writes may count here.
        self.arakoon.lease_renewals = False
        self.arakoon["n0"].stall()
        master = self.client("n0")
        written = master.set(b"k", b"v")
        self.arakoon.advance(100)
        self.no_result(written)
        assert self.arakoon.txid == 0
        self.arakoon["n0"].unstall()
        assert self.value(written) is None

    def test_stall_holds_replies_already_computed(self) -> None:
        self.arakoon["n0"].delay_replies(1.0)
        written = self.client("n0").set(b"k", b"v")
        self.arakoon.flush()
        self.arakoon["n0"].stall()
        self.arakoon.advance(5)
        self.no_result(written)
        self.arakoon["n0"].unstall()
        assert self.value(written) is None

    def test_going_down_is_seen_as_the_first_reply(self) -> None:
        self.arakoon["n1"].going_down = True
        reply, lost = exchange(self.arakoon["n1"], b"")
        assert reply[:4] == b"\x10\x00\x00\x00"
        assert lost

    def test_seed_is_replicated_like_a_write(self) -> None:
        txid = self.arakoon.seed({"k": "v", b"gone": None})
        assert txid == 1
        assert self.arakoon["n0"].store.get(b"k") == b"v"
        assert self.arakoon["n1"].store.txid == 0


class ConstructionTests(SynchronousTestCase):
    def test_count_names_nodes_n0_to_nminus1(self) -> None:
        assert cluster(4).names == ("n0", "n1", "n2", "n3")

    def test_invalid_settings_are_refused(self) -> None:
        with pytest.raises(ValueError):
            cluster([])
        with pytest.raises(ValueError):
            cluster(["a", "a"])
        with pytest.raises(ValueError):
            cluster(3, lag=-1)
        with pytest.raises(KeyError):
            cluster(3, master="x")

    def test_elect_refuses_a_dead_node(self) -> None:
        arakoon = cluster(3)
        arakoon.kill("n1")
        with pytest.raises(ValueError):
            arakoon.elect("n1")

    def test_default_clock_is_a_task_clock(self) -> None:
        arakoon = ArakoonCluster(3, master=None)
        arakoon.advance(1.0)
        assert arakoon.master == "n0"

    def test_ini_and_nodes_spec_need_ports(self) -> None:
        with pytest.raises(RuntimeError):
            cluster(2).ini()


class ReviveTests(SynchronousTestCase):
    def test_revive_clears_stall_and_going_down(self) -> None:
        arakoon = cluster(3)
        arakoon["n1"].stall()
        arakoon["n1"].going_down = True
        arakoon.kill("n1")
        arakoon.revive("n1")
        client = arakoon.connect_in_memory("n1").client
        answer = client.who_master()
        arakoon.flush()
        assert self.successResultOf(answer) == b"n0"
