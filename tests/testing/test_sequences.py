"""Sequences (PROTOCOL.md §7) and the server's observed quirks D19–D21, D23."""

from __future__ import annotations

from typing import Any

from txarakoon.codec import STRING, UINT32
from txarakoon.messages import SEQUENCE, SYNCED_SEQUENCE
from txarakoon.sequence import (
    Assert,
    AssertExists,
    AssertRange,
    Delete,
    DeletePrefix,
    Replace,
    Sequence,
    Set,
    Step,
)
from txarakoon.testing import ArakoonCluster

from . import cluster, exchange, response

OK = b"\x00\x00\x00\x00"


def _seeded(**items: bytes) -> ArakoonCluster:
    arakoon = cluster()
    arakoon.seed({key.replace("_", "/").encode(): value for key, value in items.items()})
    return arakoon


def _run(arakoon: ArakoonCluster, steps: list[Step], *, synced: bool = False) -> tuple[bytes, bool]:
    command = SYNCED_SEQUENCE if synced else SEQUENCE
    return exchange(arakoon["n0"], command(steps))


def _error(code: int, message: bytes) -> bytes:
    return UINT32.encode(code) + STRING.encode(message)


def _data(arakoon: ArakoonCluster) -> dict[bytes, bytes]:
    return arakoon.store.as_dict()


def test_every_step_applies_in_order() -> None:
    arakoon = _seeded(k=b"v", d=b"x", p_1=b"", r=b"old")
    steps: list[Step] = [
        Assert(b"k", b"v"),
        Assert(b"none", None),
        AssertExists(b"k"),
        Set(b"n", b"1"),
        Delete(b"d"),
        Replace(b"r", b"new"),
        Replace(b"gone", None),
        DeletePrefix(b"p/"),
        Sequence([Set(b"nested", b"2")]),
    ]
    assert _run(arakoon, steps) == (OK, False)
    assert _data(arakoon) == {b"k": b"v", b"n": b"1", b"nested": b"2", b"r": b"new"}
    assert arakoon.txid == 2


def test_synced_sequence_applies_too() -> None:
    arakoon = cluster()
    assert _run(arakoon, [Set(b"a", b"1")], synced=True) == (OK, False)
    assert _data(arakoon) == {b"a": b"1"}


def test_empty_sequence_succeeds_and_takes_a_txid() -> None:
    arakoon = cluster()
    assert _run(arakoon, []) == (OK, False)
    assert arakoon.txid == 1


def test_failing_delete_aborts_with_not_found_of_the_key() -> None:
    arakoon = _seeded(k=b"v")
    reply, lost = _run(arakoon, [Set(b"a", b"1"), Delete(b"key"), Set(b"b", b"2")])
    assert (reply, lost) == (response("resp_error_05_NotFound_key"), False)
    assert _data(arakoon) == {b"k": b"v"}


def test_failing_assert_aborts_with_assertion_failed_of_the_key() -> None:
    arakoon = _seeded(key=b"v")
    reply, lost = _run(arakoon, [Set(b"a", b"1"), Assert(b"key", b"other")])
    assert (reply, lost) == (response("resp_error_07_AssertionFailed"), False)
    assert _data(arakoon) == {b"key": b"v"}


def test_failing_assert_exists_aborts() -> None:
    arakoon = cluster()
    reply, _ = _run(arakoon, [Replace(b"a", b"1"), AssertExists(b"key")])
    assert reply == response("resp_error_07_AssertionFailed")
    assert _data(arakoon) == {}


def test_failing_sequence_still_takes_a_txid() -> None:
    arakoon = cluster()
    _run(arakoon, [Delete(b"missing")])
    assert arakoon.txid == 1


def test_delete_sees_a_key_set_earlier_in_the_sequence() -> None:
    arakoon = cluster()
    assert _run(arakoon, [Set(b"a", b"1"), Delete(b"a")]) == (OK, False)
    assert _data(arakoon) == {}


def test_assert_sees_earlier_steps() -> None:
    arakoon = cluster()
    steps: list[Step] = [Set(b"a", b"1"), Assert(b"a", b"1"), AssertExists(b"a")]
    assert _run(arakoon, steps)[0] == OK


def test_nested_sequence_failure_aborts_everything() -> None:
    arakoon = cluster()
    reply, _ = _run(arakoon, [Set(b"a", b"1"), Sequence([Set(b"b", b"2"), Delete(b"x")])])
    assert reply == _error(5, b"x")
    assert _data(arakoon) == {}


def test_failing_sequence_does_not_undo_delete_prefix_d19() -> None:
    arakoon = _seeded(k_a=b"1", k_b=b"2", other=b"3")
    steps: list[Step] = [DeletePrefix(b"k/"), Set(b"k/new", b"x"), Delete(b"nokey")]
    assert _run(arakoon, steps) == (_error(5, b"nokey"), False)
    assert _data(arakoon) == {b"other": b"3"}


def test_delete_prefix_does_not_see_keys_set_earlier_in_the_sequence_d20() -> None:
    arakoon = _seeded(k_old=b"1")
    assert _run(arakoon, [Set(b"k/new", b"x"), DeletePrefix(b"k/")])[0] == OK
    assert _data(arakoon) == {b"k/new": b"x"}


def test_assert_range_does_not_see_keys_set_earlier_in_the_sequence_d20() -> None:
    arakoon = _seeded(p_a=b"")
    steps: list[Step] = [Set(b"p/b", b""), AssertRange(b"p/", [b"p/a"])]
    assert _run(arakoon, steps)[0] == OK


def test_assert_range_passes_when_the_keys_match() -> None:
    arakoon = _seeded(p_a=b"", p_b=b"", q=b"")
    assert _run(arakoon, [AssertRange(b"p/", [b"p/b", b"p/a"])]) == (OK, False)


def test_assert_range_of_no_keys() -> None:
    arakoon = _seeded(q=b"")
    assert _run(arakoon, [AssertRange(b"p/", [])])[0] == OK
    reply, _ = _run(arakoon, [AssertRange(b"q", [])])
    assert reply == _error(7, b'ContainsExactly [ "" ] actual: q')


def test_assert_range_failure_message_d23() -> None:
    arakoon = _seeded(p_a=b"", p_b=b"")
    reply, lost = _run(arakoon, [AssertRange(b"p/", [b"p/a"])])
    assert (reply, lost) == (_error(7, b'ContainsExactly [ "p/a" ] actual: p/a,p/b'), False)


def test_assert_range_with_nothing_matching_ends_with_actual_d23() -> None:
    arakoon = cluster()
    reply, _ = _run(arakoon, [AssertRange(b"p/", [b"p/b", b"p/a"])])
    # The keys as the server read them: ascending, as AssertRange sends them.
    assert reply == _error(7, b'ContainsExactly [ "p/a; p/b" ] actual: ')


def test_assert_range_with_keys_ascending_on_the_wire_fails_as_observed() -> None:
    # pyrakoon and the official client send the caller's order; ascending input
    # fails even though the key set matches (§7.3, §12.4).
    arakoon = _seeded(p_a=b"", p_b=b"")
    ascending_on_wire = AssertRange._from_wire(b"p/", [b"p/b", b"p/a"])
    reply, _ = _run(arakoon, [ascending_on_wire])
    assert reply == _error(7, b'ContainsExactly [ "p/b; p/a" ] actual: p/a,p/b')


def test_assert_range_message_quotes_like_ocaml() -> None:
    arakoon = cluster()
    reply, _ = _run(arakoon, [AssertRange(b"p", [b'p"\\\n\xc3\xa9'])])
    assert reply == _error(7, b'ContainsExactly [ "p\\"\\\\\\n\\195\\169" ] actual: ')


def test_value_of_8_mib_is_accepted_in_a_set_step_d21() -> None:
    arakoon = cluster()
    big = b"x" * (8 * 1024 * 1024)
    assert _run(arakoon, [Set(b"k", big), Replace(b"r", big)]) == (OK, False)
    assert arakoon.store.get(b"k") == big


def test_update_beyond_max_buffer_size_is_bad_input_d21() -> None:
    arakoon = cluster()
    value = b"x" * (32 * 1024 * 1024)
    reply, lost = _run(arakoon, [Set(b"k", value)])
    size = 4 + 4 + 4 + (4 + 1) + (4 + len(value))
    message = b'update Sequence([Set            ;"k";%d;"..."... (0 more) ]) has size %d > %d' % (
        len(value),
        size,
        32 * 1024 * 1024,
    )
    assert (reply, lost) == (_error(0x26, message), False)
    assert arakoon.txid == 0


def test_update_size_message_describes_every_step() -> None:
    arakoon = cluster(max_buffer_size=10)
    steps: list[Any] = [
        Delete(b"d"),
        Assert(b"a", b"vv"),
        AssertExists(b"e"),
        DeletePrefix(b"p"),
        Replace(b"r", None),
        AssertRange(b"q", [b"q1"]),
        Sequence([]),
    ]
    reply, _ = exchange(arakoon["n0"], SYNCED_SEQUENCE(steps))
    described = (
        b"SyncedSequence("
        b'[Delete         ;"d"; '
        b'Assert          ;"a";2; '
        b'Assert_exists   ;"e"; '
        b'DeletePrefix    ;"p"; '
        b'Replace            ;"r";0; '
        b'Assert_range("q", ContainsExactly [ "q1" ]); '
        b"Sequence([])"
        b"... (0 more) ])"
    )
    size = len(Sequence(steps).encode())
    assert reply == _error(0x26, b"update %s has size %d > 10" % (described, size))


def test_long_sequence_description_shows_100_steps() -> None:
    arakoon = cluster(max_buffer_size=10)
    reply, _ = _run(arakoon, [Delete(b"d")] * 102)
    assert reply.count(b"Delete") == 100
    assert b'Delete         ;"d"; ... (2 more) ]) has size' in reply


def test_sequence_on_a_slave_is_not_master() -> None:
    arakoon = cluster(3)
    reply, lost = exchange(arakoon["n1"], SEQUENCE([Set(b"a", b"1")]))
    assert (reply, lost) == (_error(4, b"n0"), True)
