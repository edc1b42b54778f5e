"""How keys and values get onto the command line and back out of it."""

from __future__ import annotations

import io
import json

from tests.cli.conftest import CLI
from txarakoon.cli import run


def test_an_argument_that_is_not_utf8_is_sent_as_the_shells_bytes(cli: CLI) -> None:
    # Python hands a program the byte 0xff of its argv as the character U+DCFF.
    cli.ok("set", "io/\udcff", "v")
    assert cli.ok("get", "--hex-in", "696f2fff") == "v\n"


def test_hex_in_reads_keys_and_values_in_hexadecimal(cli: CLI) -> None:
    cli.ok("set", "--hex-in", "696f2f6b", "c3a9")
    assert cli.ok("get", "io/k") == "é\n"


def test_hex_out_prints_values_in_hexadecimal(cli: CLI) -> None:
    cli.ok("set", "io/k", "é")
    assert cli.ok("get", "--hex-out", "io/k") == "c3a9\n"


def test_hex_is_hex_in_and_hex_out(cli: CLI) -> None:
    cli.ok("set", "--hex", "00ff", "c3a9")
    assert cli.ok("get", "--hex", "00ff") == "c3a9\n"


def test_text_output_escapes_bytes_that_are_not_utf8(cli: CLI) -> None:
    cli.ok("set", "--hex-in", "696f2f6b", "61ff")
    assert cli.ok("get", "io/k") == "a\\xff\n"


def test_raw_prints_the_exact_bytes_of_the_value(cli: CLI) -> None:
    cli.ok("set", "--hex-in", "696f2f6b", "00ff0a")
    result = cli("get", "--raw", "io/k")
    assert (result.code, result.stdout) == (0, b"\x00\xff\n")


def test_raw_refuses_a_command_that_prints_more_than_one_value(cli: CLI) -> None:
    result = cli("prefix", "--raw", "io/")
    assert (result.code, result.err) == (
        2,
        "txarakoon: prefix prints more than one value: use --json or --hex-out, not --raw\n",
    )


def test_raw_does_not_go_with_json(cli: CLI) -> None:
    result = cli("get", "--raw", "--json", "io/k")
    assert (result.code, result.err) == (
        2,
        "txarakoon: --raw goes with neither --json nor --hex-out\n",
    )


def test_json_tells_a_byte_that_is_not_utf8_from_its_escape(cli: CLI) -> None:
    cli.ok("set", "--hex-in", "6a2fff", "78")  # j/ and the byte 0xff
    cli.ok("set", "j/\\xff", "x")  # j/ and the four characters \xff
    assert json.loads(cli.ok("prefix", "j/", "--json")) == ["j/\\xff", {"base64": "ai//"}]


def test_json_prints_utf8_as_a_string(cli: CLI) -> None:
    cli.ok("set", "io/k", "é")
    assert json.loads(cli.ok("get", "io/k", "--json")) == "é"


def test_json_with_hex_out_prints_every_byte_string_in_hexadecimal(cli: CLI) -> None:
    cli.ok("set", "io/k", "é")
    assert json.loads(cli.ok("get", "io/k", "--json", "--hex-out")) == "c3a9"


class _ClosedPipe(io.TextIOBase):
    """A standard output whose reader has gone (``| head``)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_reader_that_stops_early_ends_the_command_quietly_with_exit_0(cli: CLI) -> None:
    assert cli("set", "k", "v").code == 0
    stderr = io.StringIO()
    code = cli.resolve(
        run(
            ["range", "--nodes", cli.spec],
            cli.cluster.clock,
            stdout=_ClosedPipe(),
            stderr=stderr,
            environ={},
            endpoint_factory=cli.endpoint,
        )
    )
    assert code == 0
    assert stderr.getvalue() == ""
