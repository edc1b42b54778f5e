"""The handlers of the commands that read the data."""

from __future__ import annotations

from typing import Any, NoReturn

from ... import messages
from ...consistency import Consistency, Consistent
from ...errors import AssertionFailed, NotFound, UserHookNotFound
from ..core import NodeCore, handles

__all__ = ["ReadCommands"]


class ReadCommands(NodeCore):
    """``exists``, ``get``, the range and prefix reads, ``multi_get``,
    ``assert``, ``get_key_count`` and ``user_hook``."""

    @handles(messages.EXISTS)
    def _cmd_exists(self, consistency: Consistency, key: bytes) -> bool:
        self._read_allowed(consistency)
        return key in self.store

    @handles(messages.GET)
    def _cmd_get(self, consistency: Consistency, key: bytes) -> bytes:
        self._read_allowed(consistency)
        value = self.store.get(key)
        if value is None:
            raise NotFound(b"Not_found")
        self._statistics.record("get_info", "avg_get_size", len(value))
        return value

    # The range reads take (consistency, *bounds): first or high, its
    # inclusive flag, last or low, its flag, max_elements, as Store's do.

    @handles(messages.RANGE)
    def _cmd_range(self, consistency: Consistency, *bounds: Any) -> list[bytes]:
        self._read_allowed(consistency)
        keys = self.store.range(*bounds)
        self._statistics.record("range_info", "avg_range_size", len(keys))
        return keys

    @handles(messages.RANGE_ENTRIES)
    def _cmd_range_entries(
        self, consistency: Consistency, *bounds: Any
    ) -> list[tuple[bytes, bytes]]:
        self._read_allowed(consistency)
        entries = self.store.range_entries(*bounds)
        self._statistics.record("range_entries_info", "avg_range_entries_size", len(entries))
        return entries

    @handles(messages.REV_RANGE_ENTRIES)
    def _cmd_rev_range_entries(
        self, consistency: Consistency, *bounds: Any
    ) -> list[tuple[bytes, bytes]]:
        self._read_allowed(consistency)
        entries = self.store.rev_range_entries(*bounds)
        self._statistics.record(
            "rev_range_entries_info", "avg_rev_range_entries_size", len(entries)
        )
        return entries

    @handles(messages.PREFIX_KEYS)
    def _cmd_prefix_keys(
        self, consistency: Consistency, prefix: bytes, max_elements: int
    ) -> list[bytes]:
        self._read_allowed(consistency)
        keys = self.store.prefix_keys(prefix, max_elements)
        self._statistics.record("prefix_info", "avg_prefix_size", len(keys))
        return keys

    @handles(messages.MULTI_GET)
    def _cmd_multi_get(self, consistency: Consistency, keys: list[bytes]) -> list[bytes | None]:
        self._read_allowed(consistency)
        # The server walks the keys in the order it read them (wire order
        # reversed) and stops at the first missing one (§6.2).
        for key in reversed(keys):
            if key not in self.store:
                raise NotFound(key)
        self._statistics.record("mget_info")
        return [self.store.get(key) for key in keys]

    @handles(messages.MULTI_GET_OPTION)
    def _cmd_multi_get_option(
        self, consistency: Consistency, keys: list[bytes]
    ) -> list[bytes | None]:
        self._read_allowed(consistency)
        self._statistics.record("mget_option_info")
        return [self.store.get(key) for key in keys]

    @handles(messages.ASSERT)
    def _cmd_assert(self, consistency: Consistency, key: bytes, value: bytes | None) -> None:
        self._read_allowed(consistency)
        if self.store.get(key) != value:
            raise AssertionFailed(key)

    @handles(messages.ASSERT_EXISTS)
    def _cmd_assert_exists(self, consistency: Consistency, key: bytes) -> None:
        self._read_allowed(consistency)
        if key not in self.store:
            raise AssertionFailed(key)

    @handles(messages.GET_KEY_COUNT)
    def _cmd_get_key_count(self) -> int:
        self._read_allowed(Consistent)
        return len(self.store)

    @handles(messages.USER_HOOK)
    def _cmd_user_hook(self, consistency: Consistency, name: bytes) -> NoReturn:
        # The server checks the consistency before it looks the hook up (D32);
        # this node has no hooks.
        self._read_allowed(consistency)
        raise UserHookNotFound(name)
