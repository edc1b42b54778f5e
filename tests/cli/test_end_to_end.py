"""The command line end to end: ``txarakoon serve`` in one child process, the
console script and ``python -m txarakoon`` in others, and the demo."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PYTHON = sys.executable
#: The console script installed next to this interpreter.
SCRIPT = str(Path(PYTHON).with_name("txarakoon"))
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="module")
def nodes() -> Iterator[str]:
    server = subprocess.Popen(
        [PYTHON, "-m", "txarakoon", "serve", "--nodes", "3"],
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert server.stdout is not None
    spec = None
    for line in server.stdout:
        if line.startswith("# TXARAKOON_TEST_NODES="):
            spec = line.split("=", 1)[1].strip()
            break
    try:
        assert spec is not None, "serve printed no node spec"
        yield spec
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=ENV, timeout=60)


def test_the_console_script_talks_to_the_cluster_serve_runs(nodes: str) -> None:
    assert run(SCRIPT, "set", "e2e/script", "apple", "--nodes", nodes).returncode == 0
    result = run(SCRIPT, "get", "e2e/script", "--nodes", nodes)
    assert (result.returncode, result.stdout) == (0, "apple\n"), result.stderr


def test_python_m_txarakoon_talks_to_the_cluster_serve_runs(nodes: str) -> None:
    assert (
        run(PYTHON, "-m", "txarakoon", "set", "e2e/module", "pear", "--nodes", nodes).returncode
        == 0
    )
    result = run(PYTHON, "-m", "txarakoon", "get", "e2e/module", "--nodes", nodes)
    assert (result.returncode, result.stdout) == (0, "pear\n"), result.stderr


def test_demo_runs_to_the_end() -> None:
    result = subprocess.run(
        [PYTHON, "-m", "txarakoon", "demo"], capture_output=True, text=True, env=ENV, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("Done.")
