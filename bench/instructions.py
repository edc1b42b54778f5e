"""Instructions per ``get``, reply included, through ``ArakoonProtocol`` and
through ``ArakoonClient``: the pipelines of :mod:`bench.round_trip`, counted
by callgrind rather than timed, so that load on a shared machine does not
move them.

Run from the repository root (needs ``valgrind``; a few minutes)::

    python -m bench.instructions                  # this checkout
    python -m bench.instructions --against main   # and another commit

Each figure runs one pipeline of ``--short`` and one of ``--long`` requests,
each in a process of its own under ``valgrind --tool=callgrind`` with
``PYTHONHASHSEED=0``, and divides the difference of their instruction counts
by the difference of their lengths: what Python's start, the imports and the
connection cost cancels out.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.call_cost import ROOT, export
from bench.round_trip import IN_FLIGHT

LABELS = ("ArakoonProtocol", "ArakoonClient")


def count(package: str, label: str, in_flight: int, total: int, path: str) -> int:
    """The instructions of a process that runs one pipeline."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-m",
                "bench.instructions",
                "--run",
                package,
                label,
                str(in_flight),
                str(total),
            ],
            check=True,
            cwd=ROOT,
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": path},
        )
        for line in out.read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError("callgrind wrote no total")


def run(package: str, label: str, in_flight: int, total: int) -> None:
    """The pipeline counted (in the process callgrind runs)."""
    from bench.round_trip import cases

    cases(package)[label](in_flight, total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV", help="also count this commit")
    parser.add_argument("--short", type=int, default=1000)
    parser.add_argument("--long", type=int, default=6000)
    parser.add_argument("--in-flight", type=int, action="append", help="(default: 10, 100, 1000)")
    parser.add_argument("--only", choices=LABELS, action="append", help="(default: both)")
    parser.add_argument("--run", nargs=4, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.run:
        package, label, in_flight, total = options.run
        run(package, label, int(in_flight), int(total))
        return
    in_flights = options.in_flight or [n for n in IN_FLIGHT if n > 1]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.pathsep.join([str(ROOT), tmp])
        variants = {"this checkout": "txarakoon"}
        if options.against:
            variants = {options.against: export(options.against, Path(tmp)), **variants}
        print(f"instructions per get (reply included), ({options.long} − {options.short}) requests")
        header = f"{'in flight':>9}"
        for variant in variants:
            header += f"  {variant + ': protocol':>24} {'client':>8} {'ratio':>6}"
        print(header, flush=True)
        for in_flight in in_flights:
            row = f"{in_flight:>9}"
            for package in variants.values():
                per_get = {}
                for label in options.only or LABELS:
                    short = count(package, label, in_flight, options.short, path)
                    long = count(package, label, in_flight, options.long, path)
                    per_get[label] = (long - short) / (options.long - options.short)
                raw = per_get.get("ArakoonProtocol", float("nan"))
                ours = per_get.get("ArakoonClient", float("nan"))
                row += f"  {raw:>24,.0f} {ours:>8,.0f} {raw / ours:>6.3f}"
            print(row, flush=True)
    print("(ratio = protocol's instructions / client's: its throughput over the protocol's)")


if __name__ == "__main__":
    main()
