"""The sub-commands that talk to a cluster: what each sends and prints."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine
from typing import Any

from ..consistency import AtLeast, Consistency, Consistent, NoGuarantees
from .exits import EXIT_NO_MASTER, EXIT_NOT_FOUND, EXIT_OK
from .output import Output

Runner = Callable[[Any, argparse.Namespace, Output], Coroutine[Any, Any, int]]


class UsageError(Exception):
    """A mistake on the command line that the parser could not see (exit code 2)."""


def _data(args: argparse.Namespace, text: str) -> bytes:
    if args.hex:
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise UsageError(f"not hexadecimal: {text!r}") from None
    return text.encode("utf-8")


def _consistency(args: argparse.Namespace) -> Consistency:
    if getattr(args, "at_least", None) is not None:
        return AtLeast(args.at_least)
    return NoGuarantees if getattr(args, "dirty", False) else Consistent


# -- commands ------------------------------------------------------------------


async def _get(client: Any, args: argparse.Namespace, out: Output) -> int:
    out.emit(await client.get(_data(args, args.key), consistency=_consistency(args)))
    return EXIT_OK


async def _set(client: Any, args: argparse.Namespace, out: Output) -> int:
    await client.set(_data(args, args.key), _data(args, args.value))
    return EXIT_OK


async def _delete(client: Any, args: argparse.Namespace, out: Output) -> int:
    await client.delete(_data(args, args.key))
    return EXIT_OK


async def _exists(client: Any, args: argparse.Namespace, out: Output) -> int:
    found = await client.exists(_data(args, args.key), consistency=_consistency(args))
    out.emit(found)
    return EXIT_OK if found else EXIT_NOT_FOUND


async def _range(client: Any, args: argparse.Namespace, out: Output) -> int:
    method = client.range_entries if args.entries else client.range
    begin = None if args.begin is None else _data(args, args.begin)
    end = None if args.end is None else _data(args, args.end)
    result = await method(
        begin,
        not args.begin_exclusive,
        end,
        args.end_inclusive,
        args.max,
        consistency=_consistency(args),
    )
    out.emit(result)
    return EXIT_OK


async def _prefix(client: Any, args: argparse.Namespace, out: Output) -> int:
    out.emit(
        await client.prefix(_data(args, args.prefix), args.max, consistency=_consistency(args))
    )
    return EXIT_OK


async def _delete_prefix(client: Any, args: argparse.Namespace, out: Output) -> int:
    out.emit(await client.delete_prefix(_data(args, args.prefix)))
    return EXIT_OK


def _target(client: Any, args: argparse.Namespace) -> Any:
    return client.node(args.node) if getattr(args, "node", None) else client


async def _who_master(client: Any, args: argparse.Namespace, out: Output) -> int:
    master = await _target(client, args).who_master()
    out.emit(master)
    return EXIT_OK if master is not None else EXIT_NO_MASTER


async def _statistics(client: Any, args: argparse.Namespace, out: Output) -> int:
    out.emit(await _target(client, args).statistics())
    return EXIT_OK


async def _version(client: Any, args: argparse.Namespace, out: Output) -> int:
    major, minor, patch, info = await _target(client, args).version()
    if out.as_json:
        out.emit({"version": f"{major}.{minor}.{patch}", "info": info})
    else:
        out.emit(f"{major}.{minor}.{patch}\n{out.text(info).rstrip()}")
    return EXIT_OK


async def _current_state(client: Any, args: argparse.Namespace, out: Output) -> int:
    out.emit(await _target(client, args).get_current_state())
    return EXIT_OK


async def _txid(client: Any, args: argparse.Namespace, out: Output) -> int:
    txid = await _target(client, args).get_txid()
    out.emit(txid.i if isinstance(txid, AtLeast) else repr(txid))
    return EXIT_OK


def _admin(method: str, *fields: str) -> Runner:
    async def run(client: Any, args: argparse.Namespace, out: Output) -> int:
        node = client.node(args.node)
        values = [getattr(args, field) for field in fields]
        if method == "collapse_tlogs":

            def progress(value: int) -> None:
                if not out.as_json:
                    print(f"progress {value}", file=out.stream)

            result = await node.collapse_tlogs(*values, progress)
        else:
            result = await getattr(node, method)(*values)
        if result is not None:
            out.emit(result)
        return EXIT_OK

    return run
