"""The blocking flavour of the recipes: :mod:`txarakoon.recipes.attempts`
driven by a :class:`~txarakoon.blocking_cluster.BlockingArakoonClient`."""

from __future__ import annotations

import logging
import time
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from .attempts import Done, Pause, Request

if TYPE_CHECKING:
    from ..blocking_cluster import BlockingArakoonClient

__all__ = ["run"]

log = logging.getLogger("txarakoon.recipes")


def run(client: BlockingArakoonClient, plan: Generator[Request, Any, Done]) -> bytes | None:
    """Drive ``plan`` with ``client``: the value it wrote."""
    outcome: Any = None
    try:
        while True:
            request = plan.send(outcome)
            try:
                if isinstance(request, Pause):
                    time.sleep(request.seconds)
                    outcome = None
                else:
                    outcome = request.call(client)
            except Exception as error:
                outcome = error
    except StopIteration as stop:
        done: Done = stop.value
    finally:
        plan.close()
    if done.stray_markers:
        log.warning(
            "An update was applied, but its markers %r could not be removed", done.stray_markers
        )
    return done.value
