"""The handlers of the commands that update the data.

Every one goes through :meth:`~txarakoon.testing.core.NodeCore._update`, so
each takes the next transaction number, a failing one included.
"""

from __future__ import annotations

from typing import Any

from ... import messages
from ...consistency import Consistent
from ...errors import ArakoonError, BadInput, NotFound, UserFunctionFailure
from ...sequence import Delete, DeletePrefix, Replace, Sequence, Set
from ..core import NodeCore, handles
from ..quoting import ocaml_quoted
from ..steps import run_steps
from ..store import Transaction
from ..updates import (
    NOP,
    SyncedSequenceUpdate,
    TestAndSetUpdate,
    Update,
    UserFunctionUpdate,
)

__all__ = ["WriteCommands"]


class WriteCommands(NodeCore):
    """``set``, ``delete``, ``test_and_set``, ``replace``, ``confirm``,
    ``delete_prefix``, the sequences, ``user_function`` and ``nop``."""

    @handles(messages.SET)
    def _cmd_set(self, key: bytes, value: bytes) -> Any:
        self._check_value_size(value)

        def run(transaction: Transaction) -> None:
            transaction.set(key, value)
            self._statistics.record("set_info", "avg_set_size", len(value))

        return self._update(Set(key, value), run)

    @handles(messages.DELETE)
    def _cmd_delete(self, key: bytes) -> Any:
        def run(transaction: Transaction) -> None:
            if not transaction.delete(key):
                raise NotFound(key)
            self._statistics.record("del_info")

        return self._update(Delete(key), run)

    @handles(messages.TEST_AND_SET)
    def _cmd_test_and_set(self, key: bytes, expected: bytes | None, wanted: bytes | None) -> Any:
        self._check_value_size(wanted)

        def run(transaction: Transaction) -> bytes | None:
            current = transaction.get(key)
            if current == expected:  # D16: a missing key never matches Some
                transaction.put(key, wanted)
            self._statistics.record("tas_info")
            return current

        return self._update(TestAndSetUpdate(key, expected, wanted), run)

    @handles(messages.REPLACE)
    def _cmd_replace(self, key: bytes, wanted: bytes | None) -> Any:
        self._check_value_size(wanted)

        def run(transaction: Transaction) -> bytes | None:
            current = transaction.get(key)
            transaction.put(key, wanted)
            self._statistics.record("replace_info")
            return current

        return self._update(Replace(key, wanted), run)

    @handles(messages.CONFIRM)
    def _cmd_confirm(self, key: bytes, value: bytes) -> Any:
        self._check_value_size(value)
        self._read_allowed(Consistent)
        if self.store.get(key) == value:
            return None  # no update at all: the txid does not move
        return self._cmd_set(key, value)

    @handles(messages.DELETE_PREFIX)
    def _cmd_delete_prefix(self, prefix: bytes) -> Any:
        def run(transaction: Transaction) -> int:
            count = transaction.delete_prefix(prefix)
            self._statistics.record("delete_prefix_info", "avg_del_prefix_size", count)
            return count

        return self._update(DeletePrefix(prefix), run)

    def _sequence(self, update: Update, steps: Sequence) -> Any:
        def run(transaction: Transaction) -> None:
            run_steps(transaction, steps.steps)
            self._statistics.record("seq_info")

        return self._update(update, run)

    @handles(messages.SEQUENCE)
    def _cmd_sequence(self, steps: Sequence) -> Any:
        return self._sequence(steps, steps)

    @handles(messages.SYNCED_SEQUENCE)
    def _cmd_synced_sequence(self, steps: Sequence) -> Any:
        return self._sequence(SyncedSequenceUpdate(steps), steps)

    @handles(messages.USER_FUNCTION)
    def _cmd_user_function(self, name: bytes, argument: bytes | None) -> Any:
        function = self.cluster.user_functions.get(name)
        if function is None:
            raise BadInput(b"User function %s could not be found" % ocaml_quoted(name))

        def run(transaction: Transaction) -> bytes | None:
            try:
                result = function(transaction, argument)
            except ArakoonError:
                raise
            except Exception as error:
                raise UserFunctionFailure(str(error).encode("utf-8", "backslashreplace")) from error
            if isinstance(result, str):
                return result.encode("utf-8")
            if result is not None and not isinstance(result, bytes):
                raise UserFunctionFailure(
                    b"user function returned %s, not bytes" % type(result).__name__.encode()
                )
            return result

        return self._update(UserFunctionUpdate(name, argument), run)

    @handles(messages.NOP)
    def _cmd_nop(self) -> Any:
        return self._update(NOP, lambda transaction: None)
