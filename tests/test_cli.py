"""The command line, end to end: ``txarakoon serve`` in one process, commands in
others (each command runs its own reactor, so each needs a process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

PYTHON = sys.executable
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="module")
def nodes() -> Iterator[str]:
    server = subprocess.Popen(
        [PYTHON, "-m", "txarakoon", "serve", "--nodes", "3"],
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert server.stdout is not None
    spec = None
    for line in server.stdout:
        if line.startswith("# TXARAKOON_TEST_NODES="):
            spec = line.split("=", 1)[1].strip()
            break
    try:
        assert spec is not None, "serve printed no node spec"
        yield spec
    finally:
        server.terminate()
        server.wait(timeout=10)


def cli(nodes: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "txarakoon", *args, "--nodes", nodes, "--timeout", "5"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )


def out(nodes: str, *args: str) -> str:
    result = cli(nodes, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def as_json(nodes: str, *args: str) -> Any:
    return json.loads(out(nodes, *args, "--json"))


def test_set_then_get_prints_the_value(nodes: str) -> None:
    out(nodes, "set", "cli/a", "apple")
    assert out(nodes, "get", "cli/a") == "apple\n"


def test_hex_keys_and_values_round_trip(nodes: str) -> None:
    out(nodes, "set", "--hex", "00ff", "c3a9")
    assert out(nodes, "get", "--hex", "00ff") == "c3a9\n"
    assert out(nodes, "get", "--hex", "00ff", "--json") == '"c3a9"\n'


def test_missing_key_exits_1_with_a_message(nodes: str) -> None:
    result = cli(nodes, "get", "cli/missing")
    assert result.returncode == 1
    assert "not found" in result.stderr


def test_exists_answers_through_its_exit_code(nodes: str) -> None:
    out(nodes, "set", "cli/e", "1")
    assert cli(nodes, "exists", "cli/e").returncode == 0
    assert cli(nodes, "exists", "cli/nope").returncode == 1


def test_range_prefix_and_delete_prefix(nodes: str) -> None:
    for key in ("cli/r/1", "cli/r/2", "cli/r/3"):
        out(nodes, "set", key, "v" + key[-1])
    assert as_json(nodes, "range", "--begin", "cli/r/", "--end", "cli/r/3") == [
        "cli/r/1",
        "cli/r/2",
    ]
    entries = as_json(nodes, "range", "--begin", "cli/r/", "--entries", "--max", "2")
    assert entries == [["cli/r/1", "v1"], ["cli/r/2", "v2"]]
    assert as_json(nodes, "prefix", "cli/r/") == ["cli/r/1", "cli/r/2", "cli/r/3"]
    assert as_json(nodes, "delete-prefix", "cli/r/") == 3
    assert as_json(nodes, "prefix", "cli/r/") == []


def test_delete_removes_the_key(nodes: str) -> None:
    out(nodes, "set", "cli/d", "x")
    out(nodes, "delete", "cli/d")
    assert cli(nodes, "get", "cli/d").returncode == 1


def test_cluster_state_commands(nodes: str) -> None:
    assert out(nodes, "who-master") == "n0\n"
    assert out(nodes, "current-state", "--node", "n1") == "Slave_steady_state\n"
    assert as_json(nodes, "version")["version"] == "1.9.25"
    assert isinstance(as_json(nodes, "txid"), int)
    assert "set_info" in as_json(nodes, "statistics")


def test_dirty_read_from_a_slave(nodes: str) -> None:
    out(nodes, "set", "cli/dirty", "1")
    out(nodes, "set", "cli/other", "1")  # the slave applies the previous update
    assert out(nodes, "get", "--dirty", "cli/dirty") == "1\n"


def test_admin_on_the_master_is_refused_with_a_clear_message(nodes: str) -> None:
    result = cli(nodes, "optimize-db", "--node", "n0")
    assert result.returncode == 7
    assert "NotSupported" in result.stderr
    assert cli(nodes, "optimize-db", "--node", "n1").returncode == 0


def test_unreachable_cluster_exits_4() -> None:
    result = cli("arakoon@n0=127.0.0.1:1", "who-master")
    assert result.returncode == 3  # no node answers: no master
    result = cli("arakoon@n0=127.0.0.1:1", "get", "k")
    assert result.returncode in (3, 4)
    assert result.stderr.startswith("txarakoon: ")


def test_bad_configuration_exits_8() -> None:
    result = subprocess.run(
        [PYTHON, "-m", "txarakoon", "get", "k", "--nodes", "nonsense"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    assert result.returncode == 8
    assert "bad configuration" in result.stderr


@pytest.mark.parametrize(
    "command", [[], ["get"], ["serve"], ["range"], ["collapse-tlogs"], ["demo"]]
)
def test_every_command_has_help(command: list[str]) -> None:
    result = subprocess.run(
        [PYTHON, "-m", "txarakoon", *command, "--help"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    assert result.returncode == 0
    assert "usage: txarakoon" in result.stdout


def test_demo_runs_to_the_end() -> None:
    result = subprocess.run(
        [PYTHON, "-m", "txarakoon", "demo"], capture_output=True, text=True, env=ENV, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("Done.")


def test_options_may_come_before_the_command(nodes: str) -> None:
    result = subprocess.run(
        [PYTHON, "-m", "txarakoon", "--nodes", nodes, "--json", "set", "cli/before", "x"],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert as_json(nodes, "get", "cli/before") == "x"


def test_an_explicit_config_wins_over_the_environment(nodes: str, tmp_path: Any) -> None:
    from txarakoon.config import ClusterConfig

    ini = tmp_path / "cluster.ini"
    ini.write_text(ClusterConfig.from_spec(nodes).to_ini())
    result = subprocess.run(
        [PYTHON, "-m", "txarakoon", "who-master", "--config", str(ini)],
        capture_output=True,
        text=True,
        env={**ENV, "TXARAKOON_NODES": "arakoon@n0=127.0.0.1:1"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "n0\n"
