"""Testing a service that runs in another process, against a cluster served
by a third: ``txarakoon serve --control`` and its control client.

The service under test cannot share the test's process, so the test cannot
hold the cluster object to kill its master. It starts ``txarakoon serve``
with a control channel and fails the cluster over through it. Here the
``txarakoon`` command line stands in for the service: like a service, it
reads the cluster from ``TXARAKOON_NODES`` and has a deadline per call.

Run it with ``python -m pytest docs/examples/test_in_another_process.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from txarakoon.testing.control import ControlClient
from txarakoon.testing.process import ServeProcess

# -- the cluster, in a process of its own, and its controls --------------------


@pytest.fixture(scope="module")
def arakoon() -> Iterator[ServeProcess]:
    # No election by itself: the tests say who takes over, and when.
    with ServeProcess.start("--count", "3", "--election-delay", "none") as served:
        yield served


@pytest.fixture
def control(arakoon: ServeProcess) -> Iterator[ControlClient]:
    with arakoon.control() as client:
        yield client
        # Leave the cluster as every test finds it: all nodes up, n0 master.
        for name, node in client.state()["nodes"].items():
            if not node["alive"]:
                client.revive(name)
            client.delay_replies(name, 0)
        client.elect("n0")


# -- the service under test, in another process -------------------------------


def service(arakoon: ServeProcess, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run the service against the served cluster: the environment it reads
    is what ``serve`` printed."""
    env = {**os.environ, **arakoon.served.environ()}
    return subprocess.run(
        [sys.executable, "-m", "txarakoon", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- the tests -------------------------------------------------------------------


def test_the_service_writes_through_the_new_master_after_a_failover(
    arakoon: ServeProcess, control: ControlClient
) -> None:
    control.kill("n0")
    control.elect("n1")
    assert service(arakoon, "set", "greeting", "hello").returncode == 0
    assert control.state()["master"] == "n1"
    assert service(arakoon, "get", "greeting").stdout == "hello\n"


def test_without_a_master_the_service_says_so(
    arakoon: ServeProcess, control: ControlClient
) -> None:
    control.drop_master()
    result = service(arakoon, "--timeout", "1", "get", "greeting")
    assert result.returncode == 3  # no master
    assert "no node could be confirmed as master" in result.stderr


def test_a_master_that_answers_too_late_makes_the_service_time_out(
    arakoon: ServeProcess, control: ControlClient
) -> None:
    control.delay_replies("n0", 30)
    result = service(arakoon, "--timeout", "1", "get", "greeting")
    assert result.returncode == 6  # timeout
