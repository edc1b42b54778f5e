"""The control channel's line protocol, on a StringTransport: each request
line runs one control of an in-memory cluster and gets one reply line."""

from __future__ import annotations

import json
from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from txarakoon.errors import NoLongerMaster
from txarakoon.testing import ArakoonCluster
from txarakoon.testing.channel import (
    CONTROLS,
    NODE,
    Control,
    ControlChannel,
    ControlChannelFactory,
)
from txarakoon.testing.control import Controls
from txarakoon.testing.control_grammar import MAX_LINE
from txarakoon.testing.drive import resolve


class Channel:
    """A channel connection to ``cluster``, spoken to line by line."""

    def __init__(self, cluster: ArakoonCluster, controls: Any = CONTROLS) -> None:
        self.transport = StringTransport()
        self.protocol: ControlChannel = ControlChannelFactory(cluster, controls).buildProtocol(None)
        self.protocol.makeConnection(self.transport)

    def send(self, data: bytes) -> list[str]:
        """The reply lines written after ``data`` arrived."""
        self.transport.clear()
        self.protocol.dataReceived(data)
        return self.transport.value().decode("utf-8").splitlines()

    def __call__(self, *lines: str) -> list[str]:
        return self.send(b"".join(line.encode("utf-8") + b"\n" for line in lines))


@pytest.fixture
def cluster() -> ArakoonCluster:
    return ArakoonCluster(3, clock=Clock())


@pytest.fixture
def channel(cluster: ArakoonCluster) -> Channel:
    return Channel(cluster)


def test_kill_kills_the_node(cluster: ArakoonCluster, channel: Channel) -> None:
    assert channel("kill n1") == ["ok"]
    assert not cluster["n1"].alive


def test_revive_brings_a_killed_node_back(cluster: ArakoonCluster, channel: Channel) -> None:
    cluster.kill("n1")
    assert channel("revive n1") == ["ok"]
    assert cluster["n1"].alive


def test_elect_makes_the_node_master(cluster: ArakoonCluster, channel: Channel) -> None:
    assert channel("elect n2") == ["ok"]
    assert cluster.master == "n2"


def test_drop_master_leaves_the_cluster_without_master(
    cluster: ArakoonCluster, channel: Channel
) -> None:
    assert channel("drop_master") == ["ok"]
    assert cluster.master is None


def test_catch_up_lets_the_slaves_apply_every_update(
    cluster: ArakoonCluster, channel: Channel
) -> None:
    cluster.seed({"k": "v"})
    assert cluster["n1"].store.txid < cluster.txid
    assert channel("catch_up") == ["ok"]
    assert cluster["n1"].store.txid == cluster.txid


def test_lag_lease_period_and_election_delay_set_the_clusters_own(
    cluster: ArakoonCluster, channel: Channel
) -> None:
    assert channel("lag 0", "lease_period 2.5", "election_delay none") == ["ok"] * 3
    assert (cluster.lag, cluster.lease_period, cluster.election_delay) == (0, 2.5, None)
    assert channel("election_delay 0.25") == ["ok"]
    assert cluster.election_delay == 0.25


def test_no_longer_master_arms_that_answer_for_the_next_writes(
    cluster: ArakoonCluster, channel: Channel
) -> None:
    assert channel("no_longer_master n0 1 false") == ["ok"]
    client = cluster.connect_in_memory().client
    with pytest.raises(NoLongerMaster):
        resolve(cluster, client.set(b"k", b"v"))
    assert cluster.txid == 0


def test_delay_replies_delays_the_nodes_replies(cluster: ArakoonCluster, channel: Channel) -> None:
    assert channel("delay_replies n1 1.5") == ["ok"]
    assert cluster["n1"].reply_delay == 1.5


def test_stall_holds_the_node_and_unstall_releases_it(
    cluster: ArakoonCluster, channel: Channel
) -> None:
    assert channel("stall n1") == ["ok"]
    assert cluster["n1"].stalled
    assert channel("unstall n1") == ["ok"]
    assert not cluster["n1"].stalled


def test_freeze_pauses_the_node_and_thaw_resumes_it(
    cluster: ArakoonCluster, channel: Channel
) -> None:
    assert channel("freeze n1") == ["ok"]
    assert cluster["n1"].frozen
    assert channel("thaw n1") == ["ok"]
    assert not cluster["n1"].frozen


def test_lease_renewals_and_settle_time_set_the_clusters_own(
    cluster: ArakoonCluster, channel: Channel
) -> None:
    assert channel("lease_renewals false", "settle_time 2") == ["ok", "ok"]
    assert (cluster.lease_renewals, cluster.settle_time) == (False, 2.0)


def test_cut_connections_after_arms_and_none_disarms(
    cluster: ArakoonCluster, channel: Channel
) -> None:
    assert channel("cut_connections_after n1 7") == ["ok"]
    assert cluster["n1"].cut_after == 7
    assert channel("cut_connections_after n1 none") == ["ok"]
    assert cluster["n1"].cut_after is None


def test_drop_connections_cuts_the_nodes_open_connections(
    cluster: ArakoonCluster, channel: Channel
) -> None:
    cluster.connect_in_memory("n0")
    cluster.flush()
    assert cluster["n0"].connections
    assert channel("drop_connections n0") == ["ok"]
    cluster.flush()
    assert cluster["n0"].connections == []


def test_going_down_and_max_connections_set_the_nodes_own(
    cluster: ArakoonCluster, channel: Channel
) -> None:
    assert channel("going_down n1 true", "max_connections n2 4") == ["ok", "ok"]
    assert cluster["n1"].going_down
    assert cluster["n2"].max_connections == 4
    assert channel("going_down n1 false", "max_connections n2 none") == ["ok", "ok"]
    assert (cluster["n1"].going_down, cluster["n2"].max_connections) == (False, None)


def test_state_answers_the_cluster_as_json(cluster: ArakoonCluster, channel: Channel) -> None:
    cluster.kill("n0")
    cluster.elect("n1")
    (reply,) = channel("state")
    word, _, text = reply.partition(" ")
    state = json.loads(text)
    assert word == "ok"
    assert (state["master"], state["who_master"], state["txid"], state["lag"]) == (
        "n1",
        "n1",
        0,
        1,
    )
    assert (state["lease_period"], state["election_delay"]) == (10.0, 1.0)
    assert [node["role"] for node in state["nodes"].values()] == ["dead", "master", "slave"]
    assert state["nodes"]["n2"] == {
        "alive": True,
        "role": "slave",
        "txid": 0,
        "address": None,
        "stalled": False,
        "reply_delay": 0.0,
        "cut_after": None,
        "going_down": False,
        "max_connections": None,
    }


def test_a_carriage_return_before_the_newline_is_ignored(
    cluster: ArakoonCluster, channel: Channel
) -> None:
    assert channel.send(b"elect n2\r\n") == ["ok"]
    assert cluster.master == "n2"


def test_an_unknown_command_is_an_error_naming_the_commands(channel: Channel) -> None:
    (reply,) = channel("frobnicate n1")
    assert reply.startswith("error unknown command 'frobnicate' (commands: state, kill, ")


def test_a_wrong_number_of_arguments_is_an_error_with_the_usage(channel: Channel) -> None:
    assert channel("kill", "kill n1 n2") == ["error usage: kill NODE"] * 2
    assert channel("no_longer_master") == ["error usage: no_longer_master NODE [COUNT] [BOOL]"]


def test_an_unknown_node_is_an_error_naming_the_nodes(
    cluster: ArakoonCluster, channel: Channel
) -> None:
    assert channel("kill n9") == ["error kill NODE: no node 'n9' in ['n0', 'n1', 'n2']"]
    assert all(node.alive for node in cluster)


@pytest.mark.parametrize(
    ("request_line", "reply"),
    [
        ("lag -1", "error lag N: must be a whole number, 0 or more, not '-1'"),
        (
            "lease_period 0",
            "error lease_period SECONDS: must be a positive number of seconds, not '0'",
        ),
        (
            "delay_replies n1 soon",
            "error delay_replies SECONDS: must be a number of seconds, 0 or more, not 'soon'",
        ),
        ("going_down n1 yes", "error going_down BOOL: must be true or false, not 'yes'"),
        (
            "election_delay inf",
            "error election_delay SECONDS|none: must be a number of seconds, 0 or more, not 'inf'",
        ),
    ],
)
def test_a_bad_argument_is_an_error_saying_what_it_must_be(
    channel: Channel, request_line: str, reply: str
) -> None:
    assert channel(request_line) == [reply]


def test_an_empty_line_and_a_line_not_utf8_are_errors(channel: Channel) -> None:
    assert channel.send(b"\n\xff\n") == [
        "error empty request: give a command",
        "error a request is UTF-8 text",
    ]


def test_the_connection_stays_open_after_an_error(
    cluster: ArakoonCluster, channel: Channel
) -> None:
    assert channel("bogus", "elect n1") == [channel("bogus")[0], "ok"]
    assert not channel.transport.disconnecting


def test_a_control_that_raises_answers_its_message() -> None:
    def refuse(cluster: ArakoonCluster) -> None:
        raise ValueError("not now")

    channel = Channel(ArakoonCluster(1, clock=Clock()), {"refuse": Control("refuse", (), refuse)})
    assert channel("refuse") == ["error not now"]


def test_a_reply_given_later_holds_back_the_replies_behind_it() -> None:
    later: Deferred[str] = Deferred()
    controls = {
        "wait": Control("wait", (), lambda cluster: later),
        "elect": CONTROLS["elect"],
    }
    cluster = ArakoonCluster(3, clock=Clock())
    channel = Channel(cluster, controls)
    assert channel("wait", "elect n2") == []
    assert cluster.master == "n0"
    later.callback("done")
    assert channel.transport.value().decode().splitlines() == ["ok done", "ok"]
    assert cluster.master == "n2"


def test_a_request_longer_than_the_limit_is_refused_and_the_connection_closed(
    channel: Channel,
) -> None:
    (reply,) = channel.send(b"x" * (MAX_LINE + 1))
    assert reply == f"error a request is at most {MAX_LINE} bytes"
    assert channel.transport.disconnecting


def test_a_new_control_is_one_entry_of_the_table(cluster: ArakoonCluster) -> None:
    def rename(cluster: ArakoonCluster, name: str) -> str:
        return name.upper()

    controls = {**CONTROLS, "shout": Control("shout", (NODE,), rename)}
    assert Channel(cluster, controls)("shout n1") == ["ok N1"]


class _Recorder(Controls[str]):
    """Sends each typed method's request to the channel, as a client would."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def call(self, command: str, *arguments: object) -> str:
        from txarakoon.testing.control_grammar import encode_request

        (reply,) = self.channel.send(encode_request(command, *arguments))
        return reply


def test_every_client_method_sends_a_request_the_channel_accepts(
    cluster: ArakoonCluster, channel: Channel
) -> None:
    client = _Recorder(channel)
    replies = [
        client.set_lag(0),
        client.set_lease_period(3.0),
        client.set_election_delay(None),
        client.set_election_delay(0.5),
        client.no_longer_master("n0", 2, False),
        client.delay_replies("n1", 0.5),
        client.stall("n1"),
        client.unstall("n1"),
        client.freeze("n1"),
        client.thaw("n1"),
        client.set_lease_renewals(False),
        client.set_settle_time(1.0),
        client.cut_connections_after("n1", 10),
        client.cut_connections_after("n1", None),
        client.drop_connections("n1"),
        client.set_going_down("n1", True),
        client.set_max_connections("n1", 3),
        client.set_max_connections("n1", None),
        client.hold_replies("n1", "set"),
        client.hold_replies("n1", "sequence", False, 2, "counter"),
        client.release("n1"),
        client.catch_up(),
        client.drop_master(),
        client.elect("n2"),
        client.kill("n0"),
        client.revive("n0"),
    ]
    assert replies == ["ok"] * len(replies)
    assert client.call("state").startswith("ok {")


def test_hold_replies_holds_the_next_write_until_release(
    cluster: ArakoonCluster, channel: Channel
) -> None:
    client = cluster.connect_in_memory("n0").client
    assert channel("hold_replies n0 set") == ["ok"]
    written = client.set(b"k", b"v")
    cluster.flush()
    assert not written.called
    assert cluster["n0"].store.get(b"k") == b"v"  # applied: only the reply waits
    assert channel("held n0", "release n0") == ["ok 1", "ok"]
    cluster.flush()
    assert written.called


def test_hold_replies_of_a_key_catches_only_the_requests_about_it(
    cluster: ArakoonCluster, channel: Channel
) -> None:
    client = cluster.connect_in_memory("n0").client
    assert channel("hold_replies n0 set false 1 b") == ["ok"]
    first, second = client.set(b"a", b"1"), client.set(b"b", b"2")
    cluster.flush()
    assert first.called and not second.called
    assert cluster["n0"].store.get(b"b") is None  # held unexecuted


def test_held_answers_once_the_hold_caught_its_request(
    cluster: ArakoonCluster, channel: Channel
) -> None:
    client = cluster.connect_in_memory("n0").client
    channel("hold_replies n0 set")
    assert channel("held n0") == []
    client.set(b"k", b"v")
    cluster.flush()
    assert channel.transport.value() == b"ok 1\n"


def test_held_on_a_node_that_holds_nothing_is_an_error(channel: Channel) -> None:
    assert channel("held n1") == ["error n1 holds nothing (hold_replies first)"]


def test_hold_replies_names_a_command(channel: Channel) -> None:
    (reply,) = channel("hold_replies n0 frobnicate")
    assert reply.startswith("error hold_replies COMMAND: no command 'frobnicate'")
