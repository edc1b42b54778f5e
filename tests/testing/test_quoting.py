"""The in-memory server words messages as OCaml's %S format does."""

from __future__ import annotations

from txarakoon.testing.quoting import ocaml_quoted


def test_printable_ascii_is_kept_between_quotes() -> None:
    assert ocaml_quoted(b"fruit/apple 1") == b'"fruit/apple 1"'


def test_quotes_backslashes_and_control_characters_get_named_escapes() -> None:
    assert ocaml_quoted(b'"\\\n\t\r\x08') == b'"\\"\\\\\\n\\t\\r\\b"'


def test_other_bytes_are_three_decimal_digits() -> None:
    assert ocaml_quoted(b"\x00\x01\x7f\xff") == b'"\\000\\001\\127\\255"'
