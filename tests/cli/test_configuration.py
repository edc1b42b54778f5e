"""Which cluster the command line talks to, and what it says when it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import CLI
from txarakoon.testing.trial import memory_config


@pytest.mark.arakoon(1)
def test_an_unreachable_cluster_exits_3_for_who_master_and_3_or_4_for_get(cli: CLI) -> None:
    result = cli.bare("who-master", "--nodes", "arakoon@n0=127.0.0.1:1", "--timeout", "5")
    assert result.code == 3  # no node answers: no master
    result = cli.bare("get", "k", "--nodes", "arakoon@n0=127.0.0.1:1", "--timeout", "5")
    assert result.code in (3, 4)
    assert result.err.startswith("txarakoon: ")


def test_bad_configuration_exits_8(cli: CLI) -> None:
    result = cli.bare("get", "k", "--nodes", "nonsense")
    assert result.code == 8
    assert "bad configuration" in result.err


def test_the_environment_names_the_cluster(cli: CLI) -> None:
    cli.ok("set", "cli/env", "x")
    result = cli.bare("get", "cli/env", environ={"TXARAKOON_NODES": cli.spec})
    assert (result.code, result.out) == (0, "x\n")


def test_an_explicit_config_wins_over_the_environment(cli: CLI, tmp_path: Path) -> None:
    ini = tmp_path / "cluster.ini"
    ini.write_text(memory_config(cli.cluster).to_ini())
    result = cli.bare(
        "who-master", "--config", str(ini), environ={"TXARAKOON_NODES": "arakoon@n0=127.0.0.1:1"}
    )
    assert result.code == 0, result.err
    assert result.out == "n0\n"


def test_without_a_cluster_the_message_names_the_environment_variable(cli: CLI) -> None:
    result = cli.bare("get", "k")
    assert result.code == 8
    assert result.err == (
        "txarakoon: bad configuration: no cluster: give --config FILE.ini or "
        "--nodes CLUSTER@name=host:port,..., or set TXARAKOON_NODES\n"
    )


def test_the_test_suites_variable_is_pointed_out_when_it_alone_is_set(cli: CLI) -> None:
    result = cli.bare("get", "k", environ={"TXARAKOON_TEST_NODES": cli.spec})
    assert result.code == 8
    assert "TXARAKOON_TEST_NODES is the test suite's" in result.err


def test_a_bad_environment_variable_is_named_in_the_message(cli: CLI) -> None:
    result = cli.bare("get", "k", environ={"TXARAKOON_NODES": "nonsense"})
    assert result.code == 8
    assert result.err.startswith("txarakoon: bad configuration: TXARAKOON_NODES: ")


def test_serve_counts_nodes_with_count_not_nodes(cli: CLI) -> None:
    result = cli.bare("serve", "--nodes", "3")
    assert result.code == 2
    assert "--count" in result.err


@pytest.mark.arakoon(3)
def test_who_master_says_why_each_node_could_not_be_asked(cli: CLI) -> None:
    spec = "arakoon@n0=127.0.0.1:1,n1=127.0.0.1:2"
    result = cli.bare("who-master", "--nodes", spec, "--timeout", "5")
    assert result.code == 3
    assert result.out == ""
    assert result.err.count("\n") == 1, result.err
    assert "no node could be confirmed as master, nor even asked" in result.err
    assert "n0: cannot connect to n0 (127.0.0.1:1" in result.err
    assert "n1: cannot connect to n1 (127.0.0.1:2" in result.err


@pytest.mark.arakoon(3)
def test_who_master_with_a_wrong_cluster_id_exits_8_saying_to_check_it(cli: CLI) -> None:
    spec = cli.spec.replace("arakoon@", "other@", 1)
    result = cli.bare("who-master", "--nodes", spec)
    assert result.code == 8, result.err
    assert result.err.count("\n") == 1, result.err
    assert result.err.count("check the cluster id") == 3
