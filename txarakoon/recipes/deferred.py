"""The Twisted flavour of the recipes: :mod:`txarakoon.recipes.attempts`
driven by an :class:`~txarakoon.cluster.ArakoonClient`'s Deferreds."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import deferLater
from twisted.logger import Logger

from .attempts import STRAY_MARKERS, Done, Request, carry

if TYPE_CHECKING:
    from collections.abc import Generator

    from ..cluster import ArakoonClient

__all__ = ["run"]

log = Logger()


def run(client: ArakoonClient, plan: Generator[Request, Any, Done]) -> Deferred[bytes | None]:
    """Drive ``plan`` with ``client``: a Deferred of the value it wrote.

    Cancelling it throws the cancellation into ``plan``, and the Deferred
    ends as the plan does (``Deferred.fromCoroutine`` gives the outcome of
    the generator, not a ``CancelledError`` of its own): a
    ``CancelledError``, an ``UpdateOutcomeUnknown``, or the value."""
    return Deferred.fromCoroutine(_value(client, plan))


def _value(
    client: ArakoonClient, plan: Generator[Request, Any, Done]
) -> Generator[Any, Any, bytes | None]:
    sleep = partial(deferLater, client.clock)
    done = yield from carry(client, plan, sleep, (CancelledError,))
    if done.stray_markers:
        log.warn(STRAY_MARKERS, markers=done.stray_markers)
    return done.value
