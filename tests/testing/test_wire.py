"""The node's wire handling: prologue, command word, argument decoding,
pipelining, incremental delivery and the connection closing rules
(PROTOCOL.md §1, §2, §4)."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from txarakoon import messages
from txarakoon.codec import STRING, UINT32
from txarakoon.consistency import AtLeast, Consistent, NoGuarantees
from txarakoon.messages import prologue
from txarakoon.sequence import Set
from txarakoon.testing import RawClient, connect_in_memory

from . import cluster, exchange, open_raw, response

PROLOGUE = prologue(b"arakoon")
GET_KEY = messages.GET(Consistent, b"key")


def _word(opcode: int) -> bytes:
    return UINT32.encode(0xB1FF0000 | opcode)


# -- prologue ---------------------------------------------------------------------


def test_prologue_alone_gets_no_reply_and_keeps_the_connection() -> None:
    node = cluster()["n0"]
    assert exchange(node) == (b"", False)


@pytest.mark.parametrize(
    "greeting",
    [
        b"\x00\x00\xff\xb2" + PROLOGUE[4:],  # magic
        PROLOGUE[:4] + b"\x02\x00\x00\x00" + PROLOGUE[8:],  # version 2
        prologue(b"other"),  # cluster id
        prologue(b"arakoo"),
    ],
    ids=["magic", "version", "cluster_id", "cluster_id_prefix"],
)
def test_wrong_prologue_closes_without_a_byte(greeting: bytes) -> None:
    node = cluster()["n0"]
    assert exchange(node, GET_KEY, greeting=greeting) == (b"", True)


def test_prologue_may_share_a_packet_with_the_first_command() -> None:
    arakoon = cluster()
    arakoon.seed({b"key": b"value"})
    assert exchange(arakoon["n0"], GET_KEY) == (response("resp_get_value"), False)


# -- command word -------------------------------------------------------------------


def test_command_word_without_magic_gets_only_no_magic_code_then_close() -> None:
    node = cluster()["n0"]
    reply, lost = exchange(node, b"\x08\x00\x00\x00" + GET_KEY.serialize()[4:])
    assert reply == response("resp_error_01_NoMagic") == b"\x01\x00\x00\x00"
    assert lost


def test_command_word_needs_only_the_magic_bits() -> None:
    # The server ANDs the word with the magic; extra high bits pass (§2).
    arakoon = cluster()
    arakoon.seed({b"key": b"value"})
    word = UINT32.encode(0xB1FF0000 | 0x00000008 | 0x0E000000)
    reply, _ = exchange(arakoon["n0"], word + GET_KEY.serialize()[4:])
    assert reply == response("resp_get_value")


def test_unknown_opcode_gets_code_5_command_not_found_then_close() -> None:
    node = cluster()["n0"]
    reply, lost = exchange(node, _word(0x99), messages.WHO_MASTER())
    assert reply == response("resp_error_05_NotFound_cmd")
    assert lost


def test_unknown_opcode_message_is_lowercase_hex_without_padding() -> None:
    node = cluster()["n0"]
    reply, _ = exchange(node, _word(0x3A))
    assert reply == b"\x05\x00\x00\x00" + STRING.encode(b"3a: command not found")


@pytest.mark.parametrize("opcode", [0x0E, 0x1B, 0x17])
def test_commands_the_fake_does_not_serve_are_not_found(opcode: int) -> None:
    node = cluster()["n0"]
    reply, lost = exchange(node, _word(opcode))
    assert reply == b"\x05\x00\x00\x00" + STRING.encode(b"%x: command not found" % opcode)
    assert lost


# -- argument decoding (§1.5) ----------------------------------------------------------


def test_bad_consistency_tag_closes_silently() -> None:
    node = cluster()["n0"]
    request = _word(0x08) + b"\x07" + STRING.encode(b"key")
    assert exchange(node, request) == (b"", True)


def test_bad_bool_in_an_unwrapped_command_closes_silently() -> None:
    node = cluster()["n0"]
    request = messages.RANGE(Consistent, None, True, None, True, -1).serialize()
    bad = request[:6] + b"\x05" + request[7:]  # begin_inclusive
    assert exchange(node, bad) == (b"", True)


def test_bad_option_byte_in_test_and_set_gets_unknown_failure_then_close() -> None:
    node = cluster()["n0"]
    request = _word(0x0D) + STRING.encode(b"key") + b"\x05"
    reply, lost = exchange(node, request)
    assert reply == response("resp_error_ff_UnknownFailure")
    assert lost


def test_bad_option_byte_in_replace_gets_unknown_failure_then_close() -> None:
    node = cluster()["n0"]
    reply, lost = exchange(node, _word(0x33) + STRING.encode(b"key") + b"\x02")
    assert (reply, lost) == (response("resp_error_ff_UnknownFailure"), True)


def test_sequence_payload_that_is_not_a_sequence_gets_should_have_been_a_sequence() -> None:
    node = cluster()["n0"]
    reply, lost = exchange(node, _word(0x10) + STRING.encode(Set(b"k", b"v").encode()))
    assert reply == b"\xff\x00\x00\x00" + STRING.encode(b"should have been a sequence")
    assert lost


def test_sequence_with_an_internal_step_gets_unknown_failure() -> None:
    node = cluster()["n0"]
    payload = UINT32.encode(5) + UINT32.encode(1) + UINT32.encode(6)  # [Nop]
    reply, lost = exchange(node, _word(0x10) + STRING.encode(payload))
    assert (reply, lost) == (response("resp_error_ff_UnknownFailure"), True)


def test_truncated_request_gets_no_reply() -> None:
    node = cluster()["n0"]
    assert exchange(node, GET_KEY.serialize()[:-1]) == (b"", False)


# -- pipelining and incremental delivery ------------------------------------------------


def test_pipelined_requests_in_one_chunk_get_replies_in_order() -> None:
    arakoon = cluster()
    requests: list[messages.Message[Any]] = [
        messages.SET(b"a", b"1"),
        messages.GET(Consistent, b"a"),
        messages.GET(Consistent, b"missing"),
        messages.EXISTS(Consistent, b"a"),
    ]
    reply, lost = exchange(arakoon["n0"], *requests)
    expected = (
        response("resp_unit_ok")
        + b"\x00\x00\x00\x00"
        + STRING.encode(b"1")
        + response("resp_error_05_NotFound")
        + response("resp_exists_true")
    )
    assert (reply, lost) == (expected, False)


def test_requests_delivered_one_byte_at_a_time_get_the_same_replies() -> None:
    arakoon = cluster()
    arakoon.seed({b"key": b"value"})
    client = RawClient()
    connection = connect_in_memory(arakoon["n0"], client)
    for byte in PROLOGUE + GET_KEY.serialize() + messages.WHO_MASTER().serialize():
        client.send(bytes((byte,)))
        connection.flush()
    assert bytes(client.received) == response("resp_get_value") + b"\x00\x00\x00\x00\x01" + (
        STRING.encode(b"n0")
    )


def test_many_pipelined_requests_do_not_recurse() -> None:
    arakoon = cluster()
    reply, lost = exchange(arakoon["n0"], *[messages.NOP()] * 3000)
    assert reply == b"\x00\x00\x00\x00" * 3000 and not lost
    assert arakoon.txid == 3000


def test_empty_key_and_value_round_trip() -> None:
    arakoon = cluster()
    reply, _ = exchange(arakoon["n0"], messages.SET(b"", b""), messages.GET(Consistent, b""))
    assert reply == response("resp_unit_ok") + response("resp_get_empty")


def test_every_byte_value_round_trips() -> None:
    arakoon = cluster()
    value = bytes(range(256))
    reply, _ = exchange(arakoon["n0"], messages.SET(value, value), messages.GET(Consistent, value))
    assert reply == b"\x00" * 4 + b"\x00" * 4 + STRING.encode(value)


# -- which codes close the connection (§1.5) -----------------------------------------------

KEPT_AFTER = b"\x00\x00\x00\x00\x01" + STRING.encode(b"n0")  # who_master on n0


def test_not_found_keeps_the_connection() -> None:
    reply, lost = exchange(cluster()["n0"], GET_KEY, messages.WHO_MASTER())
    assert (reply, lost) == (response("resp_error_05_NotFound") + KEPT_AFTER, False)


def test_assertion_failed_keeps_the_connection() -> None:
    request = messages.ASSERT(Consistent, b"key", b"value")
    reply, lost = exchange(cluster()["n0"], request, messages.WHO_MASTER())
    assert (reply, lost) == (response("resp_error_07_AssertionFailed") + KEPT_AFTER, False)


def test_inconsistent_read_keeps_the_connection() -> None:
    request = messages.GET(AtLeast(1), b"key")
    reply, lost = exchange(cluster()["n0"], request, messages.WHO_MASTER())
    assert (reply, lost) == (response("resp_error_80_InconsistentRead") + KEPT_AFTER, False)


def test_bad_input_keeps_the_connection() -> None:
    request = messages.USER_FUNCTION(b"nope", None)
    reply, lost = exchange(cluster()["n0"], request, messages.WHO_MASTER())
    assert (reply, lost) == (response("resp_error_26_BadInput") + KEPT_AFTER, False)


def test_no_longer_master_keeps_the_connection() -> None:
    arakoon = cluster()
    arakoon.no_longer_master("n0")
    reply, lost = exchange(arakoon["n0"], messages.SET(b"k", b"v"), messages.WHO_MASTER())
    assert (reply, lost) == (response("resp_error_21_NoLongerMaster") + KEPT_AFTER, False)


def test_not_master_closes_and_ignores_requests_behind_it() -> None:
    arakoon = cluster(("arakoon_0", "arakoon_1", "arakoon_2"), master="arakoon_1")
    requests = (messages.SET(b"k", b"v"), messages.GET(NoGuarantees, b"k"))
    reply, lost = exchange(arakoon["arakoon_0"], *requests)
    assert (reply, lost) == (response("resp_error_04_NotMaster"), True)
    assert arakoon.txid == 0


def test_not_supported_closes_the_connection() -> None:
    reply, lost = exchange(cluster()["n0"], messages.OPTIMIZE_DB(), messages.WHO_MASTER())
    assert (reply, lost) == (response("resp_error_20_NotSupported"), True)


def test_unknown_failure_closes_the_connection() -> None:
    request = messages.HELLO(b"me", b"other")
    reply, lost = exchange(cluster()["n0"], request, messages.WHO_MASTER())
    assert (reply, lost) == (response("resp_error_ff_UnknownFailure"), True)


def test_user_function_failure_closes_the_connection() -> None:
    def boom(transaction: object, argument: bytes | None) -> bytes:
        raise RuntimeError('Failure("boom")')

    arakoon = cluster(user_functions={"boom": boom})
    request = messages.USER_FUNCTION(b"boom", None)
    reply, lost = exchange(arakoon["n0"], request, messages.WHO_MASTER())
    assert (reply, lost) == (response("resp_error_81_UserFunctionFailure"), True)


# -- at connect time (§1.3) -------------------------------------------------------------


def test_going_down_node_sends_closing_socket_at_connect() -> None:
    node = cluster()["n0"]
    node.going_down = True
    assert exchange(node, GET_KEY) == (response("resp_error_10_GoingDown"), True)


def test_connection_beyond_max_connections_gets_too_many_clients() -> None:
    node = cluster()["n0"]
    node.max_connections = 1
    first = open_raw(node)
    reply, lost = exchange(node, GET_KEY)
    assert (reply, lost) == (response("resp_error_fe_MaxConnections"), True)
    assert not first.lost


def test_closed_connections_free_their_place() -> None:
    node = cluster()["n0"]
    node.max_connections = 1
    first = connect_in_memory(node, RawClient.with_prologue(b"arakoon"))
    first.disconnect()
    assert exchange(node, messages.WHO_MASTER())[1] is False


def test_word_struct_is_little_endian() -> None:
    assert _word(0x08) == struct.pack("<I", 0xB1FF0008) == b"\x08\x00\xff\xb1"
