"""How the in-memory server words its messages, as the OCaml server does.

The server builds many of its error messages with OCaml's ``%S`` format;
:func:`ocaml_quoted` reproduces it. The texts several modules send live here
too, so each is written once.
"""

from __future__ import annotations

from typing import Final

__all__ = ["NO_LONGER_MASTER_MESSAGE", "UNKNOWN_FAILURE", "ocaml_quoted"]

#: The message of 0xff for an exception the server's reply mapper does not know.
UNKNOWN_FAILURE: Final = b"unknown failure"
#: The message of 0x21 NoLongerMaster (``cluster.no_longer_master``).
NO_LONGER_MASTER_MESSAGE: Final = (
    b"lost master role during wait_for_accepteds while handling client request"
)


#: OCaml's named escapes; other bytes outside printable ASCII are ``\\ddd``.
_ESCAPES: Final = {
    0x22: b'\\"',
    0x5C: b"\\\\",
    0x0A: b"\\n",
    0x09: b"\\t",
    0x0D: b"\\r",
    0x08: b"\\b",
}


def ocaml_quoted(data: bytes) -> bytes:
    """``data`` quoted as OCaml's ``%S`` does (the server's message format)."""
    out = bytearray(b'"')
    for byte in data:
        escaped = _ESCAPES.get(byte)
        if escaped is not None:
            out += escaped
        elif 0x20 <= byte <= 0x7E:
            out.append(byte)
        else:
            out += b"\\%03d" % byte
    out += b'"'
    return bytes(out)
