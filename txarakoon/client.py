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

The two ``@overload`` declarations of each method tell a type checker which one
applies, so ``await proto.get(k)`` and ``SocketClient(...).get(k)`` are both
typed ``bytes``.

Keys and values may be given as ``bytes`` (or ``bytearray``/``memoryview``) or as
``str``, which is encoded as UTF-8. Results are always ``bytes``.

Reads take the seed API's ``allow_dirty`` flag (``True`` = any node may answer,
possibly stale) or, as a keyword, a ``consistency`` from
:mod:`txarakoon.consistency`; giving both is a :class:`TypeError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from . import messages
from .consistency import NOT_GIVEN, Consistency, _NotGiven, resolve
from .errors import NotConnectedError
from .keys import Key
from .messages import Message, Statistics, Version
from .sequence import Sequence, Step

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

__all__ = ["AbstractClient", "Async", "ClientMixin", "NotConnectedError", "Sync"]

T = TypeVar("T")

AllowDirty = bool | _NotGiven
Entries = list[tuple[bytes, bytes]]


class Async:
    """Type marker: the client's methods return Deferreds."""


class Sync:
    """Type marker: the client's methods return values (they block)."""


M = TypeVar("M", Async, Sync)


class ClientMixin(Generic[M]):
    """Client actions for standard Arakoon functionality.

    Mix into a class that implements ``_process`` (see :class:`AbstractClient`).
    """

    def _process(self, message: Message[Any]) -> Any:
        """Send ``message`` and return its result (or a Deferred of it)."""
        raise NotImplementedError

    # -- connection-level -------------------------------------------------

    @overload
    def hello(self: ClientMixin[Async], client_id: Key, cluster_id: Key) -> Deferred[bytes]: ...
    @overload
    def hello(self: ClientMixin[Sync], client_id: Key, cluster_id: Key) -> bytes: ...
    def hello(self, client_id: Key, cluster_id: Key) -> Any:
        """Say hello: returns the server's version text, e.g. ``b"Arakoon 1.9.25"``.

        ``client_id`` is only logged by the server. A ``cluster_id`` other than
        the node's makes the server answer
        :class:`~txarakoon.errors.UnknownFailure` and close the connection.
        """
        return self._process(messages.HELLO(client_id, cluster_id))

    @overload
    def who_master(self: ClientMixin[Async]) -> Deferred[bytes | None]: ...
    @overload
    def who_master(self: ClientMixin[Sync]) -> bytes | None: ...
    def who_master(self) -> Any:
        """The name of the master as this node knows it, or ``None`` if it knows none
        (a young cluster, or an expired lease)."""
        return self._process(messages.WHO_MASTER())

    # -- reads ----------------------------------------------------------------

    @overload
    def exists(
        self: ClientMixin[Async],
        key: Key,
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> Deferred[bool]: ...
    @overload
    def exists(
        self: ClientMixin[Sync],
        key: Key,
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> bool: ...
    def exists(
        self,
        key: Key,
        allow_dirty: AllowDirty = NOT_GIVEN,
        *,
        consistency: Consistency | None = None,
    ) -> Any:
        """Whether ``key`` is bound."""
        return self._process(messages.EXISTS(resolve(allow_dirty, consistency), key))

    @overload
    def get(
        self: ClientMixin[Async],
        key: Key,
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> Deferred[bytes]: ...
    @overload
    def get(
        self: ClientMixin[Sync],
        key: Key,
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> bytes: ...
    def get(
        self,
        key: Key,
        allow_dirty: AllowDirty = NOT_GIVEN,
        *,
        consistency: Consistency | None = None,
    ) -> Any:
        """The value bound to ``key``; :class:`~txarakoon.errors.NotFound` (also a
        :class:`KeyError`) if it is not bound."""
        return self._process(messages.GET(resolve(allow_dirty, consistency), key))

    @overload
    def multi_get(
        self: ClientMixin[Async],
        keys: Iterable[Key],
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> Deferred[list[bytes]]: ...
    @overload
    def multi_get(
        self: ClientMixin[Sync],
        keys: Iterable[Key],
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> list[bytes]: ...
    def multi_get(
        self,
        keys: Iterable[Key],
        allow_dirty: AllowDirty = NOT_GIVEN,
        *,
        consistency: Consistency | None = None,
    ) -> Any:
        """The values of ``keys``, in the same order. All or nothing: if any key is
        missing, :class:`~txarakoon.errors.NotFound` names one of them."""
        return self._process(messages.MULTI_GET(resolve(allow_dirty, consistency), keys))

    @overload
    def multi_get_option(
        self: ClientMixin[Async],
        keys: Iterable[Key],
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> Deferred[list[bytes | None]]: ...
    @overload
    def multi_get_option(
        self: ClientMixin[Sync],
        keys: Iterable[Key],
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> list[bytes | None]: ...
    def multi_get_option(
        self,
        keys: Iterable[Key],
        allow_dirty: AllowDirty = NOT_GIVEN,
        *,
        consistency: Consistency | None = None,
    ) -> Any:
        """The values of ``keys``, in the same order, ``None`` for a missing key."""
        return self._process(messages.MULTI_GET_OPTION(resolve(allow_dirty, consistency), keys))

    @overload
    def range(
        self: ClientMixin[Async],
        begin_key: Key | None,
        begin_inclusive: bool,
        end_key: Key | None,
        end_inclusive: bool,
        max_elements: int = ...,
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> Deferred[list[bytes]]: ...
    @overload
    def range(
        self: ClientMixin[Sync],
        begin_key: Key | None,
        begin_inclusive: bool,
        end_key: Key | None,
        end_inclusive: bool,
        max_elements: int = ...,
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> list[bytes]: ...
    def range(
        self,
        begin_key: Key | None,
        begin_inclusive: bool,
        end_key: Key | None,
        end_inclusive: bool,
        max_elements: int = -1,
        allow_dirty: AllowDirty = NOT_GIVEN,
        *,
        consistency: Consistency | None = None,
    ) -> Any:
        """The keys between ``begin_key`` and ``end_key``, ascending.

        ``None`` as a bound means "from the first key" / "to the last key"; the
        ``*_inclusive`` flags say whether a bound itself is included. At most
        ``max_elements`` keys are returned; a negative number means all, ``0``
        none.
        """
        return self._process(
            messages.RANGE(
                resolve(allow_dirty, consistency),
                begin_key,
                begin_inclusive,
                end_key,
                end_inclusive,
                max_elements,
            )
        )

    @overload
    def range_entries(
        self: ClientMixin[Async],
        begin_key: Key | None,
        begin_inclusive: bool,
        end_key: Key | None,
        end_inclusive: bool,
        max_elements: int = ...,
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> Deferred[Entries]: ...
    @overload
    def range_entries(
        self: ClientMixin[Sync],
        begin_key: Key | None,
        begin_inclusive: bool,
        end_key: Key | None,
        end_inclusive: bool,
        max_elements: int = ...,
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> Entries: ...
    def range_entries(
        self,
        begin_key: Key | None,
        begin_inclusive: bool,
        end_key: Key | None,
        end_inclusive: bool,
        max_elements: int = -1,
        allow_dirty: AllowDirty = NOT_GIVEN,
        *,
        consistency: Consistency | None = None,
    ) -> Any:
        """Like :meth:`range`, but ``(key, value)`` pairs, ascending by key."""
        return self._process(
            messages.RANGE_ENTRIES(
                resolve(allow_dirty, consistency),
                begin_key,
                begin_inclusive,
                end_key,
                end_inclusive,
                max_elements,
            )
        )

    @overload
    def rev_range_entries(
        self: ClientMixin[Async],
        begin_key: Key | None,
        begin_inclusive: bool,
        end_key: Key | None,
        end_inclusive: bool,
        max_elements: int = ...,
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> Deferred[Entries]: ...
    @overload
    def rev_range_entries(
        self: ClientMixin[Sync],
        begin_key: Key | None,
        begin_inclusive: bool,
        end_key: Key | None,
        end_inclusive: bool,
        max_elements: int = ...,
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> Entries: ...
    def rev_range_entries(
        self,
        begin_key: Key | None,
        begin_inclusive: bool,
        end_key: Key | None,
        end_inclusive: bool,
        max_elements: int = -1,
        allow_dirty: AllowDirty = NOT_GIVEN,
        *,
        consistency: Consistency | None = None,
    ) -> Any:
        """``(key, value)`` pairs in descending key order.

        Here ``begin_key`` is the **upper** bound, where the backward scan starts
        (``None``: the last key), and ``end_key`` the lower bound.
        """
        return self._process(
            messages.REV_RANGE_ENTRIES(
                resolve(allow_dirty, consistency),
                begin_key,
                begin_inclusive,
                end_key,
                end_inclusive,
                max_elements,
            )
        )

    @overload
    def prefix(
        self: ClientMixin[Async],
        prefix: Key,
        max_elements: int = ...,
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> Deferred[list[bytes]]: ...
    @overload
    def prefix(
        self: ClientMixin[Sync],
        prefix: Key,
        max_elements: int = ...,
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> list[bytes]: ...
    def prefix(
        self,
        prefix: Key,
        max_elements: int = -1,
        allow_dirty: AllowDirty = NOT_GIVEN,
        *,
        consistency: Consistency | None = None,
    ) -> Any:
        """The keys starting with ``prefix``, ascending; at most ``max_elements``
        (negative: all). An empty prefix matches every key."""
        return self._process(
            messages.PREFIX_KEYS(resolve(allow_dirty, consistency), prefix, max_elements)
        )

    @overload
    def assert_(
        self: ClientMixin[Async],
        key: Key,
        value: Key | None,
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> Deferred[None]: ...
    @overload
    def assert_(
        self: ClientMixin[Sync],
        key: Key,
        value: Key | None,
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> None: ...
    def assert_(
        self,
        key: Key,
        value: Key | None,
        allow_dirty: AllowDirty = NOT_GIVEN,
        *,
        consistency: Consistency | None = None,
    ) -> Any:
        """Succeed if ``key`` is bound to ``value`` (``None``: if ``key`` is not
        bound); otherwise fail with :class:`~txarakoon.errors.AssertionFailed`."""
        return self._process(messages.ASSERT(resolve(allow_dirty, consistency), key, value))

    @overload
    def assert_exists(
        self: ClientMixin[Async],
        key: Key,
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> Deferred[None]: ...
    @overload
    def assert_exists(
        self: ClientMixin[Sync],
        key: Key,
        allow_dirty: AllowDirty = ...,
        *,
        consistency: Consistency | None = ...,
    ) -> None: ...
    def assert_exists(
        self,
        key: Key,
        allow_dirty: AllowDirty = NOT_GIVEN,
        *,
        consistency: Consistency | None = None,
    ) -> Any:
        """Succeed if ``key`` is bound; otherwise fail with
        :class:`~txarakoon.errors.AssertionFailed`."""
        return self._process(messages.ASSERT_EXISTS(resolve(allow_dirty, consistency), key))

    # -- writes (the master only) -------------------------------------------

    @overload
    def set(self: ClientMixin[Async], key: Key, value: Key) -> Deferred[None]: ...
    @overload
    def set(self: ClientMixin[Sync], key: Key, value: Key) -> None: ...
    def set(self, key: Key, value: Key) -> Any:
        """Bind ``key`` to ``value``. Values of 8 MiB or more are refused with
        :class:`ValueError` (Arakoon's ``max_value_size``)."""
        return self._process(messages.SET(key, value))

    @overload
    def delete(self: ClientMixin[Async], key: Key) -> Deferred[None]: ...
    @overload
    def delete(self: ClientMixin[Sync], key: Key) -> None: ...
    def delete(self, key: Key) -> Any:
        """Unbind ``key``; :class:`~txarakoon.errors.NotFound` if it is not bound."""
        return self._process(messages.DELETE(key))

    @overload
    def test_and_set(
        self: ClientMixin[Async], key: Key, test_value: Key | None, set_value: Key | None
    ) -> Deferred[bytes | None]: ...
    @overload
    def test_and_set(
        self: ClientMixin[Sync], key: Key, test_value: Key | None, set_value: Key | None
    ) -> bytes | None: ...
    def test_and_set(self, key: Key, test_value: Key | None, set_value: Key | None) -> Any:
        """Atomically: if the value of ``key`` equals ``test_value`` (``None``: the
        key is not bound), bind it to ``set_value`` (``None``: delete it).

        Returns the value before the operation (``None`` if unbound) whether or not
        it changed anything; compare it with ``test_value`` to know. Never raises
        NotFound.
        """
        return self._process(messages.TEST_AND_SET(key, test_value, set_value))

    @overload
    def replace(
        self: ClientMixin[Async], key: Key, value: Key | None
    ) -> Deferred[bytes | None]: ...
    @overload
    def replace(self: ClientMixin[Sync], key: Key, value: Key | None) -> bytes | None: ...
    def replace(self, key: Key, value: Key | None) -> Any:
        """Bind ``key`` to ``value`` (``None``: delete it) and return the previous
        value, ``None`` if it was not bound."""
        return self._process(messages.REPLACE(key, value))

    @overload
    def confirm(self: ClientMixin[Async], key: Key, value: Key) -> Deferred[None]: ...
    @overload
    def confirm(self: ClientMixin[Sync], key: Key, value: Key) -> None: ...
    def confirm(self, key: Key, value: Key) -> Any:
        """Like :meth:`set`, but do nothing (no replicated write) if ``key`` is
        already bound to ``value``."""
        return self._process(messages.CONFIRM(key, value))

    @overload
    def delete_prefix(self: ClientMixin[Async], prefix: Key) -> Deferred[int]: ...
    @overload
    def delete_prefix(self: ClientMixin[Sync], prefix: Key) -> int: ...
    def delete_prefix(self, prefix: Key) -> Any:
        """Delete every key starting with ``prefix`` (empty: every key); returns
        how many were deleted."""
        return self._process(messages.DELETE_PREFIX(prefix))

    @overload
    def sequence(
        self: ClientMixin[Async], steps: Iterable[Step] | Sequence, sync: bool = ...
    ) -> Deferred[None]: ...
    @overload
    def sequence(
        self: ClientMixin[Sync], steps: Iterable[Step] | Sequence, sync: bool = ...
    ) -> None: ...
    def sequence(self, steps: Iterable[Step] | Sequence, sync: bool = False) -> Any:
        """Run ``steps`` (from :mod:`txarakoon.sequence`) as one atomic transaction.

        With ``sync=True`` the server fsyncs its log before answering
        (``synced_sequence``). The first failing step fails the whole sequence
        (:class:`~txarakoon.errors.NotFound` for a Delete of a missing key,
        :class:`~txarakoon.errors.AssertionFailed` for an assertion). See
        :mod:`txarakoon.sequence` for what Arakoon does *not* undo.
        """
        if not isinstance(sync, bool):
            raise TypeError(f"sync must be a bool, not {type(sync).__name__}")
        command = messages.SYNCED_SEQUENCE if sync else messages.SEQUENCE
        return self._process(command(steps))

    @overload
    def user_function(
        self: ClientMixin[Async], function: Key, argument: Key | None
    ) -> Deferred[bytes | None]: ...
    @overload
    def user_function(
        self: ClientMixin[Sync], function: Key, argument: Key | None
    ) -> bytes | None: ...
    def user_function(self, function: Key, argument: Key | None) -> Any:
        """Run the server-side user function registered as ``function``.

        An unknown function gives :class:`~txarakoon.errors.BadInput`; a function
        that raises gives :class:`~txarakoon.errors.UserFunctionFailure`.
        """
        return self._process(messages.USER_FUNCTION(function, argument))

    @overload
    def nop(self: ClientMixin[Async]) -> Deferred[None]: ...
    @overload
    def nop(self: ClientMixin[Sync]) -> None: ...
    def nop(self) -> Any:
        """A replicated write that changes nothing: proves the master can make
        progress, and pushes slaves to apply the previous update."""
        return self._process(messages.NOP())

    # -- cluster state ------------------------------------------------------

    @overload
    def expect_progress_possible(self: ClientMixin[Async]) -> Deferred[bool]: ...
    @overload
    def expect_progress_possible(self: ClientMixin[Sync]) -> bool: ...
    def expect_progress_possible(self) -> Any:
        """Whether this node believes a quorum is available to make progress."""
        return self._process(messages.EXPECT_PROGRESS_POSSIBLE())

    @overload
    def get_key_count(self: ClientMixin[Async]) -> Deferred[int]: ...
    @overload
    def get_key_count(self: ClientMixin[Sync]) -> int: ...
    def get_key_count(self) -> Any:
        """The number of keys in the store (a consistent read: the master only)."""
        return self._process(messages.GET_KEY_COUNT())

    @overload
    def statistics(self: ClientMixin[Async]) -> Deferred[Statistics]: ...
    @overload
    def statistics(self: ClientMixin[Sync]) -> Statistics: ...
    def statistics(self) -> Any:
        """The node's statistics as a nested dict (field names are ``str``)."""
        return self._process(messages.STATISTICS_COMMAND())

    @overload
    def version(self: ClientMixin[Async]) -> Deferred[Version]: ...
    @overload
    def version(self: ClientMixin[Sync]) -> Version: ...
    def version(self) -> Any:
        """The node's version: ``(major, minor, patch, info)``, ``info`` bytes."""
        return self._process(messages.VERSION_COMMAND())

    @overload
    def get_current_state(self: ClientMixin[Async]) -> Deferred[bytes]: ...
    @overload
    def get_current_state(self: ClientMixin[Sync]) -> bytes: ...
    def get_current_state(self) -> Any:
        """The name of the node's consensus state, e.g. ``b"Stable_master"``
        (diagnostics only)."""
        return self._process(messages.CURRENT_STATE())

    @overload
    def get_txid(self: ClientMixin[Async]) -> Deferred[Consistency]: ...
    @overload
    def get_txid(self: ClientMixin[Sync]) -> Consistency: ...
    def get_txid(self) -> Any:
        """The node's last applied update as ``AtLeast(i)``: pass it as the
        ``consistency`` of a read on any node to see everything applied here."""
        return self._process(messages.GET_TXID())


class AbstractClient:
    """Base class of clients: a :class:`ClientMixin` needs ``_process`` and
    ``connected``.

    When :attr:`connected` is false, calls fail with
    :class:`~txarakoon.errors.NotConnectedError`: raised by blocking clients,
    as a failed Deferred by Twisted ones.
    """

    #: Whether the client can send requests now.
    connected: bool = False

    def _process(self, message: Message[Any]) -> Any:
        """Send ``message`` (``message.serialize()``), decode its reply with
        ``message.receive()`` and return the value or raise the error."""
        raise NotImplementedError


#: A callback that receives each collapse_tlogs progress value.
ProgressCallback = Callable[[int], object]
