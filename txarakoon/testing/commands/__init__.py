"""The command handlers of an in-memory node, one per declaration, by family.

Each handler is a method marked with :func:`~txarakoon.testing.core.handles`
and the :class:`~txarakoon.messages.Command` it serves; it takes the decoded
arguments and returns the result (or a Deferred of it), or raises the
:class:`~txarakoon.errors.ArakoonError` the server answers.

* :mod:`~txarakoon.testing.commands.reads`: reads of the data;
* :mod:`~txarakoon.testing.commands.writes`: updates (writes, sequences,
  user functions);
* :mod:`~txarakoon.testing.commands.admin`: the node's and the cluster's state,
  and node maintenance.
"""

from __future__ import annotations

from .admin import ARAKOON_VERSION, AdminCommands
from .reads import ReadCommands
from .writes import WriteCommands

__all__ = ["ARAKOON_VERSION", "AdminCommands", "ReadCommands", "WriteCommands"]
