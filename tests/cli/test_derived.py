"""The sub-commands derived from the command declarations: which exist, and
that each sends its declaration and prints its result."""

from __future__ import annotations

import pytest

from tests.cli.conftest import CLI
from txarakoon.cli.catalogue import HELP, NOT_OFFERED
from txarakoon.cli.special import SPECIAL
from txarakoon.messages import COMMANDS
from txarakoon.testing import Transaction


def test_every_declared_command_is_derived_hand_written_or_not_offered() -> None:
    special = [command.name for sub in SPECIAL for command in sub.sends]
    assert sorted([*HELP, *special, *NOT_OFFERED]) == sorted(COMMANDS)


def test_multi_get_prints_the_values_in_the_order_of_the_keys(cli: CLI) -> None:
    cli.ok("set", "m/a", "1")
    cli.ok("set", "m/b", "2")
    assert cli.ok("multi-get", "m/b", "m/a") == "2\n1\n"


def test_multi_get_of_a_key_not_bound_exits_1(cli: CLI) -> None:
    cli.ok("set", "m/a", "1")
    assert cli("multi-get", "m/a", "m/nope").code == 1


def test_multi_get_option_prints_none_where_a_key_is_not_bound(cli: CLI) -> None:
    cli.ok("set", "m/a", "1")
    assert cli.ok("multi-get-option", "m/a", "m/nope") == "1\n(none)\n"


def test_assert_exits_0_when_the_key_has_the_value(cli: CLI) -> None:
    cli.ok("set", "a/k", "v")
    assert cli("assert", "a/k", "--value", "v").code == 0


def test_assert_exits_1_when_the_key_has_another_value(cli: CLI) -> None:
    cli.ok("set", "a/k", "v")
    result = cli("assert", "a/k", "--value", "w")
    assert result.code == 1
    assert result.err.startswith("txarakoon: assertion failed")


def test_assert_without_a_value_asserts_the_key_is_not_bound(cli: CLI) -> None:
    assert cli("assert", "a/nope").code == 0


def test_assert_exists_exits_1_for_a_key_not_bound(cli: CLI) -> None:
    assert cli("assert-exists", "a/nope").code == 1


def test_confirm_binds_the_key(cli: CLI) -> None:
    cli.ok("confirm", "c/k", "v")
    assert cli.ok("get", "c/k") == "v\n"


def test_test_and_set_sets_when_the_value_matches_and_prints_the_old_one(cli: CLI) -> None:
    cli.ok("set", "t/k", "old")
    assert cli.ok("test-and-set", "t/k", "--test-value", "old", "--set-value", "new") == "old\n"
    assert cli.ok("get", "t/k") == "new\n"


def test_test_and_set_without_a_test_value_sets_only_a_key_not_bound(cli: CLI) -> None:
    cli.ok("set", "t/k", "old")
    assert cli.ok("test-and-set", "t/k", "--set-value", "new") == "old\n"
    assert cli.ok("get", "t/k") == "old\n"


def test_replace_without_a_value_deletes_the_key_and_prints_the_old_value(cli: CLI) -> None:
    cli.ok("set", "r/k", "old")
    assert cli.ok("replace", "r/k") == "old\n"
    assert cli("get", "r/k").code == 1


def test_user_function_prints_what_the_function_returns(cli: CLI) -> None:
    def shout(transaction: Transaction, argument: bytes | None) -> bytes:
        return (argument or b"").upper()

    cli.cluster.register_user_function("shout", shout)
    assert cli.ok("user-function", "shout", "--argument", "hey") == "HEY\n"


def test_get_key_count_prints_how_many_keys_there_are(cli: CLI) -> None:
    cli.ok("set", "n/1", "x")
    cli.ok("set", "n/2", "x")
    assert cli.ok("get-key-count") == "2\n"


def test_expect_progress_possible_answers_yes_with_a_quorum(cli: CLI) -> None:
    assert cli.ok("expect-progress-possible") == "yes\n"


def test_nop_succeeds_silently(cli: CLI) -> None:
    assert cli.ok("nop") == ""


def test_range_reverse_lists_the_keys_descending(cli: CLI) -> None:
    for key in ("v/1", "v/2", "v/3"):
        cli.ok("set", key, "x")
    assert cli.ok("range", "--reverse", "--begin", "v/3", "--end", "v/1") == "v/3\nv/2\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["optimize-db"],
        ["defrag-db"],
        ["flush-store"],
        ["drop-master"],
        ["copy-db-to-head", "--keep", "1"],
    ],
    ids=lambda argv: argv[0],
)
def test_an_admin_command_acts_on_the_slave_named(cli: CLI, argv: list[str]) -> None:
    assert cli.ok(*argv, "--node", "n1") == ""


def test_an_admin_command_needs_a_node(cli: CLI) -> None:
    assert cli("flush-store").code == 2
