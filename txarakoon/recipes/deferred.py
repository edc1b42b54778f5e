"""The Twisted flavour of the recipes: :mod:`txarakoon.recipes.attempts`
driven by an :class:`~txarakoon.cluster.ArakoonClient`'s Deferreds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import deferLater
from twisted.logger import Logger

from .attempts import Done, Pause, Request

if TYPE_CHECKING:
    from collections.abc import Generator

    from ..cluster import ArakoonClient

__all__ = ["run"]

log = Logger()


def run(client: ArakoonClient, plan: Generator[Request, Any, Done]) -> Deferred[bytes | None]:
    """Drive ``plan`` with ``client``: a Deferred of the value it wrote."""
    return Deferred.fromCoroutine(_drive(client, plan))


async def _drive(client: ArakoonClient, plan: Generator[Request, Any, Done]) -> bytes | None:
    outcome: Any = None
    try:
        while True:
            request = plan.send(outcome)
            try:
                if isinstance(request, Pause):
                    outcome = await deferLater(client.clock, request.seconds)
                else:
                    outcome = await request.call(client)
            except CancelledError:
                raise
            except Exception as error:
                outcome = error
    except StopIteration as stop:
        done: Done = stop.value
    finally:
        plan.close()
    if done.stray_markers:
        log.warn(
            "An update was applied, but its markers {markers} could not be removed",
            markers=done.stray_markers,
        )
    return done.value
