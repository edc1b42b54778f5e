"""``txarakoon serve``'s mistakes, in-process (serving itself is tested end to end)."""

from __future__ import annotations

import io
import socket

import pytest

from tests.cli.conftest import CLI
from txarakoon.cli import main


def test_serve_on_a_busy_port_says_so_and_exits_8() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        stdout, stderr = io.StringIO(), io.StringIO()
        code = main(["serve", "--port", str(port)], stdout=stdout, stderr=stderr)
    assert code == 8
    assert stderr.getvalue().startswith(f"txarakoon: serve: cannot listen on 127.0.0.1:{port}: ")
    assert stderr.getvalue().count("\n") == 1
    assert stdout.getvalue() == ""


def test_serve_ports_past_65535_are_a_usage_error() -> None:
    stderr = io.StringIO()
    assert main(["serve", "--port", "65535", "--count", "2"], stderr=stderr) == 2
    assert stderr.getvalue() == "txarakoon: serve: --port 65535 leaves no room for 2 nodes\n"


def test_run_leaves_serve_and_demo_to_main(cli: CLI) -> None:
    result = cli.bare("demo")
    assert (result.code, result.err) == (2, "txarakoon: demo runs its own reactor: use main()\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lease", "0"], "argument --lease: must be a number of seconds, positive, not '0'"),
        (
            ["--lease", "soon"],
            "argument --lease: must be a number of seconds, positive, not 'soon'",
        ),
        (
            ["--election-delay", "-1"],
            "argument --election-delay: must be a number of seconds, 0 or more, or none, not '-1'",
        ),
        (
            ["--election-delay", "never"],
            "argument --election-delay: must be a number of seconds, 0 or more, or none, "
            "not 'never'",
        ),
        (["--lag", "-1"], "argument --lag: must be a number of updates, 0 or more, not '-1'"),
        (["--lag", "one"], "argument --lag: must be a number of updates, 0 or more, not 'one'"),
        (["--control", "70000"], "argument --control: must be a TCP port (0: any free one)"),
        (["--control"], "argument --control: expected one argument"),
    ],
    ids=" ".join,
)
def test_a_bad_serve_option_is_one_line_and_exit_code_2(argv: list[str], message: str) -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    assert main(["serve", *argv], stdout=stdout, stderr=stderr) == 2
    assert stderr.getvalue().startswith(f"txarakoon: {message}")
    assert stderr.getvalue().endswith(" (see txarakoon serve --help)\n")
    assert stderr.getvalue().count("\n") == 1
    assert stdout.getvalue() == ""


def test_serve_on_a_busy_control_port_says_so_and_exits_8() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        stdout, stderr = io.StringIO(), io.StringIO()
        code = main(["serve", "--control", str(port)], stdout=stdout, stderr=stderr)
    assert code == 8
    assert stderr.getvalue().startswith(f"txarakoon: serve: cannot listen on 127.0.0.1:{port}: ")
    assert stderr.getvalue().count("\n") == 1
    assert stdout.getvalue() == ""
