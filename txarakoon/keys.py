"""The one spelling of what the API accepts as a key or a value.

It lives in a module of its own, with no imports, so that the sans-IO core
(:mod:`txarakoon.sequence`) and the facade (:mod:`txarakoon.client`,
:mod:`txarakoon.paging`) name the same type without importing each other.
"""

from __future__ import annotations

__all__ = ["Key"]

#: A key or value as calls take it, ``bytes`` (or ``bytearray`` or
#: ``memoryview``) or ``str``, which is sent as UTF-8. Results are ``bytes``.
Key = bytes | bytearray | memoryview | str
