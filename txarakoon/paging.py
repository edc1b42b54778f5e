"""Iterate over large ranges in pages: Arakoon has no cursors.

Each function returns an asynchronous iterator for ``async for`` in code run with
:meth:`~twisted.internet.defer.Deferred.fromCoroutine` (or ``ensureDeferred``)::

    async def dump(client):
        async for key, value in iter_range_entries(client, b"user/", True, None, False):
            print(key, value)

Every page is a separate read of ``page_size`` items starting after the last
key of the previous page. The pages are each consistent, but the whole is not a
snapshot: keys written or deleted between two pages may or may not be seen.
With a cluster client each page is a call of its own (retried on failover
like any read; with ``allow_dirty`` or ``NoGuarantees`` two pages may even come
from different nodes). The arguments are checked when the function is called,
before the first page is read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from .client import Async, ClientMixin
from .codec import STRING
from .consistency import NOT_GIVEN, Consistency, _NotGiven, resolve
from .keys import Key

__all__ = [
    "iter_prefix",
    "iter_range",
    "iter_range_entries",
    "iter_rev_range_entries",
    "prefix_end",
]


def _page_size(page_size: int) -> int:
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise TypeError(f"page_size must be an int, not {type(page_size).__name__}")
    if not 0 < page_size < 2**31:
        # max_elements is an int32 on the wire, and 0 would never advance.
        raise ValueError(f"page_size must be between 1 and 2**31 - 1, not {page_size}")
    return page_size


def _optional_key(key: Key | None) -> bytes | None:
    return None if key is None else STRING.check(key)


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with ``prefix``
    (``None`` when there is none: the prefix is empty or all ``0xff``)."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes((trimmed[-1] + 1,))


def iter_range(
    client: ClientMixin[Async],
    begin_key: Key | None,
    begin_inclusive: bool,
    end_key: Key | None,
    end_inclusive: bool,
    page_size: int = 1000,
    allow_dirty: bool | _NotGiven = NOT_GIVEN,
    *,
    consistency: Consistency | None = None,
) -> AsyncIterator[bytes]:
    """The keys of :meth:`~txarakoon.client.ClientMixin.range`, page by page."""
    return _keys(
        _pages(
            client,
            "range",
            _optional_key(begin_key),
            begin_inclusive,
            _optional_key(end_key),
            end_inclusive,
            _page_size(page_size),
            resolve(allow_dirty, consistency),
        )
    )


def iter_range_entries(
    client: ClientMixin[Async],
    begin_key: Key | None,
    begin_inclusive: bool,
    end_key: Key | None,
    end_inclusive: bool,
    page_size: int = 1000,
    allow_dirty: bool | _NotGiven = NOT_GIVEN,
    *,
    consistency: Consistency | None = None,
) -> AsyncIterator[tuple[bytes, bytes]]:
    """The ``(key, value)`` pairs of
    :meth:`~txarakoon.client.ClientMixin.range_entries`, page by page."""
    return _pages(
        client,
        "range_entries",
        _optional_key(begin_key),
        begin_inclusive,
        _optional_key(end_key),
        end_inclusive,
        _page_size(page_size),
        resolve(allow_dirty, consistency),
    )


def iter_rev_range_entries(
    client: ClientMixin[Async],
    begin_key: Key | None,
    begin_inclusive: bool,
    end_key: Key | None,
    end_inclusive: bool,
    page_size: int = 1000,
    allow_dirty: bool | _NotGiven = NOT_GIVEN,
    *,
    consistency: Consistency | None = None,
) -> AsyncIterator[tuple[bytes, bytes]]:
    """The pairs of :meth:`~txarakoon.client.ClientMixin.rev_range_entries`
    (descending; ``begin_key`` is the upper bound), page by page."""
    return _pages(
        client,
        "rev_range_entries",
        _optional_key(begin_key),
        begin_inclusive,
        _optional_key(end_key),
        end_inclusive,
        _page_size(page_size),
        resolve(allow_dirty, consistency),
    )


def iter_prefix(
    client: ClientMixin[Async],
    prefix: Key,
    page_size: int = 1000,
    allow_dirty: bool | _NotGiven = NOT_GIVEN,
    *,
    consistency: Consistency | None = None,
) -> AsyncIterator[bytes]:
    """The keys starting with ``prefix``, ascending, page by page.

    Arakoon's ``prefix_keys`` cannot start after a given key, so this pages
    with ``range`` from ``prefix`` (inclusive) to :func:`prefix_end`
    (exclusive).
    """
    start = STRING.check(prefix)
    return _keys(
        _pages(
            client,
            "range",
            start,
            True,
            prefix_end(start),
            False,
            _page_size(page_size),
            resolve(allow_dirty, consistency),
        )
    )


async def _keys(pages: AsyncIterator[tuple[bytes, Any]]) -> AsyncIterator[bytes]:
    async for key, _ in pages:
        yield key


async def _pages(
    client: ClientMixin[Async],
    method: str,
    begin: bytes | None,
    begin_inclusive: bool,
    end: bytes | None,
    end_inclusive: bool,
    page_size: int,
    consistency: Consistency,
) -> AsyncIterator[tuple[bytes, Any]]:
    read = getattr(client, method)
    while True:
        page = await read(
            begin, begin_inclusive, end, end_inclusive, page_size, consistency=consistency
        )
        for item in page:
            yield (item, None) if method == "range" else item
        if len(page) < page_size:
            return
        last = page[-1]
        begin = last if method == "range" else last[0]
        begin_inclusive = False
