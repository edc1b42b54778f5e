"""Where a real Arakoon 1.9 surprises (PROTOCOL.md §11 D26, D28, D29, D30,
D32), against the target cluster: the in-memory one by default, a real one
when TXARAKOON_TEST_NODES names it. Requests no client sends (an 8 MiB value,
no tlog to keep, user_hook) go over raw sockets."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_twisted

from txarakoon.codec import INT32, STRING
from txarakoon.consistency import Consistent, NoGuarantees
from txarakoon.errors import BadInput, NotMaster, UnknownFailure, UserHookNotFound
from txarakoon.messages import (
    COPY_DB_TO_HEAD,
    MAX_VALUE_SIZE,
    SET,
    USER_HOOK,
    encode_error,
    prologue,
)

from .support import TIMEOUT, Flavour, InMemory, Keys, Target

ensure = pytest_twisted.ensureDeferred

#: A hook no node of the target has.
HOOK = b"txarakoon-test-no-such-hook"
#: The key right after the empty key: ranges up to it see only b"".
AFTER_EMPTY = b"\x00"


def _answer(target: Target, node: str, request: bytes) -> bytes:
    """Everything node ``node`` sends for ``request`` until it closes the connection."""
    with socket.create_connection(target.address(node), TIMEOUT) as sock:
        sock.sendall(prologue(target.cluster_id) + request)
        data = bytearray()
        while chunk := sock.recv(65536):
            data += chunk
    return bytes(data)


# -- D26 -----------------------------------------------------------------------------


@pytest_twisted.async_yield_fixture
async def empty_key(client: Any) -> AsyncIterator[bytes]:
    """The empty key bound to a value for the test, deleted after it."""
    if await client.exists(b""):
        pytest.skip("the cluster binds the empty key already")
    await client.set(b"", b"empty")
    yield b""
    await client.delete(b"")


@ensure
async def test_a_none_lower_bound_is_the_empty_key_with_its_flag(
    client: Any, empty_key: bytes
) -> None:
    assert await client.range(None, False, AFTER_EMPTY, False) == []
    assert await client.range(None, True, AFTER_EMPTY, False) == [b""]
    assert await client.range_entries(None, False, AFTER_EMPTY, False) == []
    assert await client.range_entries(None, True, AFTER_EMPTY, False) == [(b"", b"empty")]
    assert await client.rev_range_entries(AFTER_EMPTY, False, None, False) == []
    assert await client.rev_range_entries(AFTER_EMPTY, False, None, True) == [(b"", b"empty")]


@ensure
async def test_a_none_upper_bound_is_unbounded_whatever_its_flag(client: Any, keys: Keys) -> None:
    await client.set(keys("k"), b"v")
    assert await client.range(keys("k"), True, None, False, 1) == [keys("k")]
    assert await client.rev_range_entries(None, False, keys("k"), True, 1) != []


# -- D28 -----------------------------------------------------------------------------


@ensure
async def test_collapse_tlogs_is_served_on_a_slave_with_two_frames_or_more(
    flavour: Flavour, target: Target
) -> None:
    slave = await flavour.connect(target.slave())
    frames: list[int] = []
    # N = tlogs to collapse + 2: two even when there is nothing to collapse.
    assert await slave.collapse_tlogs(1, frames.append) == len(frames) >= 2
    assert await slave.who_master() == target.master().encode()


@ensure
async def test_collapse_tlogs_of_a_single_tlog_announces_two_frames(in_memory: InMemory) -> None:
    cluster = in_memory.start()
    slave = await in_memory.connect(cluster, "n1")
    assert await slave.collapse_tlogs(1) == 2
    assert slave.connected


# -- D29 -----------------------------------------------------------------------------


@ensure
async def test_an_unknown_user_function_on_a_slave_is_bad_input_not_not_master(
    flavour: Flavour, target: Target
) -> None:
    slave = await flavour.connect(target.slave())
    with pytest.raises(BadInput):
        await slave.user_function(b"no-such-function", None)
    assert slave.connected


def test_an_eight_mib_set_on_a_slave_is_unknown_failure_not_not_master(
    target: Target, keys: Keys
) -> None:
    request = SET.word + STRING.encode(keys("big")) + STRING.encode(b"v" * MAX_VALUE_SIZE)
    answer = _answer(target, target.slave(), request)
    assert answer == encode_error(UnknownFailure(b"unknown failure"))


def test_copy_db_to_head_keeping_no_tlog_is_refused_on_every_node(target: Target) -> None:
    request = COPY_DB_TO_HEAD.word + INT32.encode(0)
    expected = encode_error(UnknownFailure(b"tlogs_to_keep=0 is not acceptable"))
    for name in target.names:
        assert _answer(target, name, request) == expected, name


# -- D30 -----------------------------------------------------------------------------


@ensure
async def test_node_is_on_the_master_lists_every_node(
    client: Any, target: Target, keys: Keys
) -> None:
    await client.set(keys("k"), b"v")
    assert set((await client.statistics())["node_is"]) == set(target.names)


@ensure
async def test_node_is_on_a_slave_lists_the_master_and_itself(
    client: Any, flavour: Flavour, target: Target, keys: Keys
) -> None:
    await client.set(keys("k"), b"v")
    await client.nop()  # the slave applies the set once the next update is agreed
    name = target.slave()
    slave = await flavour.connect(name)
    listed = set((await slave.statistics())["node_is"])
    # A real slave sometimes lists the other slaves too.
    assert {target.master(), name} <= listed <= set(target.names)


@ensure
async def test_node_is_on_a_one_node_cluster_lists_nothing(
    flavour: Flavour, target: Target, request: pytest.FixtureRequest
) -> None:
    if len(target.names) == 1:
        node = await flavour.connect()
    elif target.real:
        pytest.skip("the cluster under test has more than one node")
    else:
        in_memory: InMemory = request.getfixturevalue("in_memory")
        cluster = in_memory.start(1)
        node = await in_memory.connect(cluster)
    await node.nop()
    assert (await node.statistics())["node_is"] == {}


# -- D32 -----------------------------------------------------------------------------


def test_an_unknown_user_hook_is_user_hook_not_found_naming_it(target: Target) -> None:
    answer = _answer(target, target.master(), USER_HOOK(Consistent, HOOK).serialize())
    assert answer == encode_error(UserHookNotFound(HOOK))


def test_a_consistent_user_hook_on_a_slave_is_not_master(target: Target) -> None:
    answer = _answer(target, target.slave(), USER_HOOK(Consistent, HOOK).serialize())
    assert answer == encode_error(NotMaster(target.master().encode()))


def test_a_user_hook_without_guarantees_on_a_slave_is_user_hook_not_found(
    target: Target,
) -> None:
    answer = _answer(target, target.slave(), USER_HOOK(NoGuarantees, HOOK).serialize())
    assert answer == encode_error(UserHookNotFound(HOOK))
