"""How the command line prints results: for humans, in hexadecimal, as JSON,
or as the exact bytes of one value."""

from __future__ import annotations

import base64
import json
from typing import Any, TextIO

from ..consistency import Consistency

__all__ = ["Output"]


class Output:
    """Prints results to ``stream``.

    For humans by default: byte strings as UTF-8 text, the bytes that are not
    UTF-8 backslash-escaped (readable, but ``\\xff`` may be one byte or four
    characters); in hexadecimal with ``hex``; as one JSON document with
    ``as_json``, where a byte string is a string if it is UTF-8 and
    ``{"base64": ...}`` if not (a hexadecimal string with ``hex``); with
    ``raw``, a byte string exactly as it is, and nothing else.
    """

    def __init__(
        self, stream: TextIO, *, as_json: bool = False, hex: bool = False, raw: bool = False
    ) -> None:
        self.stream = stream
        self.as_json = as_json
        self.hex = hex
        self.raw = raw

    def text(self, data: bytes) -> str:
        """A byte string as text, the way results print (also in messages)."""
        if self.hex:
            return data.hex()
        return data.decode("utf-8", errors="backslashreplace")

    def jsonable(self, value: Any) -> Any:
        if isinstance(value, bytes):
            if self.hex:
                return value.hex()
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                # Escaping would be lossy (the escape is also valid text):
                # say how the bytes are encoded instead.
                return {"base64": base64.b64encode(value).decode("ascii")}
        if isinstance(value, dict):
            return {str(k): self.jsonable(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.jsonable(v) for v in value]
        if isinstance(value, Consistency):
            return repr(value)
        return value

    def emit(self, value: Any) -> None:
        if self.raw:
            # Only commands that print one byte string (or none) take --raw.
            if value is not None:
                self.stream.flush()
                self.stream.buffer.write(value)
                self.stream.buffer.flush()
            return
        if self.as_json:
            print(json.dumps(self.jsonable(value)), file=self.stream)
            return
        print(self.human(value), file=self.stream)

    def human(self, value: Any, indent: str = "") -> str:
        if value is None:
            return f"{indent}(none)"
        if isinstance(value, bytes):
            return indent + self.text(value)
        if isinstance(value, bool):
            return indent + ("yes" if value else "no")
        if isinstance(value, dict):
            lines = []
            for key, item in value.items():
                if isinstance(item, dict):
                    lines.append(f"{indent}{key}:")
                    lines.append(self.human(item, indent + "  "))
                else:
                    lines.append(f"{indent}{key}: {self.human(item).strip()}")
            return "\n".join(lines)
        if isinstance(value, list):
            return "\n".join(self.human(item, indent) for item in value)
        if isinstance(value, tuple):
            return indent + "\t".join(self.human(item).strip() for item in value)
        return f"{indent}{value}"
