"""The benchmarks: every figure next to a ceiling measured in the same run.

* **Pipelined throughput** on one connection to a canned-reply server in another
  process (:mod:`bench.canned_server`), ``get`` of a 100-byte value and ``set``
  of one, at 1, 10, 100 and 1,000 requests in flight. The ceiling is a raw
  Twisted protocol that writes pre-encoded frames and counts replies by their
  fixed size: what Twisted, the kernel and the server cost with no client
  library at all. With ``TXARAKOON_TEST_NODES`` set, the same against the
  master of that (real) cluster.
* **Large replies** decoded from bytes in memory delivered in 64 KiB chunks:
  ``range_entries`` of 10³ to 10⁶ entries and ``get`` of values of 1 KiB to
  8 MiB. The ceiling is a one-shot ``struct.unpack_from`` loop over the whole
  buffer. ``growth`` is (time ratio) / (size ratio) against the row above: at
  most 1.1 is linear.
* **Blocking SocketClient**: sequential ``get`` per second against the canned
  server; the ceiling is a raw blocking socket sending pre-encoded frames.
* **Memory**: many pipelined requests through one connection in memory; the
  pending structures, timers and Deferreds must be back at their starting
  size, and traced memory within 1 MiB of its start.

Ratios are txarakoon / ceiling for rates and ceiling / txarakoon for times, so
1.0 means "as fast as the ceiling". Each figure is the best of ``--repeat``
runs.
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
import struct
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if not __package__:  # run as `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twisted.internet.defer import Deferred
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from bench.loopback import KEY, ONE_NODE, PROTOCOL, THREE_NODES, pipeline, side_by_side
from txarakoon.blocking import SocketClient
from txarakoon.codec import STRING, Product, ResponseList
from txarakoon.config import ClusterConfig
from txarakoon.consistency import Consistent
from txarakoon.messages import GET, SET, encode_success, prologue
from txarakoon.protocol import ArakoonProtocol, connect

ROOT = Path(__file__).resolve().parent.parent
CLUSTER_ID = b"bench"
VALUE = b"v" * 100
CHUNK = 64 * 1024
#: The small chunk of the extra row of each large-reply table, where decoding
#: as the bytes arrive (rather than all at once) matters most.
SMALL_CHUNK = 4 * 1024
IN_FLIGHT = (1, 10, 100, 1000)
ENTRY_COUNTS = (10**3, 10**4, 10**5, 10**6)
VALUE_SIZES = (1024, 10 * 1024, 100 * 1024, 1024 * 1024, 8 * 1024 * 1024)
_LENGTH = struct.Struct("<I")

GET_FRAME = GET(Consistent, KEY).serialize()
GET_REPLY_SIZE = 4 + 4 + len(VALUE)
SET_FRAME = SET(KEY, VALUE).serialize()
SET_REPLY_SIZE = 4


@dataclass
class Options:
    quick: bool
    repeat: int
    requests: int
    sections: set[str]
    memory_requests: int
    max_entries: int


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="txarakoon benchmarks against their ceilings"
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer requests and repeats, up to 10⁵ entries"
    )
    parser.add_argument("--repeat", type=int, help="runs per figure, the best is kept")
    parser.add_argument("--requests", type=int, help="requests per throughput run")
    parser.add_argument(
        "--memory-requests", type=int, help="pipelined requests of the memory check"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=["throughput", "large", "blocking", "memory"],
        help="run only these sections (repeatable)",
    )
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    return Options(
        quick=quick,
        repeat=args.repeat or (1 if quick else 3),
        requests=args.requests or (20_000 if quick else 100_000),
        sections=set(args.only or ["throughput", "large", "blocking", "memory"]),
        memory_requests=args.memory_requests or (10**5 if quick else 10**6),
        max_entries=10**5 if quick else 10**6,
    )


# -- output ----------------------------------------------------------------------


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print("  ".join(cell.rjust(width) for cell, width in zip(header, widths, strict=True)))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))


def rate(value: float) -> str:
    return f"{value:,.0f}"


def ratio(value: float) -> str:
    return f"{value:.2f}"


def seconds(value: float) -> str:
    if value < 1e-3:
        return f"{value * 1e6:.1f} µs"
    if value < 1:
        return f"{value * 1e3:.2f} ms"
    return f"{value:.2f} s"


def size(value: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value} B"


# -- the canned server -------------------------------------------------------------


@contextmanager
def canned_server(value_size: int = len(VALUE)) -> Iterator[tuple[str, int]]:
    """Start :mod:`bench.canned_server` in another process; yield its address."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [environment.get("PYTHONPATH")])]
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.canned_server", "--value-size", str(value_size)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env=environment,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the canned server did not start: {line!r}")
        yield "127.0.0.1", int(line.split()[1])
    finally:
        assert process.stdin is not None
        process.stdin.close()  # the server exits when its stdin closes
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- pipelined throughput (under the reactor) ------------------------------------------


class RawCeiling(Protocol):
    """Writes pre-encoded frames, one per reply received, and counts replies
    by their fixed size: a client with no library at all."""

    def __init__(
        self, greeting: bytes, frame: bytes, reply_size: int, in_flight: int, total: int
    ) -> None:
        self.greeting = greeting
        self.frame = frame
        self.reply_size = reply_size
        self.in_flight = in_flight
        self.total = total
        self.done: Deferred[float] = Deferred()
        self.received = 0
        self.completed = 0
        self.sent = 0
        self.start = 0.0

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.setTcpNoDelay(True)  # type: ignore[attr-defined]
        self.transport.write(self.greeting)
        self.start = time.perf_counter()
        self._send(min(self.in_flight, self.total))

    def _send(self, count: int) -> None:
        assert self.transport is not None
        write = self.transport.write
        frame = self.frame
        for _ in range(count):
            write(frame)
        self.sent += count

    def dataReceived(self, data: bytes) -> None:
        self.received += len(data)
        completed = self.received // self.reply_size
        new, self.completed = completed - self.completed, completed
        self._send(min(new, self.total - self.sent))
        if completed == self.total:
            elapsed = time.perf_counter() - self.start
            assert self.transport is not None
            self.transport.loseConnection()
            self.done.callback(elapsed)


class _Factory(ClientFactory):
    def __init__(self, protocol: Protocol) -> None:
        self.protocol_instance = protocol

    def buildProtocol(self, addr: Any) -> Protocol:
        return self.protocol_instance


def ceiling_run(
    reactor: Any,
    address: tuple[str, int],
    cluster_id: bytes,
    frame: bytes,
    reply_size: int,
    in_flight: int,
    total: int,
) -> Deferred[float]:
    protocol = RawCeiling(prologue(cluster_id), frame, reply_size, in_flight, total)
    reactor.connectTCP(address[0], address[1], _Factory(protocol))
    return protocol.done


async def rates(
    reactor: Any,
    address: tuple[str, int],
    cluster: ClusterConfig,
    in_flight: int,
    total: int,
) -> dict[str, float]:
    """Requests per second of the four runs at ``in_flight``, one after the
    other on the same server (``cluster`` names it, as the master)."""
    cluster_id = cluster.cluster_id
    found = {}
    for name, frame, reply_size in (
        ("ceiling get", GET_FRAME, GET_REPLY_SIZE),
        ("ceiling set", SET_FRAME, SET_REPLY_SIZE),
    ):
        elapsed = await ceiling_run(
            reactor, address, cluster_id, frame, reply_size, in_flight, total
        )
        found[name] = total / elapsed
    client = await connect(reactor, f"tcp:host={address[0]}:port={address[1]}", cluster_id)
    found["get"] = total / await pipeline(lambda: client.get(KEY), in_flight, total)
    found["set"] = total / await pipeline(lambda: client.set(KEY, VALUE), in_flight, total)
    await client.close()
    return found


async def throughput(
    reactor: Any, options: Options, address: tuple[str, int], cluster: ClusterConfig, title: str
) -> None:
    rows = []
    cluster_rows = []
    for in_flight in IN_FLIGHT:
        total = options.requests if in_flight > 1 else max(1000, options.requests // 5)
        best: dict[str, float] = {}
        for _ in range(options.repeat):
            found = await rates(reactor, address, cluster, in_flight, total)
            for name, value in found.items():
                best[name] = max(best.get(name, 0.0), value)
        # Batches of a twentieth of a run (ten waves of requests at least),
        # alternated: see bench/loopback.py.
        batch = max(10 * in_flight, total // 20)
        compared = await side_by_side(
            reactor, address, cluster, in_flight, batch, 4 * options.repeat
        )
        row = [
            str(in_flight),
            rate(compared.rate(PROTOCOL)),
            rate(compared.rate(ONE_NODE)),
            ratio(compared.ratio(ONE_NODE, PROTOCOL)),
        ]
        if THREE_NODES in compared.seconds:
            row += [
                rate(compared.rate(THREE_NODES)),
                ratio(compared.ratio(THREE_NODES, ONE_NODE)),
            ]
        cluster_rows.append(row)
        rows.append(
            [
                str(in_flight),
                rate(best["ceiling get"]),
                rate(best["get"]),
                ratio(best["get"] / best["ceiling get"]),
                rate(best["ceiling set"]),
                rate(best["set"]),
                ratio(best["set"] / best["ceiling set"]),
            ]
        )
    table(
        title,
        ["in flight", "ceiling get/s", "get/s", "ratio", "ceiling set/s", "set/s", "ratio"],
        rows,
    )
    header = ["in flight", "ArakoonProtocol get/s", "ArakoonClient get/s", "ratio"]
    if len(cluster_rows[0]) > len(header):
        # With three nodes, the client has its stall check.
        header += ["3 nodes get/s", "3 nodes / 1"]
    table(
        f"{title.split(' (')[0]}: the cluster client beside the protocol, get, "
        f"{4 * options.repeat} rounds of alternating batches (ratio: the median of "
        "the rounds' ArakoonClient / ArakoonProtocol)",
        header,
        cluster_rows,
    )


def run_reactor(
    options: Options, targets: list[tuple[tuple[str, int], ClusterConfig, str]]
) -> None:
    from twisted.internet import reactor

    failures: list[Any] = []

    async def everything() -> None:
        for address, cluster, title in targets:
            await throughput(reactor, options, address, cluster, title)

    def start() -> None:
        finished = Deferred.fromCoroutine(everything())
        finished.addErrback(failures.append)
        finished.addBoth(lambda _: reactor.stop())  # type: ignore[attr-defined]

    reactor.callWhenRunning(start)  # type: ignore[attr-defined]
    reactor.run()  # type: ignore[attr-defined]
    if failures:
        failures[0].raiseException()


def real_master() -> tuple[tuple[str, int], ClusterConfig] | None:
    """The master of the cluster named by ``TXARAKOON_TEST_NODES``, with
    :data:`KEY` set there, or ``None`` if the variable is not set."""
    spec = os.environ.get("TXARAKOON_TEST_NODES")
    if not spec:
        return None
    config = ClusterConfig.from_spec(spec)
    for node in config.nodes.values():
        with SocketClient((node.hosts[0], node.port), config.cluster_id) as client:
            master = client.who_master()
        if master is not None:
            break
    else:
        raise RuntimeError("the cluster of TXARAKOON_TEST_NODES has no master")
    node = config.nodes[master.decode()]
    address = (node.hosts[0], node.port)
    with SocketClient(address, config.cluster_id) as client:
        client.set(KEY, VALUE)
    return address, config


# -- large replies (in memory) -----------------------------------------------------------


def best_time(function: Callable[[], Any], repeat: int, minimum: float = 0.2) -> float:
    """The best time of one call, over ``repeat`` rounds of enough calls to
    last ``minimum`` seconds."""
    function()  # warm up
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            function()
        if time.perf_counter() - start >= minimum / 4 or calls >= 1 << 16:
            break
        calls *= 2
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        for _ in range(calls):
            function()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def feed(
    reply: bytes, send: Callable[[ArakoonProtocol], Deferred[Any]], chunk_size: int = CHUNK
) -> Callable[[], Any]:
    """A function that decodes ``reply`` through a fresh connection, delivered
    in chunks of ``chunk_size`` (cut before timing)."""
    chunks = [reply[i : i + chunk_size] for i in range(0, len(reply), chunk_size)]

    def run() -> Any:
        protocol = ArakoonProtocol(CLUSTER_ID)
        protocol.makeConnection(StringTransport())
        result = send(protocol)
        for chunk in chunks:
            protocol.dataReceived(chunk)
        values: list[Any] = []
        result.addBoth(values.append)
        if not values or isinstance(values[0], Failure):
            raise RuntimeError(f"the reply did not decode: {values}")
        return values[0]

    return run


def entries_ceiling(reply: bytes) -> Callable[[], Any]:
    def run() -> list[tuple[bytes, bytes]]:
        unpack = _LENGTH.unpack_from
        if unpack(reply, 0)[0] != 0:
            raise RuntimeError("error reply")
        count = unpack(reply, 4)[0]
        offset = 8
        entries = []
        append = entries.append
        for _ in range(count):
            length = unpack(reply, offset)[0]
            key = reply[offset + 4 : offset + 4 + length]
            offset += 4 + length
            length = unpack(reply, offset)[0]
            value = reply[offset + 4 : offset + 4 + length]
            offset += 4 + length
            append((key, value))
        entries.reverse()
        return entries

    return run


def value_ceiling(reply: bytes) -> Callable[[], Any]:
    def run() -> bytes:
        if _LENGTH.unpack_from(reply, 0)[0] != 0:
            raise RuntimeError("error reply")
        length = _LENGTH.unpack_from(reply, 4)[0]
        return reply[8 : 8 + length]

    return run


def growth_column(sizes: list[int], times: list[float]) -> list[str]:
    column = ["-"]
    for i in range(1, len(sizes)):
        column.append(ratio((times[i] / times[i - 1]) / (sizes[i] / sizes[i - 1])))
    return column


def large(options: Options) -> None:
    entries_type = ResponseList(Product(STRING, STRING))
    counts = [count for count in ENTRY_COUNTS if count <= options.max_entries]
    measured: list[tuple[float, float]] = []
    labels = []
    for count in counts:
        entries = [(b"key/%09d" % i, b"value/%010d" % i) for i in range(count)]
        reply = encode_success(entries_type, entries)
        chunk_sizes = [CHUNK, SMALL_CHUNK] if count == counts[-1] else [CHUNK]
        for chunk_size in chunk_sizes:
            ours = feed(reply, lambda p: p.range_entries(None, True, None, True), chunk_size)
            assert ours() == entries_ceiling(reply)() == entries
            label = f"{count:,} ({size(len(reply))})"
            labels.append(label if chunk_size == CHUNK else f"{label}, 4 KiB chunks")
            measured.append(
                (best_time(entries_ceiling(reply), options.repeat), best_time(ours, options.repeat))
            )
        del entries, reply, ours
    large_table(
        "Large replies: range_entries, 64 KiB chunks (ratio = ceiling / txarakoon)",
        "entries (reply)",
        labels,
        [*counts, counts[-1]],
        measured,
    )
    measured = []
    labels = []
    for value_size in VALUE_SIZES:
        reply = encode_success(STRING, b"x" * value_size)
        chunk_sizes = [CHUNK, SMALL_CHUNK] if value_size == VALUE_SIZES[-1] else [CHUNK]
        for chunk_size in chunk_sizes:
            ours = feed(reply, lambda p: p.get(KEY), chunk_size)
            label = size(value_size)
            labels.append(label if chunk_size == CHUNK else f"{label}, 4 KiB chunks")
            measured.append(
                (best_time(value_ceiling(reply), options.repeat), best_time(ours, options.repeat))
            )
    large_table(
        "Large replies: get of one value, 64 KiB chunks (ratio = ceiling / txarakoon)",
        "value",
        labels,
        [*VALUE_SIZES, VALUE_SIZES[-1]],
        measured,
    )


def large_table(
    title: str, what: str, labels: list[str], sizes: list[int], measured: list[tuple[float, float]]
) -> None:
    ceilings = [ceiling for ceiling, _ in measured]
    ours = [time for _, time in measured]
    rows = [
        [label, seconds(ceiling), seconds(time), ratio(ceiling / time), growth, ceiling_growth]
        for label, (ceiling, time), growth, ceiling_growth in zip(
            labels,
            measured,
            growth_column(sizes, ours),
            growth_column(sizes, ceilings),
            strict=True,
        )
    ]
    table(title, [what, "ceiling", "txarakoon", "ratio", "growth", "ceiling growth"], rows)


# -- blocking SocketClient -----------------------------------------------------------------


def blocking(options: Options, address: tuple[str, int]) -> None:
    total = max(1000, options.requests // 5)

    def raw() -> float:
        with socket.create_connection(address) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(prologue(CLUSTER_ID))
            start = time.perf_counter()
            for _ in range(total):
                sock.sendall(GET_FRAME)
                missing = GET_REPLY_SIZE
                while missing:
                    missing -= len(sock.recv(missing))
            return total / (time.perf_counter() - start)

    def ours() -> float:
        with SocketClient(address, CLUSTER_ID) as client:
            get = client.get
            start = time.perf_counter()
            for _ in range(total):
                get(KEY)
            return total / (time.perf_counter() - start)

    ceiling = max(raw() for _ in range(options.repeat))
    measured = max(ours() for _ in range(options.repeat))
    table(
        "Blocking SocketClient: sequential get (100-byte value) against the canned server",
        ["ceiling get/s", "get/s", "ratio"],
        [[rate(ceiling), rate(measured), ratio(measured / ceiling)]],
    )


# -- memory ----------------------------------------------------------------------------------------


def count_deferreds() -> int:
    return sum(1 for thing in gc.get_objects() if isinstance(thing, Deferred))


def memory(options: Options) -> None:
    """Pipelined requests through one in-memory connection, 1,000 in flight,
    with a silence timeout on a Clock; replies fed back in 64 KiB chunks."""
    total = options.memory_requests
    batch = 1000
    clock = Clock()
    protocol = ArakoonProtocol(CLUSTER_ID, silence_timeout=30.0, clock=clock)
    transport = StringTransport()
    protocol.makeConnection(transport)
    replies = encode_success(STRING, VALUE) * batch
    chunks = [replies[i : i + CHUNK] for i in range(0, len(replies), CHUNK)]

    def one_batch() -> None:
        results = [protocol.get(KEY) for _ in range(batch)]
        transport.clear()
        for chunk in chunks:
            protocol.dataReceived(chunk)
        for result in results:
            result.addCallback(lambda _: None)

    one_batch()  # warm up: whatever is made once is made now
    gc.collect()
    start_deferreds = count_deferreds()
    start_calls = len(clock.getDelayedCalls())
    tracemalloc.start()
    start_memory = tracemalloc.get_traced_memory()[0]
    begin = time.perf_counter()
    for _ in range(total // batch):
        one_batch()
    elapsed = time.perf_counter() - begin
    gc.collect()
    end_memory, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    end_deferreds = count_deferreds()
    end_calls = len(clock.getDelayedCalls())
    growth = end_memory - start_memory
    rows = [
        ["requests answered", f"{total // batch * batch:,}", ""],
        ["time (tracemalloc on)", seconds(elapsed), ""],
        [
            "traced memory growth (after gc.collect())",
            size(growth),
            "ok" if growth < 1 << 20 else "OVER 1 MiB",
        ],
        ["traced peak (1,000 requests in flight)", size(peak - start_memory), ""],
        [
            "pending (sent + unsent)",
            str(protocol.pending),
            "ok" if not protocol.pending else "LEAK",
        ],
        [
            "delayed calls: start → end",
            f"{start_calls} → {end_calls}",
            "ok" if end_calls <= start_calls else "LEAK",
        ],
        [
            "live Deferreds: start → end",
            f"{start_deferreds} → {end_deferreds}",
            "ok" if end_deferreds <= start_deferreds else "LEAK",
        ],
    ]
    table(
        f"Memory: {total:,} pipelined gets through one in-memory connection",
        ["measure", "value", "check"],
        rows,
    )


# -- main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    options = parse(argv)
    print(
        f"txarakoon benchmarks: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
        f"{', quick' if options.quick else ''}, best of {options.repeat}"
    )
    if "large" in options.sections:
        large(options)
    if "memory" in options.sections:
        memory(options)
    if options.sections & {"throughput", "blocking"}:
        with canned_server() as address:
            if "blocking" in options.sections:
                blocking(options, address)
            if "throughput" in options.sections:
                canned = ClusterConfig(CLUSTER_ID, {"canned": ([address[0]], address[1])})
                targets = [
                    (
                        address,
                        canned,
                        "Pipelined throughput, one connection, "
                        "canned-reply server (ratio = txarakoon / ceiling)",
                    )
                ]
                real = real_master()
                if real is not None:
                    targets.append(
                        (
                            real[0],
                            real[1],
                            "Pipelined throughput against the "
                            "TXARAKOON_TEST_NODES master (ratio = txarakoon / ceiling)",
                        )
                    )
                run_reactor(options, targets)


if __name__ == "__main__":
    main()
