"""The twistd plugin example, run as an operator runs it: ``twistd -n
arakoon-kv`` against a cluster served by ``txarakoon serve``, exercised over
HTTP, failed over, and stopped with SIGTERM.

Run it with ``python -m pytest docs/examples/test_twistd_plugin.py``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from txarakoon.testing.process import ServeProcess

HERE = Path(__file__).parent / "twistd"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def http(method: str, url: str, body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def arakoon() -> Iterator[ServeProcess]:
    with ServeProcess.start("--count", "3", "--election-delay", "none") as served:
        yield served


@pytest.fixture
def kv(arakoon: ServeProcess, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The service, started by twistd; its base URL and its process."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    command = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]
    options = ["-n", "--pidfile=", "arakoon-kv", "--port", str(port)]
    twistd = subprocess.Popen(
        [*command, *options, "--arakoon-nodes", arakoon.served.nodes_spec],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if twistd.poll() is not None or time.monotonic() > deadline:
                twistd.kill()
                output, _ = twistd.communicate()
                pytest.fail(f"twistd did not start:\n{output}")
            time.sleep(0.1)
    try:
        yield url, twistd
    finally:
        if twistd.poll() is None:
            twistd.kill()
            twistd.communicate()


def test_the_service_stores_and_serves_values(kv: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = kv
    assert http("PUT", f"{url}/greeting", b"hello") == (200, b"ok\n")
    assert http("GET", f"{url}/greeting") == (200, b"hello")
    assert http("GET", f"{url}/missing")[0] == 404


def test_the_service_rides_through_a_failover(
    kv: tuple[str, subprocess.Popen[str]], arakoon: ServeProcess
) -> None:
    url, _ = kv
    assert http("PUT", f"{url}/k", b"before") == (200, b"ok\n")
    with arakoon.control() as control:
        control.kill("n0")
        control.elect("n1")
        try:
            assert http("GET", f"{url}/k") == (200, b"before")
            assert http("PUT", f"{url}/k", b"after") == (200, b"ok\n")
        finally:
            control.revive("n0")
            control.elect("n0")


def test_sigterm_stops_the_client_with_the_application(
    kv: tuple[str, subprocess.Popen[str]],
) -> None:
    url, twistd = kv
    assert http("PUT", f"{url}/k", b"v")[0] == 200
    twistd.send_signal(signal.SIGTERM)
    output, _ = twistd.communicate(timeout=60)
    # twistd ends by the signal it was stopped with, once shut down cleanly.
    assert twistd.returncode in (0, -signal.SIGTERM), output
    assert "Arakoon client for cluster arakoon stopped" in output
    assert "Server Shut Down." in output
