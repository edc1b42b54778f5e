"""The held-replies controls of the control channel
(:mod:`txarakoon.testing.channel`): ``hold_replies``, ``held`` and
``release`` (:mod:`txarakoon.testing.holds` holds the requests)."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred

from ..messages import Command
from .cluster import ArakoonCluster
from .control_grammar import ControlError
from .holds import command_named as _command_named
from .holds import touching

__all__ = ["command_named", "held", "hold"]


def command_named(cluster: ArakoonCluster, word: str) -> Command[Any]:
    """The command a word names (``sequence``, ``set``, ...)."""
    try:
        return _command_named(word)
    except LookupError as error:
        raise ControlError(str(error)) from None


def hold(
    cluster: ArakoonCluster,
    name: str,
    command: Command[Any],
    applied: bool = True,
    count: int = 1,
    key: str | None = None,
) -> None:
    """``hold_replies NODE COMMAND [BOOL [COUNT [KEY]]]``: hold the next
    ``count`` requests of ``command`` (about ``key``, if given)."""
    match = command if key is None else touching(command, key.encode("utf-8"))
    cluster.hold_replies(name, match, applied=applied, count=count)


def held(cluster: ArakoonCluster, name: str) -> Deferred[str]:
    """``held NODE``: answered, with how many requests it holds, once the
    node's last hold caught them all."""
    latest = cluster[name].holds.latest
    if latest is None:
        raise ControlError(f"{name} holds nothing (hold_replies first)")
    return latest.when_held().addCallback(str)
