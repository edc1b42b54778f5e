"""``txarakoon serve --control`` in a child process, driven through
ServeProcess and the blocking ControlClient, checked with a SocketClient:
a test failing over a cluster that another process serves."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from txarakoon.blocking import SocketClient
from txarakoon.config import ClusterConfig
from txarakoon.errors import NotMaster
from txarakoon.testing.control import ControlClient, ControlError
from txarakoon.testing.process import SERVING, Served, ServeProcess

#: Without the developer's own cluster settings, if any.
ENV = {name: value for name, value in os.environ.items() if not name.startswith("TXARAKOON_")}


@pytest.fixture
def served() -> Iterator[ServeProcess]:
    options = ("--count", "3", "--lease", "3", "--election-delay", "none", "--lag", "0")
    with ServeProcess.start(*options, env=ENV) as process:
        yield process


@pytest.fixture
def control(served: ServeProcess) -> Iterator[ControlClient]:
    with served.control(timeout=30) as client:
        yield client


def _client(served: ServeProcess, name: str) -> SocketClient:
    node = served.config().nodes[name]
    return SocketClient((node.hosts[0], node.port), served.config().cluster_id, timeout=30)


def test_the_serve_options_shape_the_served_cluster(control: ControlClient) -> None:
    state = control.state()
    assert list(state["nodes"]) == ["n0", "n1", "n2"]
    assert (state["lease_period"], state["election_delay"], state["lag"]) == (3.0, None, 0)


def test_kill_and_elect_fail_over_the_cluster_another_process_serves(
    served: ServeProcess, control: ControlClient
) -> None:
    with _client(served, "n1") as before:
        assert before.who_master() == b"n0"
    control.kill("n0")
    control.elect("n1")
    with _client(served, "n1") as client:
        assert client.who_master() == b"n1"
        client.set(b"after-failover", b"yes")
    with _client(served, "n2") as slave, pytest.raises(NotMaster):
        slave.set(b"k", b"v")
    assert control.state()["nodes"]["n0"]["role"] == "dead"


def test_a_killed_node_refuses_connections_until_revived(
    served: ServeProcess, control: ControlClient
) -> None:
    control.kill("n2")
    with pytest.raises(ConnectionRefusedError):
        _client(served, "n2").connect()
    control.revive("n2")
    with _client(served, "n2") as client:
        assert client.who_master() == b"n0"


def test_an_error_from_the_channel_is_a_control_error(control: ControlClient) -> None:
    with pytest.raises(ControlError, match=r"^kill NODE: no node 'n9' in \['n0', 'n1', 'n2'\]$"):
        control.kill("n9")
    assert control.state()["master"] == "n0"


def test_a_serve_that_cannot_start_says_why() -> None:
    with pytest.raises(RuntimeError, match="exited with code 2: txarakoon: argument --lease"):
        ServeProcess.start("--lease", "0", env=ENV)


# -- what serve prints -------------------------------------------------------------

SPEC = "arakoon@n0=127.0.0.1:4000,n1=127.0.0.1:4001"
INI = ClusterConfig.from_spec(SPEC).to_ini()


def test_what_serve_prints_is_the_ini_then_the_export_lines() -> None:
    text = Served(INI, SPEC, "127.0.0.1:7000").text()
    assert text == (
        f"{INI}\n"
        f"export TXARAKOON_NODES={SPEC}\n"
        "export TXARAKOON_CONTROL=127.0.0.1:7000\n"
        "# serving; interrupt (Ctrl-C) to stop\n"
    )


def test_without_a_control_channel_serve_prints_no_control_line() -> None:
    assert "TXARAKOON_CONTROL" not in Served(INI, SPEC).text()


@pytest.mark.parametrize("control", [None, "127.0.0.1:7000"])
def test_what_serve_prints_reads_back(control: str | None) -> None:
    spec = "my cluster@n0=127.0.0.1:4000"
    served = Served(ClusterConfig.from_spec(spec).to_ini(), spec, control)
    assert Served.parse(served.text()) == served
    assert ClusterConfig.from_ini(served.ini).to_spec() == spec


def test_text_that_is_not_what_serve_prints_is_refused() -> None:
    with pytest.raises(ValueError, match="no '# serving"):
        Served.parse(INI)
    with pytest.raises(ValueError, match="no TXARAKOON_NODES line"):
        Served.parse(f"{SERVING}\n")
