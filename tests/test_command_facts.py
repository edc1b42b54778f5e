"""What each command declaration says about the command, beyond its wire form,
and what is derived from it."""

from __future__ import annotations

from txarakoon import messages
from txarakoon.admin import AdminMixin
from txarakoon.client import ClientMixin
from txarakoon.cluster import IDEMPOTENT_WRITES
from txarakoon.consistency import Consistent, NoGuarantees
from txarakoon.messages import COMMANDS, DECLARED_COMMANDS, READ_ONLY_COMMANDS
from txarakoon.testing.node import iter_handlers

from .helpers import vectors

#: PROTOCOL.md §6.2: the maintenance commands of one node.
ADMIN = {
    "optimize_db",
    "defrag_db",
    "drop_master",
    "flush_store",
    "collapse_tlogs",
    "copy_db_to_head",
}
#: PROTOCOL.md §1.5: commands whose undecodable arguments the server answers.
ANSWERED = {"hello", "test_and_set", "replace", "delete_prefix", "sequence", "synced_sequence"}


def test_reads_are_the_commands_that_change_nothing() -> None:
    assert {
        "hello",
        "who_master",
        "exists",
        "get",
        "range",
        "prefix_keys",
        "range_entries",
        "multi_get",
        "expect_progress_possible",
        "statistics",
        "assert",
        "get_key_count",
        "rev_range_entries",
        "version",
        "assert_exists",
        "multi_get_option",
        "current_state",
        "get_txid",
    } == READ_ONLY_COMMANDS


def test_idempotent_writes_are_set_confirm_and_nop() -> None:
    assert {"set", "confirm", "nop"} == IDEMPOTENT_WRITES
    assert all(command.idempotent for command in COMMANDS.values() if command.read_only)


def test_admin_commands_are_the_node_maintenance_commands_of_the_admin_mixin() -> None:
    admin = {name for name, command in COMMANDS.items() if command.admin}
    assert admin == ADMIN
    assert all(callable(getattr(AdminMixin, name)) for name in admin)


def test_commands_whose_bad_arguments_are_answered() -> None:
    assert {name for name, c in COMMANDS.items() if c.answers_bad_arguments} == ANSWERED


def test_only_collapse_tlogs_is_decoded_as_it_streams() -> None:
    assert [name for name, c in COMMANDS.items() if c.reply.streamed] == ["collapse_tlogs"]


def test_the_in_memory_node_handles_every_declared_command_once() -> None:
    handled = list(iter_handlers())
    assert sorted(handled) == sorted(DECLARED_COMMANDS)
    assert len(handled) == len(set(handled))


def test_user_hook_is_declared_but_offered_by_no_method() -> None:
    # A hook answers in a protocol of its own (§6.2): only the in-memory server
    # (D32) and raw requests use the declaration.
    assert [name for name, c in DECLARED_COMMANDS.items() if not c.offered] == ["user_hook"]
    assert "user_hook" not in COMMANDS
    assert messages.COMMANDS_BY_OPCODE[0x45] is messages.USER_HOOK
    for mixin in (ClientMixin, AdminMixin):
        assert not hasattr(mixin, "user_hook")


def test_user_hook_sends_the_consistency_then_the_hook_name() -> None:
    (vector,) = [v for v in vectors.ALL if v["id"] == "req_user_hook"]
    request = messages.USER_HOOK(NoGuarantees, vector["args"]["name"].encode())
    assert request.serialize().hex() == vector["request_hex"]


def test_a_message_repr_shortens_long_values() -> None:
    message = messages.SET(b"k", b"v" * 100)
    assert repr(message) == f"set(key=b'k', value={b'v' * 32!r}... (100 bytes))"
    keys = messages.MULTI_GET(Consistent, [b"k"] * 100)
    assert repr(keys).endswith("...)") and len(repr(keys)) < 200
