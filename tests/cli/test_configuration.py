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
