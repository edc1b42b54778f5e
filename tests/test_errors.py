"""The exceptions of :mod:`txarakoon.errors`: one class per return code,
``error_for_code``, which codes close the connection (PROTOCOL.md §1.5), readable
messages, pickling, and the connection failures with their ``applied`` flag."""

from __future__ import annotations

import pickle

import pytest

import txarakoon
from txarakoon import errors
from txarakoon.errors import (
    ArakoonError,
    AssertionFailed,
    BadInput,
    ConnectionFailure,
    ConnectionLost,
    GoingDown,
    InconsistentRead,
    MaxConnections,
    NoHello,
    NoLongerMaster,
    NoMagic,
    NoMasterError,
    NotConnectedError,
    NotFound,
    NotMaster,
    NotSupported,
    OutcomeUnknown,
    OutsideInterval,
    ProtocolViolation,
    ReadOnly,
    RequestNotProcessed,
    RequestTimeout,
    TooManyDeadNodes,
    UnknownFailure,
    UnsupportedCommand,
    UserFunctionFailure,
    UserHookNotFound,
    WrongCluster,
    error_for_code,
)

#: Every return code of PROTOCOL.md §4.1 and its class.
BY_CODE: dict[int, type[ArakoonError]] = {
    0x01: NoMagic,
    0x02: TooManyDeadNodes,
    0x03: NoHello,
    0x04: NotMaster,
    0x05: NotFound,
    0x06: WrongCluster,
    0x07: AssertionFailed,
    0x08: ReadOnly,
    0x09: OutsideInterval,
    0x10: GoingDown,
    0x20: NotSupported,
    0x21: NoLongerMaster,
    0x26: BadInput,
    0x80: InconsistentRead,
    0x81: UserFunctionFailure,
    0x82: UserHookNotFound,
    0xFE: MaxConnections,
    0xFF: UnknownFailure,
}

#: PROTOCOL.md §1.5: the only codes after which the server keeps the connection.
KEEPS_CONNECTION = {0x05, 0x07, 0x21, 0x26, 0x80}

_CODES = sorted(BY_CODE)


@pytest.mark.parametrize("code", _CODES, ids=hex)
def test_error_for_code_maps_each_code_to_its_class(code: int) -> None:
    error = error_for_code(code, b"why")
    assert type(error) is BY_CODE[code]
    assert error.code == code
    assert error.message == b"why"
    assert isinstance(error, ArakoonError)


@pytest.mark.parametrize("code", _CODES, ids=hex)
def test_each_class_knows_its_code(code: int) -> None:
    cls = BY_CODE[code]
    assert code == cls.CODE
    assert cls().code == code
    assert cls().message == b""


@pytest.mark.parametrize("code", _CODES, ids=hex)
def test_closes_connection_follows_protocol_section_1_5(code: int) -> None:
    assert error_for_code(code, b"").closes_connection is (code not in KEEPS_CONNECTION)


def test_not_found_is_a_key_error() -> None:
    error = error_for_code(0x05, b"Not_found")
    assert isinstance(error, KeyError)
    with pytest.raises(KeyError):
        raise error


def test_not_found_str_is_the_message_not_a_key_error_repr() -> None:
    assert str(NotFound(b"Not_found")) == "Not_found"


@pytest.mark.parametrize(
    "message", [b"99: command not found", b"1f: command not found", b"ff: command not found"]
)
def test_command_not_found_is_unsupported_command_and_closes(message: bytes) -> None:
    error = error_for_code(0x05, message)
    assert type(error) is UnsupportedCommand
    assert not isinstance(error, (NotFound, KeyError))
    assert error.code == 0x05
    assert error.message == message
    assert error.closes_connection


@pytest.mark.parametrize("message", [b"Not_found", b"command", b"command not found: k", b""])
def test_other_code_5_messages_are_not_found(message: bytes) -> None:
    error = error_for_code(0x05, message)
    assert type(error) is NotFound
    assert not error.closes_connection


@pytest.mark.parametrize("code", [0x0A, 0x11, 0x22, 0x7F, 0x83, 0xFD, 0x100, 2**32 - 1])
def test_unknown_codes_are_unknown_failure_keeping_the_raw_code(code: int) -> None:
    error = error_for_code(code, b"odd")
    assert type(error) is UnknownFailure
    assert error.code == code
    assert error.message == b"odd"
    assert error.closes_connection
    assert f"0x{code:02x}" in repr(error)


def test_no_magic_carries_no_message() -> None:
    error = NoMagic()
    assert error.message == b""
    assert error.closes_connection


def test_wrong_cluster_and_outside_interval_are_value_errors() -> None:
    assert isinstance(WrongCluster(), ValueError)
    assert isinstance(OutsideInterval(b"k"), ValueError)


def test_base_class_needs_an_explicit_code() -> None:
    with pytest.raises(TypeError, match="code"):
        ArakoonError(b"x")
    assert ArakoonError(b"x", 0x42).code == 0x42


def test_str_is_the_message_decoded_as_utf8() -> None:
    assert str(NotMaster("n\u00f6de".encode())) == "n\u00f6de"


def test_str_escapes_bytes_that_are_not_utf8() -> None:
    assert str(UnknownFailure(b"bad \xff\xfe end")) == "bad \\xff\\xfe end"
    assert str(NotFound(b"\x80")) == "\\x80"


def test_repr_shows_class_code_and_raw_message() -> None:
    assert repr(NotMaster(b"n0")) == "NotMaster(code=0x04, message=b'n0')"


def test_errors_compare_by_class_code_and_message() -> None:
    assert NotFound(b"k") == NotFound(b"k")
    assert NotFound(b"k") != NotFound(b"j")
    assert NotFound(b"k") != AssertionFailed(b"k")
    assert hash(NotFound(b"k")) == hash(NotFound(b"k"))


@pytest.mark.parametrize("code", [*_CODES, 0x99], ids=hex)
def test_every_error_pickles_with_its_class_code_and_message(code: int) -> None:
    error = error_for_code(code, b"m\xff")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert (copy.code, copy.message) == (error.code, error.message)
    assert copy.closes_connection is error.closes_connection


def test_unsupported_command_pickles() -> None:
    error = error_for_code(0x05, b"99: command not found")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is UnsupportedCommand
    assert copy == error


def test_not_master_hint() -> None:
    assert NotMaster(b"n1").master_hint == b"n1"
    assert NotMaster(b"None").master_hint is None
    assert NotMaster(b"Not_Master").master_hint is None
    assert NotMaster(b"").master_hint is None


# -- the failures that are not return codes ----------------------------------------------


def test_applied_says_whether_the_request_was_applied() -> None:
    assert RequestNotProcessed().applied is False
    assert ConnectionLost().applied is None
    assert OutcomeUnknown().applied is None


@pytest.mark.parametrize("cls", [RequestNotProcessed, ConnectionLost, OutcomeUnknown])
def test_connection_failures_keep_reason_and_request(cls: type[ConnectionFailure]) -> None:
    reason = NotMaster(b"n0")
    error = cls(reason, "get(key=b'k')")
    assert error.reason is reason
    assert error.request == "get(key=b'k')"


#: What each connection failure's str() says of its request: applied or not, and so
#: whether to retry it.
VERDICTS: list[tuple[ConnectionFailure, str]] = [
    (
        RequestNotProcessed("the connection was closed", "get(key=b'k')"),
        "get(key=b'k') was not applied, so it is safe to retry: the connection was closed",
    ),
    (
        ConnectionLost("reset by peer", "set(key=b'k', value=b'v')"),
        "the connection was lost after set(key=b'k', value=b'v') was sent, "
        "so it may or may not have been applied: reset by peer",
    ),
    (
        OutcomeUnknown("the node went down", "delete(key=b'k')"),
        "delete(key=b'k') may or may not have been applied and was not retried "
        "(check the keys it writes before repeating it): the node went down",
    ),
    (
        NoMasterError("n0: knows no master", None),
        "no node could be confirmed as master, so the request was not sent and is safe to "
        "retry (an election may be under way, or too few nodes are up): n0: knows no master",
    ),
    (
        RequestTimeout("no answer within the deadline", "nop()", applied=False),
        "nop() was not sent before its deadline, so it is safe to retry: "
        "no answer within the deadline",
    ),
    (
        RequestTimeout("no answer within the deadline", "nop()", applied=None),
        "nop() got no reply in time, so it may or may not have been applied: "
        "no answer within the deadline",
    ),
]


@pytest.mark.parametrize(
    ("error", "text"),
    VERDICTS,
    ids=["not-processed", "lost", "outcome-unknown", "no-master", "timeout-unsent", "timeout-sent"],
)
def test_a_connection_failure_says_whether_its_request_was_applied(
    error: ConnectionFailure, text: str
) -> None:
    assert str(error) == text


def test_a_connection_failure_without_a_request_or_reason_still_reads_as_a_sentence() -> None:
    assert str(ConnectionLost()) == (
        "the connection was lost after the request was sent, so it may or may not have been applied"
    )


def test_a_server_error_as_the_reason_is_named_by_its_class() -> None:
    error = RequestNotProcessed(NotMaster(b"n0"), "get(key=b'k')")
    assert str(error) == (
        "get(key=b'k') was not applied, so it is safe to retry: the server answered NotMaster (n0)"
    )
    assert str(RequestNotProcessed(GoingDown(), "nop()")).endswith(
        ": the server answered GoingDown"
    )


def test_an_exception_as_the_reason_is_named_by_its_class() -> None:
    error = ConnectionLost(ConnectionResetError(104, "Connection reset by peer"), "nop()")
    assert str(error).endswith(": ConnectionResetError: [Errno 104] Connection reset by peer")
    assert str(ConnectionLost(EOFError(), "nop()")).endswith(": EOFError")


def test_explain_gives_a_connection_failure_as_its_cause_alone() -> None:
    assert errors.explain(RequestNotProcessed("cannot connect to n0", None)) == (
        "cannot connect to n0"
    )
    assert errors.explain(NotMaster(b"n1")) == "the server answered NotMaster (n1)"
    assert errors.explain("no node answered") == "no node answered"


def test_outcome_unknown_names_its_request_once() -> None:
    request = "set(key=b'k', value=b'v')"
    lost = ConnectionLost(ConnectionAbortedError("Connection was closed cleanly."), request)
    assert str(OutcomeUnknown(lost, request)) == (
        f"{request} may or may not have been applied and was not retried "
        "(check the keys it writes before repeating it): the connection was lost after "
        "it was sent (ConnectionAbortedError: Connection was closed cleanly.)"
    )
    timeout = RequestTimeout("no answer within the deadline", request)
    assert str(OutcomeUnknown(timeout, request)).count(request) == 1


def test_a_request_timeout_is_a_timeout_error_whose_strerror_is_its_sentence() -> None:
    error = RequestTimeout("no answer within the deadline", "nop()")
    assert isinstance(error, TimeoutError)
    assert error.strerror == str(error)


@pytest.mark.parametrize("cls", [RequestNotProcessed, ConnectionLost, OutcomeUnknown])
def test_connection_failures_pickle(cls: type[ConnectionFailure]) -> None:
    copy = pickle.loads(pickle.dumps(cls(NotMaster(b"n0"), "set(...)")))
    assert type(copy) is cls
    assert copy.reason == NotMaster(b"n0")
    assert copy.request == "set(...)"
    assert copy.applied is cls.applied


def test_connection_failures_are_not_arakoon_errors() -> None:
    for cls in (RequestNotProcessed, ConnectionLost, OutcomeUnknown):
        assert not issubclass(cls, ArakoonError)
        assert issubclass(cls, ConnectionFailure)


def test_protocol_violation_and_not_connected_are_separate_families() -> None:
    assert not issubclass(ProtocolViolation, (ArakoonError, ConnectionFailure))
    assert issubclass(NotConnectedError, RuntimeError)
    assert pickle.loads(pickle.dumps(ProtocolViolation("bad tag"))).args == ("bad tag",)


def test_names_are_exported() -> None:
    for name in errors.__all__:
        assert hasattr(errors, name), name
    for cls in BY_CODE.values():
        assert cls.__name__ in errors.__all__
    assert txarakoon.NotConnectedError is NotConnectedError
    assert txarakoon.NotFound is NotFound
