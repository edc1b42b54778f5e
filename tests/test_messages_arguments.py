"""Bad arguments, for every command declaration of :mod:`txarakoon.messages` and
every method of ClientMixin / AdminMixin: a clear :class:`TypeError` or
:class:`ValueError` naming the argument, raised synchronously, with nothing
written to the transport. Also the normalisations callers rely on (``str`` keys
as UTF-8, negative ``max_elements``)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from txarakoon import messages
from txarakoon.admin import AdminMixin
from txarakoon.client import ClientMixin
from txarakoon.codec import BOOL, CONSISTENCY, INT32, Option, RequestList, String, Type
from txarakoon.consistency import AtLeast, Consistent, NoGuarantees
from txarakoon.messages import COMMANDS, MAX_VALUE_SIZE, Command
from txarakoon.protocol import ArakoonProtocol
from txarakoon.sequence import SEQUENCE_PAYLOAD, Set

from .helpers.protocol import connect, take

BIG_VALUE = b"x" * MAX_VALUE_SIZE
LARGEST_VALUE = b"x" * (MAX_VALUE_SIZE - 1)

# -- per wire type: a valid value, and bad values with the error they raise ------------

Bad = list[tuple[Any, type[Exception]]]

_BAD_STRING: Bad = [(1, TypeError), (None, TypeError), (1.5, TypeError), ([b"k"], TypeError)]
_BAD_OPTIONAL_STRING: Bad = [(1, TypeError), ([b"k"], TypeError), (True, TypeError)]
_BAD_BOOL: Bad = [(1, TypeError), (0, TypeError), (None, TypeError), ("yes", TypeError)]
_BAD_INT32: Bad = [
    (True, TypeError),
    (1.5, TypeError),
    ("1", TypeError),
    (None, TypeError),
    (2**31, ValueError),
    (-(2**31) - 1, ValueError),
]
_BAD_COUNT: Bad = [
    (0, ValueError),
    (-1, ValueError),
    (True, TypeError),
    (1.0, TypeError),
    (None, TypeError),
    (2**31, ValueError),
]
_BAD_KEYS: Bad = [
    (b"k", TypeError),
    ("k", TypeError),
    (5, TypeError),
    (None, TypeError),
    ([b"k", 1], TypeError),
]
_BAD_CONSISTENCY: Bad = [(None, TypeError), (True, TypeError), (0, TypeError), ("x", TypeError)]
_BAD_STEPS: Bad = [
    (Set(b"k", b"v"), TypeError),
    (b"steps", TypeError),
    ("steps", TypeError),
    (5, TypeError),
    ([5], TypeError),
    ([Set(b"k", b"v"), None], TypeError),
]


def _is_value(kind: Type[Any]) -> bool:
    return isinstance(kind, String) and kind.max_length == MAX_VALUE_SIZE - 1


def valid_and_bad(kind: Type[Any]) -> tuple[Any, Bad]:
    """A value ``kind.check`` accepts, and bad ones with their error class."""
    if kind is CONSISTENCY:
        return Consistent, _BAD_CONSISTENCY
    if kind is BOOL:
        return True, _BAD_BOOL
    if kind is INT32:
        return -1, _BAD_INT32
    if kind is SEQUENCE_PAYLOAD:
        return [], _BAD_STEPS
    if isinstance(kind, RequestList):
        return [b"k"], _BAD_KEYS
    if isinstance(kind, Option):
        extra: Bad = [(BIG_VALUE, ValueError)] if _is_value(kind.inner) else []
        return None, _BAD_OPTIONAL_STRING + extra
    if isinstance(kind, String):
        extra = [(BIG_VALUE, ValueError)] if _is_value(kind) else []
        return b"k", _BAD_STRING + extra
    if repr(kind) == "int32":  # the tlog counts: an int32 of at least 1
        return 1, _BAD_COUNT
    raise AssertionError(f"no test values for {kind!r}")


def _command_cases() -> list[Any]:
    cases = []
    for command in COMMANDS.values():
        for index, argument in enumerate(command.arguments):
            for bad, error in valid_and_bad(argument.type)[1]:
                shown = repr(bad) if len(repr(bad)) < 30 else f"{len(bad)} bytes"
                cases.append(
                    pytest.param(
                        command, index, bad, error, id=f"{command.name}-{argument.name}-{shown}"
                    )
                )
    return cases


def _valid_arguments(command: Command[Any]) -> list[Any]:
    return [valid_and_bad(argument.type)[0] for argument in command.arguments]


# -- every command declaration ---------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS.values(), ids=lambda c: c.name)
def test_every_command_accepts_its_valid_arguments(command: Command[Any]) -> None:
    message = command(*_valid_arguments(command))
    assert message.serialize().startswith(command.word)


@pytest.mark.parametrize(("command", "index", "bad", "error"), _command_cases())
def test_bad_argument_of_a_command_is_refused_naming_it(
    command: Command[Any], index: int, bad: Any, error: type[Exception]
) -> None:
    values = _valid_arguments(command)
    values[index] = bad
    name = command.arguments[index].name
    with pytest.raises(error, match=f"^{command.name}: {name}: "):
        command(*values)


@pytest.mark.parametrize("command", COMMANDS.values(), ids=lambda c: c.name)
def test_wrong_number_of_arguments_is_a_type_error_naming_the_command(
    command: Command[Any],
) -> None:
    values = _valid_arguments(command)
    with pytest.raises(TypeError, match=f"^{command.name} takes {len(values)} arguments"):
        command(*values, b"extra")


def test_largest_value_is_accepted_by_every_size_limited_command() -> None:
    assert messages.SET(b"k", LARGEST_VALUE).arguments[1] == LARGEST_VALUE
    assert messages.CONFIRM(b"k", LARGEST_VALUE).arguments[1] == LARGEST_VALUE
    assert messages.TEST_AND_SET(b"k", None, LARGEST_VALUE).arguments[2] == LARGEST_VALUE
    assert messages.REPLACE(b"k", LARGEST_VALUE).arguments[1] == LARGEST_VALUE


def test_only_the_wanted_value_is_size_limited() -> None:
    # The server checks the value it would store (PROTOCOL.md §6.3), not the
    # expected value of test_and_set nor the value of an assertion.
    assert messages.TEST_AND_SET(b"k", BIG_VALUE, None).arguments[1] == BIG_VALUE
    assert messages.ASSERT(Consistent, b"k", BIG_VALUE).arguments[2] == BIG_VALUE
    sequence = messages.SEQUENCE([Set(b"k", BIG_VALUE)]).arguments[0]  # D21
    assert sequence.steps == (Set(b"k", BIG_VALUE),)


def test_str_key_that_is_not_encodable_is_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match=r"^get: key: "):
        messages.GET(Consistent, "\ud800")


# -- every ClientMixin / AdminMixin method, through ArakoonProtocol ---------------------------

_RANGE = {
    "begin_key": None,
    "begin_inclusive": True,
    "end_key": None,
    "end_inclusive": False,
    "max_elements": -1,
}

#: Valid keyword arguments of every public method.
METHODS: dict[str, dict[str, Any]] = {
    "hello": {"client_id": b"me", "cluster_id": b"arakoon"},
    "who_master": {},
    "exists": {"key": b"k"},
    "get": {"key": b"k"},
    "multi_get": {"keys": [b"k"]},
    "multi_get_option": {"keys": [b"k"]},
    "range": dict(_RANGE),
    "range_entries": dict(_RANGE),
    "rev_range_entries": dict(_RANGE),
    "prefix": {"prefix": b"p", "max_elements": -1},
    "assert_": {"key": b"k", "value": None},
    "assert_exists": {"key": b"k"},
    "set": {"key": b"k", "value": b"v"},
    "delete": {"key": b"k"},
    "test_and_set": {"key": b"k", "test_value": None, "set_value": None},
    "replace": {"key": b"k", "value": None},
    "confirm": {"key": b"k", "value": b"v"},
    "delete_prefix": {"prefix": b"p"},
    "sequence": {"steps": [], "sync": False},
    "user_function": {"function": b"f", "argument": None},
    "nop": {},
    "expect_progress_possible": {},
    "get_key_count": {},
    "statistics": {},
    "version": {},
    "get_current_state": {},
    "get_txid": {},
    "optimize_db": {},
    "defrag_db": {},
    "drop_master": {},
    "flush_store": {},
    "copy_db_to_head": {"tlogs_to_keep": 1},
    "collapse_tlogs": {"count": 1, "progress": None},
}

READS = [
    "exists",
    "get",
    "multi_get",
    "multi_get_option",
    "range",
    "range_entries",
    "rev_range_entries",
    "prefix",
    "assert_",
    "assert_exists",
]

_PARAMETER_BAD: dict[str, Bad] = {
    "key": _BAD_STRING,
    "client_id": _BAD_STRING,
    "cluster_id": _BAD_STRING,
    "prefix": _BAD_STRING,
    "function": _BAD_STRING,
    "keys": _BAD_KEYS,
    "begin_key": _BAD_OPTIONAL_STRING,
    "end_key": _BAD_OPTIONAL_STRING,
    "test_value": _BAD_OPTIONAL_STRING,
    "argument": _BAD_OPTIONAL_STRING,
    "set_value": [*_BAD_OPTIONAL_STRING, (BIG_VALUE, ValueError)],
    "begin_inclusive": _BAD_BOOL,
    "end_inclusive": _BAD_BOOL,
    "sync": _BAD_BOOL,
    "max_elements": _BAD_INT32,
    "steps": _BAD_STEPS,
    "tlogs_to_keep": _BAD_COUNT,
    "count": _BAD_COUNT,
}
_VALUE_BAD: dict[str, Bad] = {
    "set": [*_BAD_STRING, (BIG_VALUE, ValueError)],
    "confirm": [*_BAD_STRING, (BIG_VALUE, ValueError)],
    "replace": [*_BAD_OPTIONAL_STRING, (BIG_VALUE, ValueError)],
    "assert_": _BAD_OPTIONAL_STRING,
}


def _bad_values(method: str, parameter: str) -> Bad:
    if parameter == "value":
        return _VALUE_BAD[method]
    return _PARAMETER_BAD[parameter]


def _method_cases() -> list[Any]:
    cases = []
    for method, kwargs in METHODS.items():
        for parameter in kwargs:
            if parameter == "progress":
                continue
            for bad, error in _bad_values(method, parameter):
                shown = repr(bad) if len(repr(bad)) < 30 else f"{len(bad)} bytes"
                cases.append(
                    pytest.param(method, parameter, bad, error, id=f"{method}-{parameter}-{shown}")
                )
    for method in READS:
        for bad in (1, 0, None, "yes"):
            cases.append(
                pytest.param(
                    method, "allow_dirty", bad, TypeError, id=f"{method}-allow_dirty-{bad!r}"
                )
            )
        for bad in ("Consistent", 0, True, b"\x00"):
            cases.append(
                pytest.param(
                    method, "consistency", bad, TypeError, id=f"{method}-consistency-{bad!r}"
                )
            )
    return cases


def _public_methods(cls: type) -> set[str]:
    return {
        name
        for name, member in vars(cls).items()
        if not name.startswith("_") and inspect.isfunction(member)
    }


def test_the_table_covers_every_public_method_and_parameter() -> None:
    assert set(METHODS) == _public_methods(ClientMixin) | _public_methods(AdminMixin)
    for method, kwargs in METHODS.items():
        parameters = set(inspect.signature(getattr(ArakoonProtocol, method)).parameters)
        parameters -= {"self", "allow_dirty", "consistency"}
        assert set(kwargs) == parameters, method


@pytest.mark.parametrize("method", METHODS, ids=str)
def test_every_method_with_valid_arguments_writes_one_request(method: str) -> None:
    protocol, transport = connect()
    getattr(protocol, method)(**METHODS[method]).addErrback(lambda _: None)
    assert take(transport)
    assert protocol.pending == 1


@pytest.mark.parametrize(("method", "parameter", "bad", "error"), _method_cases())
def test_bad_argument_raises_synchronously_naming_it_and_writes_nothing(
    method: str, parameter: str, bad: Any, error: type[Exception]
) -> None:
    protocol, transport = connect()
    kwargs = {**METHODS[method], parameter: bad}
    with pytest.raises(error, match=parameter):
        getattr(protocol, method)(**kwargs)
    assert take(transport) == b""
    assert protocol.pending == 0


@pytest.mark.parametrize("method", READS, ids=str)
def test_both_allow_dirty_and_consistency_is_a_type_error(method: str) -> None:
    protocol, transport = connect()
    for allow_dirty in (False, True):
        with pytest.raises(TypeError, match="allow_dirty or consistency, not both"):
            getattr(protocol, method)(
                **METHODS[method], allow_dirty=allow_dirty, consistency=Consistent
            )
    assert take(transport) == b""


@pytest.mark.parametrize("method", READS, ids=str)
def test_allow_dirty_and_consistency_select_the_consistency_byte(method: str) -> None:
    protocol, transport = connect()
    sent = {}
    for label, extra in (
        ("default", {}),
        ("clean", {"allow_dirty": False}),
        ("dirty", {"allow_dirty": True}),
        ("consistent", {"consistency": Consistent}),
        ("no guarantees", {"consistency": NoGuarantees}),
        ("at least", {"consistency": AtLeast(7)}),
    ):
        getattr(protocol, method)(**METHODS[method], **extra).addErrback(lambda _: None)
        sent[label] = take(transport)[4:14]
    assert sent["default"][0] == sent["clean"][0] == sent["consistent"][0] == 0
    assert sent["dirty"][0] == sent["no guarantees"][0] == 1
    assert sent["at least"][:9] == b"\x02" + (7).to_bytes(8, "little")


#: Parameters holding keys or other byte strings, per method.
_TEXT_PARAMETERS = {
    method: [
        p
        for p in kwargs
        if p
        in {
            "key",
            "client_id",
            "cluster_id",
            "prefix",
            "function",
            "value",
            "test_value",
            "set_value",
            "argument",
            "begin_key",
            "end_key",
        }
    ]
    for method, kwargs in METHODS.items()
}


@pytest.mark.parametrize(
    ("method", "parameter"),
    [(m, p) for m, params in _TEXT_PARAMETERS.items() for p in params],
    ids=lambda x: str(x),
)
def test_str_is_sent_as_its_utf8_bytes(method: str, parameter: str) -> None:
    protocol, transport = connect()
    text = "sl\u00fcssel/\u20ac"
    getattr(protocol, method)(**{**METHODS[method], parameter: text}).addErrback(lambda _: None)
    as_str = take(transport)
    encoded = text.encode("utf-8")
    getattr(protocol, method)(**{**METHODS[method], parameter: encoded}).addErrback(lambda _: None)
    assert as_str == take(transport)
    assert encoded in as_str


@pytest.mark.parametrize("method", ["multi_get", "multi_get_option"])
def test_str_keys_in_a_list_are_sent_as_utf8(method: str) -> None:
    protocol, transport = connect()
    getattr(protocol, method)(["\u00e9", b"b", bytearray(b"c")]).addErrback(lambda _: None)
    assert take(transport)[5:] == RequestList(String()).encode(["\u00e9".encode(), b"b", b"c"])


@pytest.mark.parametrize("method", ["range", "range_entries", "rev_range_entries", "prefix"])
@pytest.mark.parametrize("max_elements", [-1, -5, -(2**31), 0, 2**31 - 1])
def test_any_max_elements_in_int32_is_accepted(method: str, max_elements: int) -> None:
    protocol, transport = connect()
    kwargs = {**METHODS[method], "max_elements": max_elements}
    getattr(protocol, method)(**kwargs).addErrback(lambda _: None)
    assert take(transport).endswith(INT32.encode(max_elements))


@pytest.mark.parametrize(
    ("method", "parameter"), [("copy_db_to_head", "tlogs_to_keep"), ("collapse_tlogs", "count")]
)
@pytest.mark.parametrize("count", [0, -1, -(2**31)])
def test_zero_or_negative_tlog_counts_are_value_errors(
    method: str, parameter: str, count: int
) -> None:
    protocol, transport = connect()
    with pytest.raises(ValueError, match=f"{parameter} must be at least 1, not {count}"):
        getattr(protocol, method)(**{**METHODS[method], parameter: count})
    assert take(transport) == b""


@pytest.mark.parametrize(
    ("method", "parameter"),
    [("set", "value"), ("confirm", "value"), ("test_and_set", "set_value"), ("replace", "value")],
)
def test_values_of_8_mib_are_refused_and_one_byte_less_is_sent(method: str, parameter: str) -> None:
    protocol, transport = connect()
    with pytest.raises(ValueError, match=f"{parameter}: value of {MAX_VALUE_SIZE} bytes"):
        getattr(protocol, method)(**{**METHODS[method], parameter: BIG_VALUE})
    assert take(transport) == b""
    getattr(protocol, method)(**{**METHODS[method], parameter: LARGEST_VALUE}).addErrback(
        lambda _: None
    )
    assert take(transport).endswith(LARGEST_VALUE)


def test_sync_selects_synced_sequence() -> None:
    protocol, transport = connect()
    protocol.sequence([], sync=True).addErrback(lambda _: None)
    assert take(transport)[:4] == messages.SYNCED_SEQUENCE.word
    protocol.sequence([]).addErrback(lambda _: None)
    assert take(transport)[:4] == messages.SEQUENCE.word


def test_progress_that_is_not_callable_is_a_type_error() -> None:
    protocol, transport = connect()
    with pytest.raises(TypeError, match="progress"):
        protocol.collapse_tlogs(1, progress=5)  # type: ignore[arg-type]
    assert take(transport) == b""
