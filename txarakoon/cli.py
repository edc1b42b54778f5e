"""The ``txarakoon`` command line (also ``python -m txarakoon``).

Talks to a cluster named by ``--config FILE.ini`` (an Arakoon cluster config)
or ``--nodes CLUSTER@name=host:port,...``; ``serve`` and ``demo`` run the
in-memory Arakoon of :mod:`txarakoon.testing`. Run ``txarakoon --help`` and
``txarakoon COMMAND --help``.

Exit codes: 0 success; 1 key not found or assertion failed; 2 usage error;
3 no master; 4 a node could not be reached; 5 outcome unknown (a write may or
may not have been applied); 6 timeout; 7 any other Arakoon error; 8 bad
configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TextIO

from . import __version__, errors
from .config import ClusterConfig, ConfigError, TLSConfig
from .consistency import AtLeast, Consistency, Consistent, NoGuarantees

__all__ = ["main"]

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_NO_MASTER = 3
EXIT_UNREACHABLE = 4
EXIT_OUTCOME_UNKNOWN = 5
EXIT_TIMEOUT = 6
EXIT_ARAKOON_ERROR = 7
EXIT_CONFIG = 8

Runner = Callable[[Any, argparse.Namespace, "Output"], Coroutine[Any, Any, int]]


class Output:
    """Prints results for humans, or as JSON (``--json``); byte strings as text
    when they are UTF-8, else escaped, or as hex (``--hex``)."""

    def __init__(self, as_json: bool, as_hex: bool, stream: TextIO) -> None:
        self.as_json = as_json
        self.as_hex = as_hex
        self.stream = stream

    def text(self, data: bytes) -> str:
        if self.as_hex:
            return data.hex()
        return data.decode("utf-8", errors="backslashreplace")

    def jsonable(self, value: Any) -> Any:
        if isinstance(value, bytes):
            return self.text(value)
        if isinstance(value, dict):
            return {str(k): self.jsonable(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.jsonable(v) for v in value]
        if isinstance(value, Consistency):
            return repr(value)
        return value

    def emit(self, value: Any) -> None:
        if self.as_json:
            print(json.dumps(self.jsonable(value), indent=None, sort_keys=False), file=self.stream)
            return
        print(self.human(value), file=self.stream)

    def human(self, value: Any, indent: str = "") -> str:
        if value is None:
            return f"{indent}(none)"
        if isinstance(value, bytes):
            return indent + self.text(value)
        if isinstance(value, bool):
            return indent + ("yes" if value else "no")
        if isinstance(value, dict):
            lines = []
            for key, item in value.items():
                if isinstance(item, dict):
                    lines.append(f"{indent}{key}:")
                    lines.append(self.human(item, indent + "  "))
                else:
                    lines.append(f"{indent}{key}: {self.human(item).strip()}")
            return "\n".join(lines)
        if isinstance(value, list):
            return "\n".join(self.human(item, indent) for item in value)
        if isinstance(value, tuple):
            return indent + "\t".join(self.human(item).strip() for item in value)
        return f"{indent}{value}"


def _data(args: argparse.Namespace, text: str) -> bytes:
    if args.hex:
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise SystemExit(_usage_error(f"not hexadecimal: {text!r}")) from None
    return text.encode("utf-8")


def _usage_error(message: str) -> int:
    print(f"txarakoon: {message}", file=sys.stderr)
    return EXIT_USAGE


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


# -- plumbing -------------------------------------------------------------------


def _config(args: argparse.Namespace) -> ClusterConfig:
    if args.config and args.nodes:
        raise ConfigError("give --config or --nodes, not both")
    # The environment is only a default: an explicit --config wins over it.
    nodes = args.nodes or (None if args.config else os.environ.get("TXARAKOON_NODES"))
    if args.config:
        config = ClusterConfig.from_ini(args.config)
    elif nodes:
        config = ClusterConfig.from_spec(nodes)
    else:
        raise ConfigError(
            "no cluster: give --config FILE.ini or --nodes CLUSTER@name=host:port,..."
        )
    if args.tls_ca:
        tls = TLSConfig(
            args.tls_ca,
            args.tls_cert,
            args.tls_key,
            args.tls_version,
            args.tls_verify_hostname,
        )
        config = ClusterConfig(config.cluster_id, config.nodes, tls, config.keepalive)
    return config


def _exit_code(error: BaseException) -> int:
    if isinstance(error, (errors.NotFound, errors.AssertionFailed)):
        return EXIT_NOT_FOUND
    if isinstance(error, errors.NoMasterError):
        return EXIT_NO_MASTER
    if isinstance(error, errors.OutcomeUnknown):
        return EXIT_OUTCOME_UNKNOWN
    if isinstance(error, errors.RequestTimeout):
        return EXIT_TIMEOUT
    if isinstance(error, (errors.RequestNotProcessed, errors.ConnectionLost)):
        return EXIT_UNREACHABLE
    return EXIT_ARAKOON_ERROR


def _describe(error: BaseException) -> str:
    if isinstance(error, errors.NotFound):
        return f"not found: {error}"
    if isinstance(error, errors.AssertionFailed):
        return f"assertion failed: {error}"
    if isinstance(error, errors.NoMasterError):
        return f"no master: {error}"
    if isinstance(error, errors.OutcomeUnknown):
        return f"outcome unknown, the write may or may not have been applied: {error}"
    if isinstance(error, errors.RequestTimeout):
        return f"timed out: {error}"
    return f"{type(error).__name__}: {error}"


def _run_client(args: argparse.Namespace, runner: Runner, stream: TextIO) -> int:
    from twisted.internet import task

    from .cluster import ArakoonClient

    try:
        config = _config(args)
    except (ConfigError, OSError) as error:
        print(f"txarakoon: bad configuration: {error}", file=sys.stderr)
        return EXIT_CONFIG
    out = Output(args.json, args.hex, stream)
    status: list[int] = []

    async def run(reactor: Any) -> None:
        client = ArakoonClient(config, reactor, timeout=args.timeout)
        try:
            status.append(await runner(client, args, out))
        except (errors.ArakoonError, errors.ConnectionFailure) as error:
            print(f"txarakoon: {_describe(error)}", file=sys.stderr)
            status.append(_exit_code(error))
        finally:
            await client.disconnect()

    from twisted.internet.defer import Deferred

    def start(reactor: Any) -> Deferred[None]:
        return Deferred.fromCoroutine(run(reactor))

    try:
        task.react(start)
    except SystemExit as stop:
        if stop.code not in (0, None):
            return int(stop.code) if isinstance(stop.code, int) else EXIT_ARAKOON_ERROR
    return status[0] if status else EXIT_ARAKOON_ERROR


def _add_common_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    where = parser.add_argument_group("cluster")
    where.add_argument("--config", metavar="FILE.ini", help="an Arakoon cluster configuration")
    where.add_argument(
        "--nodes",
        metavar="CLUSTER@name=host:port,...",
        help="the cluster id and its nodes (default: $TXARAKOON_NODES)",
    )
    where.add_argument("--timeout", type=float, default=30.0, help="seconds per call (30)")
    tls = parser.add_argument_group("TLS")
    tls.add_argument("--tls-ca", metavar="PEM", help="CA certificate: turns TLS on")
    tls.add_argument("--tls-cert", metavar="PEM", help="client certificate")
    tls.add_argument("--tls-key", metavar="PEM", help="client certificate's key")
    tls.add_argument("--tls-version", choices=("1.0", "1.1", "1.2", "1.3"), help="minimum")
    tls.add_argument("--tls-verify-hostname", action="store_true", help="check host names")
    output = parser.add_argument_group("input and output")
    output.add_argument("--json", action="store_true", help="print JSON for scripts")
    output.add_argument("--hex", action="store_true", help="keys and values in hexadecimal")
    if suppress:
        for action in parser._actions:
            action.default = argparse.SUPPRESS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="txarakoon",
        description="Talk to an Arakoon cluster, or run an in-memory one.",
        epilog="Exit codes: 0 ok, 1 not found, 2 usage, 3 no master, 4 unreachable, "
        "5 outcome unknown, 6 timeout, 7 other Arakoon error, 8 bad configuration.",
    )
    parser.add_argument("--version", action="version", version=f"txarakoon {__version__}")
    _add_common_options(parser, suppress=False)
    # Sub-commands accept the same options after their name; SUPPRESS keeps a
    # value given before the name from being reset by the sub-command's default.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    _add_common_options(common, suppress=True)

    reads = argparse.ArgumentParser(add_help=False)
    reads.add_argument("--dirty", action="store_true", help="allow a stale read from any node")
    reads.add_argument("--at-least", type=int, metavar="TXID", help="read at least this txid")

    per_node = argparse.ArgumentParser(add_help=False)
    per_node.add_argument("--node", help="ask this node (default: the cluster / its master)")

    admin_node = argparse.ArgumentParser(add_help=False)
    admin_node.add_argument("--node", required=True, help="the node to act on")

    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, runner: Runner, help_text: str, *parents: argparse.ArgumentParser) -> Any:
        sub = commands.add_parser(
            name, help=help_text, description=help_text, parents=[common, *parents]
        )
        sub.set_defaults(runner=runner)
        return sub

    add("get", _get, "print the value of a key", reads).add_argument("key")
    sub = add("set", _set, "bind a key to a value")
    sub.add_argument("key")
    sub.add_argument("value")
    add("delete", _delete, "delete a key").add_argument("key")
    add("exists", _exists, "whether a key is bound (exit code 1 if not)", reads).add_argument("key")
    sub = add("range", _range, "list keys (or entries) in a range", reads)
    sub.add_argument("--begin", help="first key (default: the first)")
    sub.add_argument("--begin-exclusive", action="store_true")
    sub.add_argument("--end", help="last key (default: the last)")
    sub.add_argument("--end-inclusive", action="store_true")
    sub.add_argument("--max", type=int, default=-1, help="at most this many (default: all)")
    sub.add_argument("--entries", action="store_true", help="print keys and values")
    sub = add("prefix", _prefix, "list keys starting with a prefix", reads)
    sub.add_argument("prefix")
    sub.add_argument("--max", type=int, default=-1, help="at most this many (default: all)")
    add("delete-prefix", _delete_prefix, "delete every key starting with a prefix").add_argument(
        "prefix"
    )
    add("who-master", _who_master, "print the master's name", per_node)
    add("statistics", _statistics, "print a node's statistics", per_node)
    add("version", _version, "print a node's version", per_node)
    add("current-state", _current_state, "print a node's consensus state", per_node)
    add("txid", _txid, "print a node's last applied update number", per_node)
    add("optimize-db", _admin("optimize_db"), "optimise a slave's database", admin_node)
    add("defrag-db", _admin("defrag_db"), "defragment a slave's database", admin_node)
    add("drop-master", _admin("drop_master"), "make the master give up mastership", admin_node)
    add("flush-store", _admin("flush_store"), "flush a node's store to disk", admin_node)
    sub = add(
        "copy-db-to-head",
        _admin("copy_db_to_head", "keep"),
        "copy a slave's db to head",
        admin_node,
    )
    sub.add_argument("--keep", type=int, required=True, help="tlogs to keep (>= 1)")
    sub = add(
        "collapse-tlogs", _admin("collapse_tlogs", "keep"), "collapse a node's tlogs", admin_node
    )
    sub.add_argument("--keep", type=int, required=True, help="tlogs to keep (>= 1)")

    serve = commands.add_parser(
        "serve",
        help="run an in-memory Arakoon cluster for development",
        description="Run an in-memory Arakoon cluster on loopback and print its .ini.",
    )
    serve.add_argument("--nodes", type=int, default=3, help="how many nodes (3)")
    serve.add_argument("--port", type=int, default=0, help="first client port (0: any free)")
    serve.add_argument("--cluster-id", default="arakoon")
    serve.add_argument("--interface", default="127.0.0.1")
    serve.set_defaults(runner=None)
    demo = commands.add_parser(
        "demo",
        help="tour the API against an embedded in-memory cluster",
        description="Start an in-memory 3-node Arakoon and tour the API against it.",
    )
    demo.set_defaults(runner=None)
    return parser


def main(argv: Sequence[str] | None = None, stream: TextIO | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    out = stream or sys.stdout
    if args.command == "serve":
        from .demo import serve

        return serve(args.nodes, args.port, args.cluster_id, args.interface, out)
    if args.command == "demo":
        from .demo import demo

        return demo(out)
    runner: Runner = args.runner
    return _run_client(args, runner, out)
