"""The blocking flavour of the recipes: :mod:`txarakoon.recipes.attempts`
driven by a :class:`~txarakoon.blocking_cluster.BlockingArakoonClient`."""

from __future__ import annotations

import logging
import time
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from ..sessions import run_blocking
from .attempts import STRAY_MARKERS, Done, Request, carry

if TYPE_CHECKING:
    from ..blocking_cluster import BlockingArakoonClient

__all__ = ["run"]

log = logging.getLogger("txarakoon.recipes")


def run(client: BlockingArakoonClient, plan: Generator[Request, Any, Done]) -> bytes | None:
    """Drive ``plan`` with ``client``: the value it wrote."""
    done = run_blocking(carry(client, plan, time.sleep))
    if done.stray_markers:
        log.warning(STRAY_MARKERS.format(markers=done.stray_markers))
    return done.value
