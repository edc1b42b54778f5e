"""What each sub-command sends and prints, in-process against the in-memory cluster."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.cli.conftest import CLI


def as_json(cli: CLI, *argv: str) -> Any:
    return json.loads(cli.ok(*argv, "--json"))


def test_set_then_get_prints_the_value(cli: CLI) -> None:
    cli.ok("set", "cli/a", "apple")
    assert cli.ok("get", "cli/a") == "apple\n"


def test_hex_keys_and_values_round_trip(cli: CLI) -> None:
    cli.ok("set", "--hex", "00ff", "c3a9")
    assert cli.ok("get", "--hex", "00ff") == "c3a9\n"
    assert cli.ok("get", "--hex", "00ff", "--json") == '"c3a9"\n'


def test_exists_answers_through_its_exit_code(cli: CLI) -> None:
    cli.ok("set", "cli/e", "1")
    assert cli("exists", "cli/e").code == 0
    assert cli("exists", "cli/nope").code == 1


@pytest.fixture
def three_keys(cli: CLI) -> None:
    for key in ("cli/r/1", "cli/r/2", "cli/r/3"):
        cli.ok("set", key, "v" + key[-1])


@pytest.mark.usefixtures("three_keys")
def test_range_lists_the_keys_from_begin_to_before_end(cli: CLI) -> None:
    assert as_json(cli, "range", "--begin", "cli/r/", "--end", "cli/r/3") == ["cli/r/1", "cli/r/2"]


@pytest.mark.usefixtures("three_keys")
def test_range_entries_lists_at_most_max_pairs(cli: CLI) -> None:
    entries = as_json(cli, "range", "--begin", "cli/r/", "--entries", "--max", "2")
    assert entries == [["cli/r/1", "v1"], ["cli/r/2", "v2"]]


@pytest.mark.usefixtures("three_keys")
def test_prefix_lists_the_keys_that_start_with_it(cli: CLI) -> None:
    assert as_json(cli, "prefix", "cli/r/") == ["cli/r/1", "cli/r/2", "cli/r/3"]


@pytest.mark.usefixtures("three_keys")
def test_delete_prefix_prints_how_many_it_deleted(cli: CLI) -> None:
    assert as_json(cli, "delete-prefix", "cli/r/") == 3
    assert as_json(cli, "prefix", "cli/r/") == []


def test_delete_removes_the_key(cli: CLI) -> None:
    cli.ok("set", "cli/d", "x")
    cli.ok("delete", "cli/d")
    assert cli("get", "cli/d").code == 1


def test_who_master_prints_the_master(cli: CLI) -> None:
    assert cli.ok("who-master") == "n0\n"


def test_current_state_asks_the_node_given(cli: CLI) -> None:
    assert cli.ok("current-state", "--node", "n1") == "Slave_steady_state\n"


def test_version_prints_the_servers_version(cli: CLI) -> None:
    assert as_json(cli, "version")["version"] == "1.9.25"


def test_txid_prints_a_number(cli: CLI) -> None:
    assert isinstance(as_json(cli, "txid"), int)


def test_statistics_prints_the_masters_statistics(cli: CLI) -> None:
    assert "set_info" in as_json(cli, "statistics")


def test_dirty_read_from_a_slave(cli: CLI) -> None:
    cli.ok("set", "cli/dirty", "1")
    cli.ok("set", "cli/other", "1")  # the slave applies the previous update
    assert cli.ok("get", "--dirty", "cli/dirty") == "1\n"


def test_admin_on_the_master_is_refused_with_a_clear_message(cli: CLI) -> None:
    result = cli("optimize-db", "--node", "n0")
    assert result.code == 7
    assert "NotSupported" in result.err


def test_admin_on_a_slave_succeeds(cli: CLI) -> None:
    assert cli("optimize-db", "--node", "n1").code == 0


def test_collapse_tlogs_prints_each_progress_value_then_the_count(cli: CLI) -> None:
    for index in range(3):
        cli.ok("set", f"cli/c/{index}", "x")
    *progress, count = cli.ok("collapse-tlogs", "--node", "n1", "--keep", "1").splitlines()
    assert all(re.fullmatch(r"progress \d+", line) for line in progress), progress
    assert int(count) == len(progress)


def test_options_may_come_before_the_command(cli: CLI) -> None:
    assert cli.bare("--nodes", cli.spec, "--json", "set", "cli/before", "x").code == 0
    assert as_json(cli, "get", "cli/before") == "x"


@pytest.mark.parametrize(
    "command", [[], ["get"], ["serve"], ["range"], ["collapse-tlogs"], ["demo"]]
)
def test_every_command_has_help(cli: CLI, command: list[str]) -> None:
    result = cli.bare(*command, "--help")
    assert result.code == 0
    assert result.out.startswith("usage: txarakoon")


def test_get_of_a_missing_key_names_the_key(cli: CLI) -> None:
    result = cli("get", "fruit/nope")
    assert (result.code, result.err) == (1, "txarakoon: not found: fruit/nope\n")


def test_delete_of_a_missing_key_says_the_same(cli: CLI) -> None:
    result = cli("delete", "fruit/nope")
    assert (result.code, result.err) == (1, "txarakoon: not found: fruit/nope\n")


def test_multi_get_names_the_missing_key(cli: CLI) -> None:
    cli.ok("set", "fruit/apple", "red")
    result = cli("multi-get", "fruit/apple", "fruit/nope")
    assert (result.code, result.err) == (1, "txarakoon: not found: fruit/nope\n")


def test_a_missing_key_is_named_as_keys_are_printed(cli: CLI) -> None:
    result = cli("get", "--hex", "00ff")
    assert (result.code, result.err) == (1, "txarakoon: not found: 00ff\n")


def test_increment_counts_from_zero_and_prints_the_count(cli: CLI) -> None:
    assert cli.ok("increment", "cli/visits") == "1\n"
    assert cli.ok("increment", "cli/visits", "--by", "10") == "11\n"
    assert cli.ok("get", "cli/visits") == "11\n"


def test_increment_by_a_negative_number_counts_down(cli: CLI) -> None:
    cli.ok("set", "cli/stock", "3")
    assert as_json(cli, "increment", "cli/stock", "--by", "-5") == -2


def test_increment_with_raw_prints_the_counters_bytes(cli: CLI) -> None:
    assert cli("increment", "cli/raw", "--raw").stdout == b"1"


def test_increment_of_a_value_that_is_no_count_exits_1_in_one_line(cli: CLI) -> None:
    cli.ok("set", "cli/name", "twelve")
    result = cli("increment", "cli/name")
    assert result.code == 1
    assert result.err == "txarakoon: not a counter (decimal ASCII text): b'twelve'\n"
    assert cli.ok("get", "cli/name") == "twelve\n"
