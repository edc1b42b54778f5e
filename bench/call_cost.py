"""What one facade call costs: building the message, and sending it on an
``ArakoonProtocol`` over a ``StringTransport`` (no I/O, no reply).

Run from the repository root::

    python bench/call_cost.py                   # this checkout
    python bench/call_cost.py --against HEAD~1  # and another commit, interleaved

With ``--against``, that commit's ``txarakoon`` is exported (``git archive``) to
a temporary directory under another package name and measured in the same
process, alternating with this checkout's: on a shared machine, load that
comes and goes then weighs on both alike. Each figure is the best of
``--repeat`` runs of ``--number`` calls.
"""

from __future__ import annotations

import argparse
import importlib
import io
import subprocess
import sys
import tarfile
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet.testing import StringTransport

ROOT = Path(__file__).resolve().parent.parent
Case = Callable[[], Any]


def cases(package: str) -> dict[str, Case]:
    """The calls to time, made with ``package`` (``txarakoon`` or an export)."""
    client = importlib.import_module(f"{package}.client")
    consistency = importlib.import_module(f"{package}.consistency")
    messages = importlib.import_module(f"{package}.messages")
    protocol_module = importlib.import_module(f"{package}.protocol")

    class Building(client.ClientMixin[client.Sync], client.AbstractClient):
        """A client whose ``_process`` returns the message: the facade alone."""

        def _process(self, message: Any) -> Any:
            return message

    building = Building()
    # No in-flight limit, so that every call takes the same (writing) path.
    protocol = protocol_module.ArakoonProtocol(b"arakoon", max_in_flight=None)
    protocol.makeConnection(StringTransport())
    consistent = consistency.Consistent
    return {
        "messages.GET(Consistent, b'k')": lambda: messages.GET(consistent, b"k"),
        "build: get(b'k')": lambda: building.get(b"k"),
        "build: set(b'k', b'v')": lambda: building.set(b"k", b"v"),
        "build: range(b'a', True, b'z', False)": lambda: building.range(b"a", True, b"z", False),
        "ArakoonProtocol.get(b'k')": lambda: protocol.get(b"k"),
        "ArakoonProtocol.set(b'k', b'v')": lambda: protocol.set(b"k", b"v"),
    }


def export(revision: str, into: Path) -> str:
    """Extract ``revision``'s package into ``into`` as ``txarakoon_<rev>``."""
    name = "txarakoon_" + "".join(c if c.isalnum() else "_" for c in revision)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "txarakoon"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        # The "data" filter exists from Python 3.10.12 and 3.11.4 on.
        if hasattr(tarfile, "data_filter"):
            tar.extractall(into, filter="data")
        else:
            tar.extractall(into)  # our own git archive: trusted
    (into / "txarakoon").rename(into / name)
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV", help="also measure this commit")
    parser.add_argument("--number", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=100)
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        variants = {"this checkout": cases("txarakoon")}
        if options.against:
            sys.path.insert(0, tmp)
            variants = {options.against: cases(export(options.against, Path(tmp))), **variants}
        best = {
            (variant, label): float("inf") for variant in variants for label in variants[variant]
        }
        for _ in range(options.repeat):
            for variant, calls in variants.items():
                for label, call in calls.items():
                    seconds = timeit.timeit(call, number=options.number)
                    best[variant, label] = min(best[variant, label], seconds / options.number)
    print(f"{'µs per call':40}" + "".join(f"{variant:>16}" for variant in variants))
    for label in variants["this checkout"]:
        row = "".join(f"{best[variant, label] * 1e6:16.3f}" for variant in variants)
        print(f"{label:40}{row}")


if __name__ == "__main__":
    main()
