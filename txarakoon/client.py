"""The client facade: one typed, documented method per Arakoon command.

:class:`ClientMixin` is mixed into every client. Each method checks its
arguments (raising :class:`TypeError` / :class:`ValueError` before anything is
sent), builds a :class:`~txarakoon.messages.Message` and hands it to
``self._process(message)``. What ``_process`` returns depends on the client:

* :class:`~txarakoon.protocol.ArakoonProtocol` and
  :class:`~txarakoon.cluster.ArakoonClient` are ``ClientMixin[Async]``: every
  method returns a :class:`~twisted.internet.defer.Deferred` of the result;
* :class:`~txarakoon.blocking.SocketClient` is ``ClientMixin[Sync]``: every method
  returns the result itself.

Each method is written once, as the builder of its message (or, for a
command sent as declared, as its declaration and docstring), and
:mod:`txarakoon.facade` makes of it one method per flavour, typed and
documented with that flavour's result, so ``await proto.get(k)`` and
``SocketClient(...).get(k)`` are both typed ``bytes``. Below, each method shows
both signatures.

Keys and values may be given as ``bytes`` (or ``bytearray``/``memoryview``) or as
``str``, which is encoded as UTF-8. Results are always ``bytes``.

Reads take the seed API's ``allow_dirty`` flag (``True`` = any node may answer,
possibly stale) or, as a keyword, a ``consistency`` from
:mod:`txarakoon.consistency`; giving both is a :class:`TypeError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import messages
from .consistency import NOT_GIVEN, Consistency, _NotGiven, resolve
from .errors import NotConnectedError
from .facade import Async, Facade, M, Sync, command
from .keys import Key
from .messages import Message
from .sequence import Sequence, Step

__all__ = ["AbstractClient", "Async", "ClientMixin", "NotConnectedError", "Sync"]

AllowDirty = bool | _NotGiven


def _range_arguments(
    begin_key: Key | None,
    begin_inclusive: bool,
    end_key: Key | None,
    end_inclusive: bool,
    max_elements: int = -1,
    allow_dirty: AllowDirty = NOT_GIVEN,
    *,
    consistency: Consistency | None = None,
) -> tuple[Any, ...]:
    """The parameters of :meth:`~ClientMixin.range`, :meth:`~ClientMixin.range_entries`
    and :meth:`~ClientMixin.rev_range_entries`, as their declarations' arguments."""
    return (
        resolve(allow_dirty, consistency),
        begin_key,
        begin_inclusive,
        end_key,
        end_inclusive,
        max_elements,
    )


class ClientMixin(Facade[M]):
    """Client actions for standard Arakoon functionality.

    Mix into a class that implements ``_process`` (see :class:`AbstractClient`),
    choosing a flavour: ``ClientMixin[Async]`` or ``ClientMixin[Sync]``.
    """

    # Each builder below is the whole of a method: its parameters, defaults and
    # docstring, and the message it sends (see txarakoon.facade).

    # -- connection-level -------------------------------------------------

    @command
    def hello(client_id: Key, cluster_id: Key) -> Message[bytes]:
        """Say hello: returns the server's version text, e.g. ``b"Arakoon 1.9.25"``.

        ``client_id`` is only logged by the server. A ``cluster_id`` other than
        the node's makes the server answer
        :class:`~txarakoon.errors.UnknownFailure` and close the connection.
        """
        return messages.HELLO(client_id, cluster_id)

    who_master = command.sends(
        messages.WHO_MASTER,
        """The name of the master as this node knows it, or ``None`` if it knows none
        (a young cluster, or an expired lease).""",
    )

    # -- reads ----------------------------------------------------------------

    @command
    def exists(
        key: Key, allow_dirty: AllowDirty = NOT_GIVEN, *, consistency: Consistency | None = None
    ) -> Message[bool]:
        """Whether ``key`` is bound."""
        return messages.EXISTS(resolve(allow_dirty, consistency), key)

    @command
    def get(
        key: Key, allow_dirty: AllowDirty = NOT_GIVEN, *, consistency: Consistency | None = None
    ) -> Message[bytes]:
        """The value bound to ``key``; :class:`~txarakoon.errors.NotFound` (also a
        :class:`KeyError`) if it is not bound."""
        return messages.GET(resolve(allow_dirty, consistency), key)

    @command
    def multi_get(
        keys: Iterable[Key],
        allow_dirty: AllowDirty = NOT_GIVEN,
        *,
        consistency: Consistency | None = None,
    ) -> Message[list[bytes]]:
        """The values of ``keys``, in the same order. All or nothing: if any key is
        missing, :class:`~txarakoon.errors.NotFound` names one of them."""
        return messages.MULTI_GET(resolve(allow_dirty, consistency), keys)

    @command
    def multi_get_option(
        keys: Iterable[Key],
        allow_dirty: AllowDirty = NOT_GIVEN,
        *,
        consistency: Consistency | None = None,
    ) -> Message[list[bytes | None]]:
        """The values of ``keys``, in the same order, ``None`` for a missing key."""
        return messages.MULTI_GET_OPTION(resolve(allow_dirty, consistency), keys)

    range = command.sends(
        messages.RANGE,
        """The keys between ``begin_key`` and ``end_key``, ascending.

        The ``*_inclusive`` flags say whether a bound itself is included.
        ``None`` as the upper bound means "to the last key"; as the lower bound
        it is the empty key, so ``begin_inclusive=False`` leaves out a value
        bound to ``b""`` (as the server does, PROTOCOL.md D26). At most
        ``max_elements`` keys are returned; a negative number means all, ``0``
        none.
        """,
        _range_arguments,
    )

    range_entries = command.sends(
        messages.RANGE_ENTRIES,
        """Like :meth:`range`, but ``(key, value)`` pairs, ascending by key.""",
        _range_arguments,
    )

    rev_range_entries = command.sends(
        messages.REV_RANGE_ENTRIES,
        """``(key, value)`` pairs in descending key order.

        Here ``begin_key`` is the **upper** bound, where the backward scan starts
        (``None``: the last key), and ``end_key`` the lower bound (``None``:
        the empty key, included if ``end_inclusive``).
        """,
        _range_arguments,
    )

    @command
    def prefix(
        prefix: Key,
        max_elements: int = -1,
        allow_dirty: AllowDirty = NOT_GIVEN,
        *,
        consistency: Consistency | None = None,
    ) -> Message[list[bytes]]:
        """The keys starting with ``prefix``, ascending; at most ``max_elements``
        (negative: all). An empty prefix matches every key."""
        return messages.PREFIX_KEYS(resolve(allow_dirty, consistency), prefix, max_elements)

    @command
    def assert_(
        key: Key,
        value: Key | None,
        allow_dirty: AllowDirty = NOT_GIVEN,
        *,
        consistency: Consistency | None = None,
    ) -> Message[None]:
        """Succeed if ``key`` is bound to ``value`` (``None``: if ``key`` is not
        bound); otherwise fail with :class:`~txarakoon.errors.AssertionFailed`."""
        return messages.ASSERT(resolve(allow_dirty, consistency), key, value)

    @command
    def assert_exists(
        key: Key, allow_dirty: AllowDirty = NOT_GIVEN, *, consistency: Consistency | None = None
    ) -> Message[None]:
        """Succeed if ``key`` is bound; otherwise fail with
        :class:`~txarakoon.errors.AssertionFailed`."""
        return messages.ASSERT_EXISTS(resolve(allow_dirty, consistency), key)

    # -- writes (the master only) -------------------------------------------

    @command
    def set(key: Key, value: Key) -> Message[None]:
        """Bind ``key`` to ``value``. Values of 8 MiB or more are refused with
        :class:`ValueError` (Arakoon's ``max_value_size``)."""
        return messages.SET(key, value)

    @command
    def delete(key: Key) -> Message[None]:
        """Unbind ``key``; :class:`~txarakoon.errors.NotFound` if it is not bound."""
        return messages.DELETE(key)

    @command
    def test_and_set(
        key: Key, test_value: Key | None, set_value: Key | None
    ) -> Message[bytes | None]:
        """Atomically: if the value of ``key`` equals ``test_value`` (``None``: the
        key is not bound), bind it to ``set_value`` (``None``: delete it).

        Returns the value before the operation (``None`` if unbound) whether or not
        it changed anything; compare it with ``test_value`` to know. Never raises
        NotFound.
        """
        return messages.TEST_AND_SET(key, test_value, set_value)

    @command
    def replace(key: Key, value: Key | None) -> Message[bytes | None]:
        """Bind ``key`` to ``value`` (``None``: delete it) and return the previous
        value, ``None`` if it was not bound."""
        return messages.REPLACE(key, value)

    @command
    def confirm(key: Key, value: Key) -> Message[None]:
        """Like :meth:`set`, but do nothing (no replicated write) if ``key`` is
        already bound to ``value``."""
        return messages.CONFIRM(key, value)

    @command
    def delete_prefix(prefix: Key) -> Message[int]:
        """Delete every key starting with ``prefix`` (empty: every key); returns
        how many were deleted."""
        return messages.DELETE_PREFIX(prefix)

    @command
    def sequence(steps: Iterable[Step] | Sequence, sync: bool = False) -> Message[None]:
        """Run ``steps`` (from :mod:`txarakoon.sequence`) as one atomic transaction.

        With ``sync=True`` the server fsyncs its log before answering
        (``synced_sequence``). The first failing step fails the whole sequence
        (:class:`~txarakoon.errors.NotFound` for a Delete of a missing key,
        :class:`~txarakoon.errors.AssertionFailed` for an assertion). See
        :mod:`txarakoon.sequence` for what Arakoon does *not* undo.
        """
        if not isinstance(sync, bool):
            raise TypeError(f"sync must be a bool, not {type(sync).__name__}")
        return (messages.SYNCED_SEQUENCE if sync else messages.SEQUENCE)(steps)

    @command
    def user_function(function: Key, argument: Key | None) -> Message[bytes | None]:
        """Run the server-side user function registered as ``function``.

        An unknown function gives :class:`~txarakoon.errors.BadInput`; a function
        that raises gives :class:`~txarakoon.errors.UserFunctionFailure`.
        """
        return messages.USER_FUNCTION(function, argument)

    nop = command.sends(
        messages.NOP,
        """A replicated write that changes nothing: proves the master can make
        progress, and pushes slaves to apply the previous update.""",
    )

    # -- cluster state ------------------------------------------------------

    expect_progress_possible = command.sends(
        messages.EXPECT_PROGRESS_POSSIBLE,
        """Whether this node believes a quorum is available to make progress.""",
    )

    get_key_count = command.sends(
        messages.GET_KEY_COUNT,
        """The number of keys in the store (a consistent read: the master only).""",
    )

    statistics = command.sends(
        messages.STATISTICS_COMMAND,
        """The node's statistics as a nested dict (field names are ``str``).""",
    )

    version = command.sends(
        messages.VERSION_COMMAND,
        """The node's version: ``(major, minor, patch, info)``, ``info`` bytes.""",
    )

    get_current_state = command.sends(
        messages.CURRENT_STATE,
        """The name of the node's consensus state, e.g. ``b"Stable_master"``
        (diagnostics only).""",
    )

    get_txid = command.sends(
        messages.GET_TXID,
        """The node's last applied update as ``AtLeast(i)``: pass it as the
        ``consistency`` of a read on any node to see everything applied here.""",
    )


class AbstractClient:
    """Base class of clients: a :class:`ClientMixin` needs ``_process``
    (:meth:`Facade._process <txarakoon.facade.Facade._process>`) and
    ``connected``.

    ``connected`` says whether the client can send requests now; when it is
    false, calls fail with :class:`~txarakoon.errors.NotConnectedError`:
    raised by blocking clients, as a failed Deferred by Twisted ones. Each
    client provides it in its own way (a Twisted protocol's flag, a property
    of the blocking client), so it is documented here rather than declared:
    a declaration would clash with Twisted's ``Protocol.connected``.
    """
