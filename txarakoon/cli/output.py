"""How the command line prints results: for humans, as JSON, or in hexadecimal."""

from __future__ import annotations

import json
from typing import Any, TextIO

from ..consistency import Consistency

__all__ = ["Output"]


class Output:
    """Prints results for humans, or as JSON (``--json``); byte strings as text
    when they are UTF-8, else escaped, or as hex (``--hex``)."""

    def __init__(self, as_json: bool, as_hex: bool, stream: TextIO) -> None:
        self.as_json = as_json
        self.as_hex = as_hex
        self.stream = stream

    def text(self, data: bytes) -> str:
        if self.as_hex:
            return data.hex()
        return data.decode("utf-8", errors="backslashreplace")

    def jsonable(self, value: Any) -> Any:
        if isinstance(value, bytes):
            return self.text(value)
        if isinstance(value, dict):
            return {str(k): self.jsonable(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.jsonable(v) for v in value]
        if isinstance(value, Consistency):
            return repr(value)
        return value

    def emit(self, value: Any) -> None:
        if self.as_json:
            print(json.dumps(self.jsonable(value), indent=None, sort_keys=False), file=self.stream)
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
