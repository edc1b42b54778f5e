"""The command line end to end: ``txarakoon serve`` in one child process, the
console script and ``python -m txarakoon`` in others, and the demo."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from txarakoon.config import ClusterConfig

PYTHON = sys.executable
#: The console script installed next to this interpreter.
SCRIPT = str(Path(PYTHON).with_name("txarakoon"))
#: Without the developer's own cluster, if any.
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("TXARAKOON_")},
    "PYTHONUNBUFFERED": "1",
}


@dataclass(frozen=True)
class Served:
    """What ``txarakoon serve`` printed before serving."""

    printed: str
    #: The environment its ``export`` line sets, on top of ENV.
    env: dict[str, str]


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    server = subprocess.Popen(
        [SCRIPT, "serve", "--count", "3"], stdout=subprocess.PIPE, text=True, env=ENV
    )
    assert server.stdout is not None
    lines = []
    env = dict(ENV)
    try:
        for line in server.stdout:
            lines.append(line)
            if line.startswith("export "):
                # What a shell makes of the line (it is quoted for one).
                name, _, value = shlex.split(line)[1].partition("=")
                env[name] = value
            if line.startswith("# serving"):
                break
        yield Served("".join(lines), env)
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()


def run(served: Served, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=served.env, timeout=60)


def test_the_line_serve_prints_points_every_command_at_the_cluster(served: Served) -> None:
    assert run(served, SCRIPT, "set", "e2e/script", "apple").returncode == 0
    result = run(served, SCRIPT, "get", "e2e/script")
    assert (result.returncode, result.stdout) == (0, "apple\n"), result.stderr


def test_what_serve_prints_reads_as_the_clusters_ini(served: Served) -> None:
    config = ClusterConfig.from_ini(served.printed)
    assert config.to_spec() == served.env["TXARAKOON_NODES"]


def test_python_m_txarakoon_talks_to_the_cluster(served: Served) -> None:
    assert run(served, PYTHON, "-m", "txarakoon", "set", "e2e/module", "pear").returncode == 0
    result = run(served, PYTHON, "-m", "txarakoon", "get", "e2e/module")
    assert (result.returncode, result.stdout) == (0, "pear\n"), result.stderr


def test_demo_runs_to_the_end() -> None:
    result = subprocess.run(
        [PYTHON, "-m", "txarakoon", "demo"], capture_output=True, text=True, env=ENV, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("Done.")


def test_raw_bytes_go_in_from_the_shell_and_out_unchanged(served: Served) -> None:
    key, value = b"e2e/\xff", b"\xfe\n"  # no NUL: an argv cannot hold one
    written = subprocess.run([SCRIPT, "set", key, value], capture_output=True, env=served.env)
    assert written.returncode == 0, written.stderr
    read = subprocess.run([SCRIPT, "get", "--raw", key], capture_output=True, env=served.env)
    assert (read.returncode, read.stdout) == (0, value), read.stderr
