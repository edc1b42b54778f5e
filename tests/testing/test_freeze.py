"""``ArakoonCluster.freeze`` / ``thaw``: a node stopped like a paused process
(SIGSTOP, SIGCONT) answers nothing and renews no lease, so the others elect
after the lease; thawed, it answers what it owes as the slave it has become.
Driven with task.Clock and ArakoonProtocol in memory."""

from __future__ import annotations

from typing import Any, TypeVar

import pytest
from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from txarakoon.errors import NotMaster, RequestNotProcessed
from txarakoon.protocol import ArakoonProtocol
from txarakoon.testing import ArakoonCluster

from . import cluster

T = TypeVar("T")


class FreezeTests(SynchronousTestCase):
    def setUp(self) -> None:
        # A 10 s lease; elections 1 s after the lease ran out.
        self.arakoon: ArakoonCluster = cluster(3)

    def client(self, name: str) -> ArakoonProtocol:
        return self.arakoon.connect_in_memory(name).client

    def value(self, deferred: Deferred[T]) -> T:
        self.arakoon.flush()
        return self.successResultOf(deferred)

    def error(self, deferred: Deferred[Any], kind: type[BaseException]) -> Any:
        self.arakoon.flush()
        return self.failureResultOf(deferred, kind).value  # type: ignore[no-untyped-call]

    def pending(self, deferred: Deferred[Any]) -> None:
        self.arakoon.flush()
        self.assertNoResult(deferred)  # type: ignore[no-untyped-call]

    def fail_over(self) -> None:
        """Freeze the master n0 and let n1 take over."""
        self.arakoon.freeze("n0")
        self.arakoon.advance(10.0)
        self.arakoon.advance(1.0)
        assert self.arakoon.master == "n1"

    def test_a_frozen_node_answers_nothing_and_keeps_its_connections(self) -> None:
        connection = self.arakoon.connect_in_memory("n2")
        self.arakoon.freeze("n2")
        asked = connection.client.who_master()
        self.arakoon.advance(100.0)
        self.pending(asked)
        assert connection.client.connected and not connection.disconnected
        assert self.arakoon["n2"].connections == [connection.server]

    def test_a_frozen_node_accepts_connections_and_reads_nothing_on_them(self) -> None:
        self.arakoon.freeze("n2")
        late = self.client("n2")
        asked = late.who_master()
        self.pending(asked)
        self.arakoon.thaw("n2")
        assert self.value(asked) == b"n0"

    def test_a_frozen_master_is_named_until_its_lease_expires_then_replaced(self) -> None:
        self.arakoon.freeze("n0")
        self.arakoon.advance(9.9)
        assert self.value(self.client("n1").who_master()) == b"n0"
        self.arakoon.advance(0.1)
        assert self.value(self.client("n1").who_master()) is None
        self.arakoon.advance(1.0)
        assert self.arakoon.master == "n1"

    def test_a_frozen_master_renews_no_lease(self) -> None:
        self.arakoon.freeze("n0")
        self.arakoon.advance(9.9)
        assert self.arakoon.txid == 0

    def test_a_thawed_old_master_answers_the_writes_it_held_with_not_master(self) -> None:
        master = self.client("n0")
        self.arakoon.freeze("n0")
        written, behind = master.set(b"k", b"v"), master.get(b"k")
        self.fail_over()
        self.pending(written)
        self.arakoon.thaw("n0")
        error = self.error(written, NotMaster)
        assert error.message == b"n1"
        self.error(behind, RequestNotProcessed)
        assert b"k" not in self.arakoon.store
        assert not master.connected

    def test_a_thawed_old_master_answers_dirty_reads_it_held(self) -> None:
        self.arakoon.seed({b"k": b"v"})
        master = self.client("n0")
        self.arakoon.freeze("n0")
        asked, got = master.who_master(), master.get(b"k", allow_dirty=True)
        self.fail_over()
        self.arakoon.thaw("n0")
        assert self.value(asked) == b"n1"
        assert self.value(got) == b"v"

    def test_replies_computed_before_the_freeze_are_written_on_thaw(self) -> None:
        self.arakoon["n0"].delay_replies(1.0)
        written = self.client("n0").set(b"k", b"v")
        self.arakoon.flush()
        self.arakoon.freeze("n0")
        self.arakoon.advance(5.0)
        self.pending(written)
        self.arakoon.thaw("n0")
        assert self.value(written) is None

    def test_a_master_thawed_within_its_lease_stays_master_and_renews_again(self) -> None:
        self.arakoon.freeze("n0")
        self.arakoon.advance(9.0)
        self.arakoon.thaw("n0")
        self.arakoon.advance(20.0)
        assert self.arakoon.master == "n0"
        assert self.arakoon.txid == 4
        self.value(self.client("n0").set(b"k", b"v"))

    def test_a_thawed_node_catches_up_and_rejoins_as_a_slave(self) -> None:
        self.arakoon.freeze("n2")
        self.arakoon.seed({b"k": b"v"})
        self.arakoon.seed({})
        assert self.arakoon["n2"].store.txid == 0
        self.arakoon.thaw("n2")
        assert self.arakoon["n2"].store.get(b"k") == b"v"
        assert self.value(self.client("n2").get_current_state()) == b"Slave_steady_state"

    def test_two_frozen_slaves_leave_the_master_holding_writes(self) -> None:
        self.arakoon.freeze("n1")
        self.arakoon.freeze("n2")
        written = self.client("n0").set(b"k", b"v")
        self.pending(written)
        self.arakoon.thaw("n1")
        assert self.value(written) is None

    def test_a_frozen_node_cannot_be_elected(self) -> None:
        self.arakoon.freeze("n1")
        with pytest.raises(ValueError):
            self.arakoon.elect("n1")

    def test_an_election_passes_over_a_frozen_node(self) -> None:
        self.arakoon.freeze("n1")
        self.arakoon.drop_master()
        self.arakoon.advance(1.0)
        assert self.arakoon.master == "n2"

    def test_a_dead_node_cannot_be_frozen(self) -> None:
        self.arakoon.kill("n1")
        with pytest.raises(ValueError):
            self.arakoon.freeze("n1")

    def test_a_revived_node_is_no_longer_frozen(self) -> None:
        self.arakoon.freeze("n2")
        self.arakoon.kill("n2")
        self.arakoon.revive("n2")
        assert not self.arakoon["n2"].frozen
        assert self.value(self.client("n2").who_master()) == b"n0"

    def test_unstall_does_not_thaw(self) -> None:
        self.arakoon.freeze("n2")
        asked = self.client("n2").who_master()
        self.arakoon["n2"].unstall()
        self.pending(asked)
        assert self.arakoon["n2"].frozen
