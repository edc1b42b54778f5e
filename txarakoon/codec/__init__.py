"""Wire types: encode Python values to bytes, and decode them. No I/O, no Twisted.

Every type has:

* ``check(value)`` — validate and normalise a caller's value (``str`` keys become
  UTF-8 ``bytes``), raising :class:`TypeError` / :class:`ValueError`;
* ``encode(value)`` — the wire bytes of an already checked value;
* ``decode_from(buffer, offset, limit)`` — its one decoder: the value at
  ``buffer[offset:]`` and the offset after it, or :class:`Incomplete` saying
  how many more bytes it needs at least. ``limit`` caps every string length and
  element count: a larger prefix raises
  :class:`~txarakoon.errors.ProtocolViolation` instead of allocating.

The incremental decoder, ``receive(limit)`` — a coroutine that asks for the
bytes it needs next (``data = yield n``) and returns the value — is derived
from ``decode_from`` once, here in :class:`Type`: a value whose bytes are not
all there yet is decoded again once the bytes it said it lacks have come, which
for a leaf (a number, a flag, a consistency) happens at most twice. Composites
chain their parts' coroutines instead, so that each part is read once:
:class:`Option`, :class:`Product` and the string-wrapped values; a string waits
for its length, then for its bytes, and is handed them without a copy. Only
collections stream by hand: they ask for as many bytes as their remaining
elements certainly take (at most :data:`READ_AHEAD`) and decode every complete
element of them at once with ``decode_many``, so a reply of a million entries
costs hundreds of resumptions, not millions.

:class:`~txarakoon.reader.Reader` chooses between the two paths: ``decode_from``
for a value already whole in memory (the common case), the coroutine for one
arriving in pieces. A property test holds them to the same values, consumed
bytes and errors.

The same types decode what they encode and encode what they decode, so the
in-memory server (:mod:`txarakoon.testing`) reads requests and writes replies with
them.
"""

from __future__ import annotations

from ..reader import DEFAULT_MAX_REPLY_LENGTH, Incomplete, Receiver, decode
from .base import Type
from .composites import READ_AHEAD, Array, Option, Product, RequestList, ResponseList
from .scalars import BOOL, CONSISTENCY, FLOAT, INT32, INT64, UINT32, UINT64, UNIT
from .strings import STRING, String, StringWrapped

__all__ = [
    "BOOL",
    "CONSISTENCY",
    "DEFAULT_MAX_REPLY_LENGTH",
    "FLOAT",
    "INT32",
    "INT64",
    "READ_AHEAD",
    "STRING",
    "UINT32",
    "UINT64",
    "UNIT",
    "Array",
    "Incomplete",
    "Option",
    "Product",
    "Receiver",
    "RequestList",
    "ResponseList",
    "String",
    "StringWrapped",
    "Type",
    "decode",
]
