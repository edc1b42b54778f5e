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

from collections.abc import AsyncIterator, Callable
from operator import itemgetter
from typing import Any, Protocol, TypeVar

from . import messages
from .client import Async, ClientMixin
from .codec import STRING
from .consistency import NOT_GIVEN, Consistency, _NotGiven, resolve
from .keys import Key
from .messages import Command

__all__ = [
    "iter_prefix",
    "iter_range",
    "iter_range_entries",
    "iter_rev_range_entries",
    "prefix_end",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

#: The commands that page, and the key of a page's item: the next page
#: starts after the last one's.
_KEY_OF: dict[Command[Any], Callable[[Any], bytes]] = {
    messages.RANGE: lambda key: key,
    messages.RANGE_ENTRIES: itemgetter(0),
    messages.REV_RANGE_ENTRIES: itemgetter(0),
}


def _page_size(page_size: int) -> int:
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise TypeError(f"page_size must be an int, not {type(page_size).__name__}")
    if not 0 < page_size < 2**31:
        # max_elements is an int32 on the wire, and 0 would never advance.
        raise ValueError(f"page_size must be between 1 and 2**31 - 1, not {page_size}")
    return page_size


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with ``prefix``
    (``None`` when there is none: the prefix is empty or all ``0xff``)."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes((trimmed[-1] + 1,))


class _Pages(Protocol[T_co]):
    """The signature of :func:`iter_range`, :func:`iter_range_entries` and
    :func:`iter_rev_range_entries`: their commands' bounds, a page size."""

    def __call__(
        self,
        client: ClientMixin[Async],
        begin_key: Key | None,
        begin_inclusive: bool,
        end_key: Key | None,
        end_inclusive: bool,
        page_size: int = 1000,
        allow_dirty: bool | _NotGiven = NOT_GIVEN,
        *,
        consistency: Consistency | None = None,
    ) -> AsyncIterator[T_co]: ...


def _pages_of(declaration: Command[list[T]], name: str, doc: str) -> _Pages[T]:
    """The paging function of a range command."""

    def pages(
        client: ClientMixin[Async],
        begin_key: Key | None,
        begin_inclusive: bool,
        end_key: Key | None,
        end_inclusive: bool,
        page_size: int = 1000,
        allow_dirty: bool | _NotGiven = NOT_GIVEN,
        *,
        consistency: Consistency | None = None,
    ) -> AsyncIterator[T]:
        bounds = (begin_key, begin_inclusive, end_key, end_inclusive)
        return _paged(client, declaration, bounds, page_size, resolve(allow_dirty, consistency))

    pages.__name__ = pages.__qualname__ = name
    pages.__doc__ = doc
    return pages


iter_range = _pages_of(
    messages.RANGE,
    "iter_range",
    """The keys of :meth:`~txarakoon.client.ClientMixin.range`, page by page.""",
)
iter_range_entries = _pages_of(
    messages.RANGE_ENTRIES,
    "iter_range_entries",
    """The ``(key, value)`` pairs of
    :meth:`~txarakoon.client.ClientMixin.range_entries`, page by page.""",
)
iter_rev_range_entries = _pages_of(
    messages.REV_RANGE_ENTRIES,
    "iter_rev_range_entries",
    """The pairs of :meth:`~txarakoon.client.ClientMixin.rev_range_entries`
    (descending; ``begin_key`` is the upper bound), page by page.""",
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
    bounds = (start, True, prefix_end(start), False)
    return _paged(client, messages.RANGE, bounds, page_size, resolve(allow_dirty, consistency))


def _paged(
    client: ClientMixin[Async],
    command: Command[Any],
    bounds: tuple[Key | None, bool, Key | None, bool],
    page_size: int,
    consistency: Consistency,
) -> AsyncIterator[Any]:
    # The first page's message is built now: the arguments are checked when
    # the function is called, not when the first page is read.
    return _pages(client, command(consistency, *bounds, _page_size(page_size)))


async def _pages(client: ClientMixin[Async], first: messages.Message[Any]) -> AsyncIterator[Any]:
    """The items of ``first``'s reply, then of the same read after its last
    key, until a page comes back short. (The arguments were checked when
    ``first`` was built: before the first page is read.)"""
    command = first.command
    key_of = _KEY_OF[command]
    consistency, _, _, end, end_inclusive, page_size = first.arguments
    message = first
    while True:
        page = await client._process(message)
        for item in page:
            yield item
        if len(page) < page_size:
            return
        message = command(consistency, key_of(page[-1]), False, end, end_inclusive, page_size)
