"""The in-memory cluster over time (PROTOCOL.md D24, D27, D31): lease renewals
are updates computed when observed, a new master dictates for ``settle_time``,
and the ``drop_master`` command only stops renewing the lease. Driven with
task.Clock and ArakoonProtocol in memory."""

from __future__ import annotations

from typing import Any, TypeVar

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txarakoon.consistency import AtLeast
from txarakoon.errors import NotMaster
from txarakoon.protocol import ArakoonProtocol
from txarakoon.testing import ArakoonCluster

from . import clock_of, cluster

T = TypeVar("T")


class _TimeTest(SynchronousTestCase):
    def setUp(self) -> None:
        # The defaults: a 10 s lease, renewed every 5 s; elections after 1 s.
        self.arakoon: ArakoonCluster = cluster(3)

    def client(self, name: str) -> ArakoonProtocol:
        return self.arakoon.connect_in_memory(name).client

    def value(self, deferred: Deferred[T]) -> T:
        self.arakoon.flush()
        return self.successResultOf(deferred)

    def error(self, deferred: Deferred[Any], kind: type[BaseException]) -> Any:
        self.arakoon.flush()
        return self.failureResultOf(deferred, kind).value  # type: ignore[no-untyped-call]


class RenewalTests(_TimeTest):
    def test_the_master_renews_its_lease_every_half_lease_with_an_update(self) -> None:
        self.arakoon.advance(4.9)
        assert self.arakoon.txid == 0
        self.arakoon.advance(0.1)
        assert self.arakoon.txid == 1
        self.arakoon.advance(10.0)
        assert self.arakoon.txid == 3

    def test_an_idle_cluster_schedules_nothing(self) -> None:
        self.arakoon.advance(100.0)
        assert clock_of(self.arakoon).getDelayedCalls() == []
        assert self.arakoon.txid == 20

    def test_get_txid_on_the_master_sees_the_renewals(self) -> None:
        master = self.client("n0")
        self.arakoon.advance(12.0)
        assert self.value(master.get_txid()) == AtLeast(2)

    def test_a_renewal_lets_a_lagging_slave_apply_the_last_write(self) -> None:
        self.value(self.client("n0").set(b"k", b"v"))
        slave = self.client("n1")
        assert self.value(slave.get_txid()) == AtLeast(0)
        self.arakoon.advance(5.0)
        assert self.value(slave.get(b"k", consistency=AtLeast(1))) == b"v"
        assert self.arakoon["n1"].store.txid == 1

    def test_renewals_and_writes_take_numbers_in_time_order(self) -> None:
        master = self.client("n0")
        self.arakoon.advance(7.0)
        self.value(master.set(b"k", b"v"))
        assert self.value(master.get_txid()) == AtLeast(2)
        self.arakoon.advance(3.0)
        assert self.arakoon["n2"].store.get(b"k") == b"v"

    def test_without_lease_renewals_the_txid_counts_writes(self) -> None:
        quiet = cluster(3, lease_renewals=False)
        quiet.advance(100.0)
        assert quiet.txid == 0 and quiet.lease_renewals is False

    def test_turning_renewals_off_stops_them_from_now(self) -> None:
        self.arakoon.advance(5.0)
        self.arakoon.lease_renewals = False
        self.arakoon.advance(100.0)
        assert self.arakoon.txid == 1

    def test_a_single_node_renews_its_lease_too(self) -> None:
        single = cluster(1)
        single.advance(10.0)
        assert single.txid == 2

    def test_a_master_without_majority_renews_nothing(self) -> None:
        self.arakoon.kill("n1")
        self.arakoon.kill("n2")
        self.arakoon.advance(9.0)
        assert self.arakoon.txid == 0

    def test_a_master_with_its_majority_back_renews_from_then_on(self) -> None:
        self.arakoon.kill("n1")
        self.arakoon.kill("n2")
        self.arakoon.advance(9.0)
        self.arakoon.revive("n1")
        self.arakoon.advance(4.9)
        assert self.arakoon.txid == 0
        self.arakoon.advance(0.1)
        assert self.arakoon.txid == 1

    def test_a_new_master_renews_half_a_lease_after_its_election(self) -> None:
        self.arakoon.advance(4.0)
        self.arakoon.elect("n1")
        self.arakoon.advance(4.9)
        assert self.arakoon.txid == 0
        self.arakoon.advance(0.1)
        assert self.arakoon.txid == 1

    def test_a_cluster_that_starts_listening_keeps_its_lease_schedule(self) -> None:
        arakoon = ArakoonCluster(3)  # on a Clock of its own until it listens
        arakoon.advance(4.0)
        reactor = MemoryReactorClock()
        reactor.advance(1_000_000.0)
        arakoon.listen(reactor)
        assert arakoon.txid == 0
        reactor.advance(1.0)
        assert arakoon.txid == 1
        arakoon.stop()

    def test_a_lease_period_that_is_not_positive_is_refused(self) -> None:
        with pytest.raises(ValueError):
            cluster(3, lease_period=0)
        with pytest.raises(ValueError):
            self.arakoon.lease_period = -1.0


class SettleTests(_TimeTest):
    def test_the_master_a_cluster_starts_with_has_settled(self) -> None:
        assert self.value(self.client("n0").get_current_state()) == b"Stable_master"
        assert self.value(self.client("n1").expect_progress_possible()) is True

    def test_a_new_master_dictates_for_the_settle_time(self) -> None:
        self.arakoon.elect("n1")
        assert self.value(self.client("n1").get_current_state()) == b"Master_dictate"
        self.arakoon.advance(0.4)
        assert self.value(self.client("n1").get_current_state()) == b"Master_dictate"
        self.arakoon.advance(0.1)
        assert self.value(self.client("n1").get_current_state()) == b"Stable_master"

    def test_slaves_expect_no_progress_while_the_new_master_dictates(self) -> None:
        self.arakoon.elect("n1")
        assert self.value(self.client("n0").expect_progress_possible()) is False
        assert self.value(self.client("n1").expect_progress_possible()) is True
        self.arakoon.advance(0.5)
        assert self.value(self.client("n0").expect_progress_possible()) is True

    def test_an_automatic_election_settles_too(self) -> None:
        self.arakoon.drop_master()
        self.arakoon.advance(1.0)
        assert self.value(self.client("n1").get_current_state()) == b"Master_dictate"

    def test_settle_time_is_a_parameter(self) -> None:
        slow = cluster(3, settle_time=2.0)
        slow.elect("n2")
        slow.advance(1.9)
        assert slow.settling()
        slow.advance(0.1)
        assert not slow.settling()
        with pytest.raises(ValueError):
            cluster(3, settle_time=-1.0)


class DropMasterCommandTests(_TimeTest):
    def test_the_dropping_master_keeps_committing_writes_and_names_itself(self) -> None:
        master = self.client("n0")
        done = master.drop_master()
        writer = self.client("n0")
        self.arakoon.advance(9.0)
        self.value(writer.set(b"k", b"v"))
        assert self.value(self.client("n2").who_master()) == b"n0"
        self.arakoon.advance(1.0)  # the lease runs out
        self.arakoon.advance(1.0)  # the election
        assert self.arakoon.master == "n1"
        assert self.value(self.client("n1").get(b"k")) == b"v"
        self.assertNoResult(done)  # type: ignore[no-untyped-call]

    def test_the_dropping_master_renews_nothing(self) -> None:
        self.client("n0").drop_master()
        self.arakoon.advance(9.9)
        assert self.arakoon.txid == 0

    def test_between_the_lease_and_the_election_writes_get_not_master_none(self) -> None:
        self.client("n0").drop_master()
        self.arakoon.advance(10.0)
        error = self.error(self.client("n0").set(b"k", b"v"), NotMaster)
        assert error.message == b"None"
        assert self.value(self.client("n2").who_master()) is None

    def test_without_election_delay_it_answers_half_a_lease_after_elect(self) -> None:
        self.arakoon.election_delay = None
        done = self.client("n0").drop_master()
        self.arakoon.advance(60.0)
        self.assertNoResult(done)  # type: ignore[no-untyped-call]
        self.arakoon.elect("n2")
        self.arakoon.advance(5.0)
        self.value(done)

    def test_the_control_drop_master_stays_instant(self) -> None:
        done = self.client("n0").drop_master()
        self.arakoon.flush()
        self.arakoon.drop_master()
        assert self.arakoon.master is None
        self.arakoon.advance(1.0)
        assert self.arakoon.master == "n1"
        self.arakoon.advance(5.0)
        self.value(done)
