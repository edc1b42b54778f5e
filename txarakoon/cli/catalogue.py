"""Every sub-command that talks to a cluster, in the order ``--help`` lists them.

Each declared command is derived (it has a line in :data:`HELP`), written by
hand (:data:`~txarakoon.cli.special.SPECIAL`), or not offered
(:data:`NOT_OFFERED`, with the reason); a new declaration that is none of
these fails here, at import, rather than silently missing from the command
line.
"""

from __future__ import annotations

from ..messages import COMMANDS
from .commands import SubCommand, derive
from .special import RECIPES, SPECIAL

__all__ = ["HELP", "NOT_OFFERED", "SUBCOMMANDS"]

#: The one-line help of each derived sub-command, by declaration name, in
#: ``--help`` order.
HELP = {
    "get": "print the value of a key",
    "multi_get": "print the values of keys (exit 1 if one is not bound)",
    "multi_get_option": "print the values of keys, (none) where not bound",
    "exists": "whether a key is bound: yes (exit 0) or no (1)",
    "prefix_keys": "list the keys starting with a prefix",
    "assert": "exit 0 if a key is bound to --value (none: not bound), else 1",
    "assert_exists": "exit 0 if a key is bound, else 1",
    "set": "bind a key to a value",
    "confirm": "bind a key to a value unless it already is",
    "delete": "delete a key",
    "delete_prefix": "delete the keys starting with a prefix; print how many",
    "test_and_set": "set a key to --set-value if its value is --test-value; print the old value",
    "replace": "set a key to --value (none: delete it); print the old value",
    "user_function": "run a server-side user function; print its result",
    "nop": "a replicated write that changes nothing",
    "current_state": "print a node's consensus state",
    "statistics": "print a node's statistics",
    "get_key_count": "print how many keys the store holds",
    "expect_progress_possible": "whether a node expects a quorum: yes (exit 0) or no (1)",
    "optimize_db": "optimise a slave's database",
    "defrag_db": "defragment a slave's database",
    "copy_db_to_head": "copy a slave's database to its head database",
    "flush_store": "flush a node's store to disk",
    "drop_master": "make the master give up mastership",
}

#: The declared commands the command line does not offer, and why.
NOT_OFFERED = {
    "hello": "the client says hello on every connection; version tells the server's",
    "sequence": "a list of steps has no command-line form",
    "synced_sequence": "a list of steps has no command-line form",
}


def _catalogue() -> tuple[SubCommand, ...]:
    special = {command.name for sub in SPECIAL for command in sub.sends}
    left = set(COMMANDS) - set(HELP) - special - set(NOT_OFFERED)
    if left:
        raise RuntimeError(
            f"declared commands missing from the command line: {', '.join(sorted(left))}"
        )
    derived = tuple(derive(COMMANDS[name], help_text) for name, help_text in HELP.items())
    by_name = {sub.name: sub for sub in (*derived, *SPECIAL, *RECIPES)}
    # The hand-written ones go where they belong among the derived ones.
    order = [sub.name for sub in derived]
    order.insert(order.index("prefix"), "range")
    order.insert(order.index("current-state"), "who-master")
    order.insert(order.index("get-key-count"), "version")
    order.insert(order.index("get-key-count"), "txid")
    order.insert(order.index("user-function"), "increment")
    order.append("collapse-tlogs")
    return tuple(by_name[name] for name in order)


#: Every sub-command that talks to a cluster.
SUBCOMMANDS = _catalogue()
