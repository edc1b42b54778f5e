"""BlockingArakoonClient against the in-memory cluster served in another
process: discovery, redirection, the retry policy's verdicts, deadlines,
dirty reads, read-your-writes sessions and per-node commands, over real
loopback sockets."""

from __future__ import annotations

import threading

import pytest

from txarakoon import BlockingArakoonClient, ClusterConfig
from txarakoon.blocking import SocketClient
from txarakoon.consistency import AtLeast
from txarakoon.errors import (
    ConnectionLost,
    NoLongerMaster,
    NoMasterError,
    NotConnectedError,
    OutcomeUnknown,
    RequestNotProcessed,
    RequestTimeout,
)
from txarakoon.testing.control import ControlClient
from txarakoon.testing.process import ServeProcess

from .conftest import MakeClient


def _socket_client(served: ServeProcess, name: str) -> SocketClient:
    node = served.config().nodes[name]
    return SocketClient((node.hosts[0], node.port), served.config().cluster_id, timeout=15)


def _stored(served: ServeProcess, name: str, key: bytes) -> bytes:
    with _socket_client(served, name) as client:
        return client.get(key)


# -- discovery -------------------------------------------------------------------------


def test_a_write_goes_to_the_master_it_discovers(
    shared: ServeProcess, shared_control: ControlClient, shared_client: MakeClient
) -> None:
    client = shared_client()
    assert client.master is None
    client.set(b"discovered", b"v")
    assert client.master == shared_control.state()["master"] == "n0"
    assert client.get(b"discovered") == b"v"
    assert _stored(shared, "n0", b"discovered") == b"v"


def test_who_master_asks_the_cluster_not_the_cache(
    control: ControlClient, make_client: MakeClient
) -> None:
    client = make_client()
    client.set(b"k", b"v")
    control.elect("n2")
    assert client.master == "n0"
    assert client.who_master() == b"n2"
    assert client.master == "n2"


def test_a_not_master_reply_sends_the_write_to_the_new_master(
    served: ServeProcess, control: ControlClient, make_client: MakeClient
) -> None:
    client = make_client()
    client.set(b"before", b"1")
    control.elect("n1")
    client.set(b"after", b"2")
    assert client.master == "n1"
    assert _stored(served, "n1", b"after") == b"2"


def test_masters_named_but_dead_are_not_accepted_until_the_deadline(
    served_without_elections: ServeProcess,
) -> None:
    with served_without_elections.control() as control:
        control.kill("n0")  # the others name n0 for a lease, then no one
    config = served_without_elections.config()
    with BlockingArakoonClient(config, timeout=1.0) as client:
        with pytest.raises(NoMasterError) as raised:
            client.set(b"k", b"v")
        assert "n0" in str(raised.value)
        assert client.who_master() is None


def test_an_unreachable_cluster_raises_no_master_error_naming_the_refusals() -> None:
    config = ClusterConfig("arakoon", {"n0": (["127.0.0.1"], 1), "n1": (["127.0.0.1"], 2)})
    client = BlockingArakoonClient(config, timeout=0.5)
    with client, pytest.raises(NoMasterError, match="cannot connect to n0") as raised:
        client.get(b"k")
    assert raised.value.applied is False


def test_who_master_of_a_cluster_no_node_of_which_could_be_asked_says_why() -> None:
    config = ClusterConfig("arakoon", {"n0": (["127.0.0.1"], 1), "n1": (["127.0.0.1"], 2)})
    client = BlockingArakoonClient(config, timeout=0.5)
    with client, pytest.raises(NoMasterError, match="cannot connect to n0") as raised:
        client.who_master()
    assert raised.value.answered is False


def test_a_connection_the_master_closed_while_idle_is_replaced_before_a_write(
    shared_control: ControlClient, shared_client: MakeClient
) -> None:
    client = shared_client()
    client.set(b"idle", b"1")
    shared_control.drop_connections("n0")
    client.set(b"idle", b"2")  # not OutcomeUnknown: it was never written
    assert client.get(b"idle") == b"2"


def test_a_socket_client_says_an_idle_connection_closed_by_the_node_lost_nothing(
    shared: ServeProcess, shared_control: ControlClient
) -> None:
    with _socket_client(shared, "n0") as client:
        client.set(b"idle-socket", b"1")
        shared_control.drop_connections("n0")
        with pytest.raises(RequestNotProcessed, match="noticed before sending"):
            client.set(b"idle-socket", b"2")
        assert not client.connected


# -- the retry policy's verdicts ---------------------------------------------------------


def test_a_write_answered_no_longer_master_is_outcome_unknown_and_applied_once(
    control: ControlClient, make_client: MakeClient
) -> None:
    control.set_lease_renewals(False)  # the txid counts writes only
    client = make_client()
    client.set(b"k", b"0")
    before = client.get_txid()
    control.no_longer_master("n0", 1, True)
    with pytest.raises(OutcomeUnknown) as raised:
        client.set(b"k", b"1")
    assert isinstance(raised.value.reason, NoLongerMaster)
    assert client.get(b"k") == b"1"
    after = client.get_txid()
    assert isinstance(before, AtLeast) and isinstance(after, AtLeast)
    assert after.i == before.i + 1


def test_retry_idempotent_sends_a_set_of_unknown_outcome_again(
    shared_control: ControlClient, shared_client: MakeClient
) -> None:
    client = shared_client()
    client.set(b"idempotent", b"0")
    shared_control.no_longer_master("n0", 1, False)
    client.using(retry_idempotent=True).set(b"idempotent", b"v")
    assert client.get(b"idempotent") == b"v"


def test_retry_idempotent_leaves_a_delete_of_unknown_outcome_alone(
    shared_control: ControlClient, shared_client: MakeClient
) -> None:
    client = shared_client()
    client.set(b"deleted", b"v")
    shared_control.no_longer_master("n0", 1, True)
    with pytest.raises(OutcomeUnknown):
        client.using(retry_idempotent=True).delete(b"deleted")


def test_a_read_cut_by_the_masters_death_is_answered_by_the_new_master(
    served: ServeProcess, control: ControlClient, make_client: MakeClient
) -> None:
    client = make_client(timeout=20.0)
    client.set(b"k", b"v")
    client.set(b"other", b"x")  # a slave applies k once the next update is agreed
    control.stall("n0")  # the read waits, unanswered, on the master ...

    def kill() -> None:
        with served.control() as killer:
            killer.kill("n0")  # ... until the master dies under it

    killing = threading.Timer(0.3, kill)
    killing.start()
    try:
        assert client.get(b"k") == b"v"
    finally:
        killing.join()
    assert client.master in ("n1", "n2")


def test_the_deadline_of_a_write_sent_and_unanswered_is_outcome_unknown(
    control: ControlClient, make_client: MakeClient
) -> None:
    client = make_client()
    client.set(b"k", b"v")
    control.stall("n0")
    with pytest.raises(OutcomeUnknown) as raised:
        client.using(timeout=0.5).set(b"k", b"w")
    assert isinstance(raised.value.reason, RequestTimeout)


def test_the_deadline_of_a_read_unanswered_is_a_request_timeout(
    control: ControlClient, make_client: MakeClient
) -> None:
    client = make_client()
    client.set(b"k", b"v")
    control.stall("n0")
    with pytest.raises(RequestTimeout) as raised:
        client.using(timeout=0.5).get(b"k")
    assert not isinstance(raised.value, OutcomeUnknown)


def test_a_node_silent_past_silence_timeout_loses_the_connection(
    control: ControlClient, make_client: MakeClient
) -> None:
    client = make_client(silence_timeout=0.2)
    client.set(b"k", b"v")
    control.delay_replies("n0", 1.0)
    with pytest.raises(OutcomeUnknown) as raised:
        client.set(b"k", b"w")
    assert isinstance(raised.value.reason, ConnectionLost)
    assert "sent nothing for 0.2 s" in str(raised.value)


# -- dirty reads and sessions ------------------------------------------------------------


def test_a_dirty_read_is_answered_by_the_read_node_while_the_master_is_frozen(
    control: ControlClient, make_client: MakeClient
) -> None:
    client = make_client(read_node="n2")
    client.set(b"k", b"v")
    client.set(b"other", b"x")  # n2 applies k once the next update is agreed
    control.freeze("n0")
    assert client.using(timeout=2).get(b"k", allow_dirty=True) == b"v"
    control.thaw("n0")


def test_a_session_reads_its_own_write(shared_client: MakeClient) -> None:
    session = shared_client(read_node="n1").read_your_writes()
    assert session.txid is None
    session.set(b"session", b"v")
    assert isinstance(session.txid, AtLeast)
    assert session.get(b"session") == b"v"


# -- one node, closing -----------------------------------------------------------------


def test_node_sends_per_node_and_admin_commands_to_that_node(
    shared_client: MakeClient,
) -> None:
    client = shared_client()
    slave = client.node("n1")
    assert slave.who_master() == b"n0"
    assert b"n1" in client.node(b"n1").version()[3]
    slave.optimize_db()  # an admin command a slave accepts


def test_node_of_an_unknown_name_is_a_key_error(shared_client: MakeClient) -> None:
    with pytest.raises(KeyError, match="n9"):
        shared_client().node("n9")


def test_calls_after_close_raise_not_connected(shared: ServeProcess) -> None:
    with BlockingArakoonClient(shared.config()) as client:
        client.set(b"closing", b"v")
    assert not client.connected
    with pytest.raises(NotConnectedError, match="make a new BlockingArakoonClient"):
        client.get(b"closing")
    with pytest.raises(NotConnectedError):
        client.node("n0").version()
