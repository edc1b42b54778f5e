"""The sub-commands written by hand: those that do not map one to one onto a
declaration (see :mod:`txarakoon.cli.commands` for the derived ones).

* ``range`` sends three declarations (keys, entries, entries backwards) and
  spells their bounds as flags;
* ``who-master`` asks the whole cluster unless ``--node`` is given, and exits
  3 when there is no master (printing, when no node could be asked, each
  node's cause in the one-line error);
* ``version`` prints a version number rather than a tuple;
* ``txid`` prints the number a ``--at-least`` takes, not a consistency;
* ``collapse-tlogs`` prints its progress as it arrives;
* ``increment`` is :func:`txarakoon.recipes.increment`, not one command.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from .. import messages
from ..consistency import AtLeast
from .commands import CommandFailed, SubCommand, checked, consistency, data, node, target
from .exits import EXIT_NO_MASTER, EXIT_NOT_FOUND, EXIT_OK
from .output import Output

if TYPE_CHECKING:
    from ..cluster import ArakoonClient

__all__ = ["RECIPES", "SPECIAL"]


def _range_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--begin", metavar="KEY", help="first key (default: the first)")
    parser.add_argument("--begin-exclusive", action="store_true", help="leave --begin out")
    parser.add_argument("--end", metavar="KEY", help="last key (default: the last)")
    parser.add_argument("--end-inclusive", action="store_true", help="include --end")
    parser.add_argument(
        "--max", type=int, default=-1, metavar="N", help="at most this many (default: all)"
    )
    parser.add_argument("--entries", action="store_true", help="print keys and values")
    parser.add_argument(
        "--reverse", action="store_true", help="descending, from --begin down to --end"
    )


async def _range(client: ArakoonClient, args: argparse.Namespace, out: Output) -> int:
    begin = None if args.begin is None else data(args, args.begin)
    end = None if args.end is None else data(args, args.end)
    bounds = (begin, not args.begin_exclusive, end, args.end_inclusive, args.max)
    result: Any
    if args.reverse:
        # Only entries can be read backwards; the keys are their first halves.
        entries = await checked(client.rev_range_entries, *bounds, consistency=consistency(args))
        result = entries if args.entries else [key for key, _ in entries]
    elif args.entries:
        result = await checked(client.range_entries, *bounds, consistency=consistency(args))
    else:
        result = await checked(client.range, *bounds, consistency=consistency(args))
    out.emit(result)
    return EXIT_OK


async def _who_master(client: ArakoonClient, args: argparse.Namespace, out: Output) -> int:
    master = await target(client, args).who_master()
    out.emit(master)
    return EXIT_OK if master is not None else EXIT_NO_MASTER


async def _version(client: ArakoonClient, args: argparse.Namespace, out: Output) -> int:
    major, minor, patch, info = await target(client, args).version()
    if out.as_json:
        out.emit({"version": f"{major}.{minor}.{patch}", "info": info})
    else:
        out.emit(f"{major}.{minor}.{patch}\n{out.text(info).rstrip()}")
    return EXIT_OK


async def _txid(client: ArakoonClient, args: argparse.Namespace, out: Output) -> int:
    txid = await target(client, args).get_txid()
    out.emit(txid.i if isinstance(txid, AtLeast) else repr(txid))
    return EXIT_OK


def _collapse_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keep", type=int, required=True, metavar="N", help="tlogs to keep (at least 1)"
    )


async def _collapse_tlogs(client: ArakoonClient, args: argparse.Namespace, out: Output) -> int:
    def progress(value: int) -> None:
        if not out.as_json:
            print(f"progress {value}", file=out.stream)

    out.emit(await checked(node(client, args).collapse_tlogs, args.keep, progress))
    return EXIT_OK


def _increment_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("key", metavar="KEY", help="the counter (decimal text; absent: 0)")
    parser.add_argument(
        "--by", type=int, default=1, metavar="N", help="what to add (default 1; may be negative)"
    )


async def _increment(client: ArakoonClient, args: argparse.Namespace, out: Output) -> int:
    from ..recipes import increment

    try:
        count = await increment(client, data(args, args.key), args.by)
    except ValueError as error:  # the key holds something else than a count
        raise CommandFailed(str(error), EXIT_NOT_FOUND) from None
    # With --raw, the count's exact bytes: the counter's value as stored.
    out.emit(str(count).encode() if out.raw else count)
    return EXIT_OK


#: The hand-written sub-commands.
SPECIAL = (
    SubCommand(
        "range",
        "list keys (or entries) in a range",
        (messages.RANGE, messages.RANGE_ENTRIES, messages.REV_RANGE_ENTRIES),
        _range,
        _range_arguments,
    ),
    SubCommand("who-master", "print the master's name", (messages.WHO_MASTER,), _who_master),
    SubCommand("version", "print a node's version", (messages.VERSION_COMMAND,), _version),
    SubCommand("txid", "print a node's last applied update number", (messages.GET_TXID,), _txid),
    SubCommand(
        "collapse-tlogs",
        "collapse a node's tlogs, printing progress",
        (messages.COLLAPSE_TLOGS,),
        _collapse_tlogs,
        _collapse_arguments,
    ),
)

#: The sub-commands that run a recipe of :mod:`txarakoon.recipes` (their
#: declarations are the recipe's, not theirs alone).
RECIPES = (
    SubCommand(
        "increment",
        "add to a counter exactly once, even through a failover; print the count",
        (messages.SEQUENCE, messages.MULTI_GET_OPTION),
        _increment,
        _increment_arguments,
    ),
)
