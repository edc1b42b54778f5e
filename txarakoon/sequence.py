"""Steps of an atomic ``sequence`` / ``synced_sequence`` (PROTOCOL.md §7).

Build a list of steps and pass it to ``client.sequence(steps)``::

    from txarakoon.sequence import Assert, Delete, Set

    client.sequence([Assert(b"owner", b"me"), Set(b"lock", b"1"), Delete(b"tmp")])

The steps run in order inside one transaction; the first failing step
(a :class:`Delete` of a missing key → :class:`~txarakoon.errors.NotFound`, a failed
assertion → :class:`~txarakoon.errors.AssertionFailed`) aborts the whole sequence.

What the real Arakoon 1.9 server does, and what you must know (PROTOCOL.md §11):

* **D19** — a failing sequence does **not** undo an earlier :class:`DeletePrefix`
  step: the keys it deleted stay deleted, while every point write (Set, Delete,
  Replace) of the sequence is undone.
* **D20** — :class:`DeletePrefix` and :class:`AssertRange` see the store as it
  was before the sequence: keys written by earlier steps of the same sequence
  are invisible to them. :class:`Delete`, :class:`Assert` and
  :class:`AssertExists` do see them.
* **D21** — the 8 MiB value limit of ``set`` does not apply to :class:`Set` and
  :class:`Replace` steps; the whole sequence is bounded by 32 MiB
  (:class:`~txarakoon.errors.BadInput` above that).

There is deliberately no UserFunction step: on Arakoon 1.9 a sequence calling an
unknown (or failing) user function crashes the master and then the node that
takes over (D18). Call ``client.user_function`` instead, which is safe. The
server's internal steps (TestAndSet, AdminSet, MasterSet, ...) are not offered
either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from .codec import (
    DEFAULT_MAX_REPLY_LENGTH,
    INT32,
    STRING,
    UINT32,
    Option,
    RequestList,
    StringWrapped,
    Type,
)
from .errors import ProtocolViolation
from .keys import Key

__all__ = [
    "Assert",
    "AssertExists",
    "AssertRange",
    "Delete",
    "DeletePrefix",
    "Replace",
    "Sequence",
    "Set",
    "Step",
]

_OPTIONAL_STRING: Final = Option(STRING)

_KEY_LIST: Final = RequestList(STRING)


def _bytes(value: Any, what: str) -> bytes:
    try:
        return STRING.check(value)
    except TypeError as error:
        raise TypeError(f"{what}: {error}") from None


def _optional_bytes(value: Any, what: str) -> bytes | None:
    return None if value is None else _bytes(value, what)


class Step:
    """Base class of sequence steps."""

    #: The update tag of this step on the wire.
    TAG: ClassVar[int]

    def encode(self) -> bytes:
        """The step's wire bytes: ``u32`` tag, then its fields."""
        return UINT32.encode(self.TAG) + self._encode_fields()

    def _encode_fields(self) -> bytes:
        raise NotImplementedError


@dataclass(frozen=True, init=False)
class Set(Step):
    """Bind ``key`` to ``value``."""

    TAG: ClassVar[int] = 1
    key: bytes
    value: bytes

    def __init__(self, key: Key, value: Key) -> None:
        object.__setattr__(self, "key", _bytes(key, "Set key"))
        object.__setattr__(self, "value", _bytes(value, "Set value"))

    def _encode_fields(self) -> bytes:
        return STRING.encode(self.key) + STRING.encode(self.value)


@dataclass(frozen=True, init=False)
class Delete(Step):
    """Delete ``key``; a missing key fails the whole sequence with ``NotFound``."""

    TAG: ClassVar[int] = 2
    key: bytes

    def __init__(self, key: Key) -> None:
        object.__setattr__(self, "key", _bytes(key, "Delete key"))

    def _encode_fields(self) -> bytes:
        return STRING.encode(self.key)


@dataclass(frozen=True, init=False)
class Assert(Step):
    """Require ``key`` to be bound to ``value`` (``None``: require it absent)."""

    TAG: ClassVar[int] = 8
    key: bytes
    value: bytes | None

    def __init__(self, key: Key, value: Key | None) -> None:
        object.__setattr__(self, "key", _bytes(key, "Assert key"))
        object.__setattr__(self, "value", _optional_bytes(value, "Assert value"))

    def _encode_fields(self) -> bytes:
        return STRING.encode(self.key) + _OPTIONAL_STRING.encode(self.value)


@dataclass(frozen=True, init=False)
class DeletePrefix(Step):
    """Delete every key starting with ``prefix``. Not undone if the sequence fails
    later (D19), and blind to keys set earlier in the same sequence (D20)."""

    TAG: ClassVar[int] = 14
    prefix: bytes

    def __init__(self, prefix: Key) -> None:
        object.__setattr__(self, "prefix", _bytes(prefix, "DeletePrefix prefix"))

    def _encode_fields(self) -> bytes:
        return STRING.encode(self.prefix)


@dataclass(frozen=True, init=False)
class AssertExists(Step):
    """Require ``key`` to exist."""

    TAG: ClassVar[int] = 15
    key: bytes

    def __init__(self, key: Key) -> None:
        object.__setattr__(self, "key", _bytes(key, "AssertExists key"))

    def _encode_fields(self) -> bytes:
        return STRING.encode(self.key)


@dataclass(frozen=True, init=False)
class Replace(Step):
    """Bind ``key`` to ``value`` whatever it was (``None``: delete it if present)."""

    TAG: ClassVar[int] = 16
    key: bytes
    value: bytes | None

    def __init__(self, key: Key, value: Key | None) -> None:
        object.__setattr__(self, "key", _bytes(key, "Replace key"))
        object.__setattr__(self, "value", _optional_bytes(value, "Replace value"))

    def _encode_fields(self) -> bytes:
        return STRING.encode(self.key) + _OPTIONAL_STRING.encode(self.value)


_CONTAINS_EXACTLY: Final = 1


@dataclass(frozen=True, init=False)
class AssertRange(Step):
    """Require the keys starting with ``prefix`` to be exactly ``keys``.

    ``keys`` may be given in any order (and repeated: they are a set); they are
    kept sorted ascending, and written descending on the wire, which is what the
    server needs (§7.3). The server sees the store as it was before the
    sequence (D20).
    """

    TAG: ClassVar[int] = 17
    prefix: bytes
    keys: tuple[bytes, ...]

    def __init__(self, prefix: Key, keys: Iterable[Key]) -> None:
        if isinstance(keys, (str, bytes, bytearray, memoryview)):
            raise TypeError("AssertRange keys must be an iterable of keys, not one key")
        checked = sorted({_bytes(key, "AssertRange key") for key in keys})
        object.__setattr__(self, "prefix", _bytes(prefix, "AssertRange prefix"))
        object.__setattr__(self, "keys", tuple(checked))

    @classmethod
    def _from_wire(cls, prefix: bytes, keys_in_server_order: list[bytes]) -> AssertRange:
        # The server compares the list it read (wire order reversed) with the
        # ascending keys under the prefix; keep that list as it is, unsorted,
        # so that a server built on this codec fails a wrongly ordered request.
        step = cls.__new__(cls)
        object.__setattr__(step, "prefix", prefix)
        object.__setattr__(step, "keys", tuple(keys_in_server_order))
        return step

    def _encode_fields(self) -> bytes:
        return (
            STRING.encode(self.prefix)
            + INT32.encode(_CONTAINS_EXACTLY)
            + _KEY_LIST.encode(list(reversed(self.keys)))
        )


@dataclass(frozen=True, init=False)
class Sequence(Step):
    """Steps run in order; may be nested inside another sequence."""

    TAG: ClassVar[int] = 5
    steps: tuple[Step, ...]

    def __init__(self, steps: Iterable[Step] = ()) -> None:
        if isinstance(steps, Step):
            raise TypeError("Sequence takes an iterable of steps, not a single step")
        checked = tuple(steps)
        for step in checked:
            if not isinstance(step, Step):
                raise TypeError(f"sequence steps must be Step instances, not {step!r}")
        object.__setattr__(self, "steps", checked)

    def _encode_fields(self) -> bytes:
        return UINT32.encode(len(self.steps)) + b"".join(step.encode() for step in self.steps)


def _decode_step(buffer: bytes, offset: int, limit: int) -> tuple[Step, int]:
    tag, offset = UINT32.decode_from(buffer, offset, limit)
    if tag in _ONE_STRING:
        key, offset = STRING.decode_from(buffer, offset, limit)
        return _ONE_STRING[tag](key), offset
    if tag in _STRING_AND_OPTION:
        key, offset = STRING.decode_from(buffer, offset, limit)
        value, offset = _OPTIONAL_STRING.decode_from(buffer, offset, limit)
        return _STRING_AND_OPTION[tag](key, value), offset
    if tag == Set.TAG:
        key, offset = STRING.decode_from(buffer, offset, limit)
        value, offset = STRING.decode_from(buffer, offset, limit)
        return Set(key, value), offset
    if tag == AssertRange.TAG:
        prefix, offset = STRING.decode_from(buffer, offset, limit)
        kind, offset = INT32.decode_from(buffer, offset, limit)
        if kind != _CONTAINS_EXACTLY:
            raise ProtocolViolation(f"unknown range assertion kind {kind}")
        wire_keys, offset = _KEY_LIST.decode_from(buffer, offset, limit)
        return AssertRange._from_wire(prefix, wire_keys[::-1]), offset
    if tag == Sequence.TAG:
        count, offset = UINT32.decode_from(buffer, offset, limit)
        if count > limit:
            raise ProtocolViolation(f"step count {count} exceeds the limit of {limit}")
        steps = []
        for _ in range(count):
            step, offset = _decode_step(buffer, offset, limit)
            steps.append(step)
        return Sequence(steps), offset
    raise ProtocolViolation(f"update tag {tag} is not a client sequence step")


_ONE_STRING: Final[dict[int, Callable[[bytes], Step]]] = {
    Delete.TAG: Delete,
    DeletePrefix.TAG: DeletePrefix,
    AssertExists.TAG: AssertExists,
}
_STRING_AND_OPTION: Final[dict[int, Callable[[bytes, bytes | None], Step]]] = {
    Assert.TAG: Assert,
    Replace.TAG: Replace,
}


class _StepType(Type[Step]):
    """One update (step), as inside a sequence payload."""

    def __repr__(self) -> str:
        return "step"

    def check(self, value: Any) -> Step:
        if not isinstance(value, Step):
            raise TypeError(f"expected a sequence Step, not {value!r}")
        return value

    def encode(self, value: Step) -> bytes:
        return value.encode()

    def decode_from(
        self, buffer: bytes, offset: int = 0, limit: int = DEFAULT_MAX_REPLY_LENGTH
    ) -> tuple[Step, int]:
        return _decode_step(buffer, offset, limit)


STEP: Final = _StepType()


class _SequencePayload(StringWrapped[Sequence]):
    """The argument of ``sequence``/``synced_sequence``: a string holding one
    encoded :class:`Sequence`. A list of steps is wrapped in a Sequence; a single
    Sequence is used as it is (like pyrakoon)."""

    def __init__(self) -> None:
        super().__init__(STEP)

    def __repr__(self) -> str:
        return "sequence payload"

    def check(self, value: Any) -> Sequence:
        if isinstance(value, Sequence):
            return value
        if isinstance(value, Step):
            raise TypeError("sequence() takes a list of steps (or a Sequence), not one step")
        if isinstance(value, (str, bytes)):
            raise TypeError(f"sequence() takes a list of steps, not {type(value).__name__}")
        try:
            steps = list(value)
        except TypeError:
            raise TypeError(f"sequence() takes a list of steps, not {value!r}") from None
        if len(steps) == 1 and isinstance(steps[0], Sequence):
            return steps[0]
        return Sequence(steps)

    def unwrap(self, value: Any) -> Sequence:
        if not isinstance(value, Sequence):
            raise ProtocolViolation("should have been a sequence")
        return value


SEQUENCE_PAYLOAD: Final = _SequencePayload()
