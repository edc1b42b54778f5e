"""The client flavours agree on every command: one scripted sequence of calls,
run by the Twisted ``ArakoonProtocol``, by the blocking ``SocketClient`` and
by the blocking cluster client ``BlockingArakoonClient`` against the same
server, gives the same results and the same errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest_twisted
from twisted.internet.defer import Deferred

from txarakoon import BlockingArakoonClient
from txarakoon.consistency import AtLeast, NoGuarantees
from txarakoon.errors import ArakoonError, NotConnectedError
from txarakoon.messages import MAX_VALUE_SIZE
from txarakoon.sequence import AssertRange, Delete, DeletePrefix, Replace, Set

from .support import TIMEOUT, BlockingClient, BlockingFlavour, Keys, Target, TwistedFlavour

Call = Callable[[Any, Keys], "Deferred[Any]"]

#: (label, call); ``k`` makes keys under the run's own prefix. Errors that keep
#: the connection come first; the last calls close it.
SCRIPT: list[tuple[str, Call]] = [
    ("hello", lambda c, k: c.hello(b"agreement", c.cluster_id)),
    ("who_master", lambda c, k: c.who_master()),
    ("set", lambda c, k: c.set(k("a"), "1")),
    ("set_b", lambda c, k: c.set(k("b"), b"2")),
    ("set_c", lambda c, k: c.set(k("c"), b"3")),
    ("set_p1", lambda c, k: c.set(k("p/1"), b"x")),
    ("set_p2", lambda c, k: c.set(k("p/2"), b"y")),
    ("get", lambda c, k: c.get(k("a"))),
    ("get_missing", lambda c, k: c.get(k("zz"))),
    ("get_dirty", lambda c, k: c.get(k("a"), allow_dirty=True)),
    ("get_no_guarantees", lambda c, k: c.get(k("b"), consistency=NoGuarantees)),
    ("get_too_fresh", lambda c, k: c.get(k("a"), consistency=AtLeast(2**62))),
    ("exists", lambda c, k: c.exists(k("a"))),
    ("exists_missing", lambda c, k: c.exists(k("zz"))),
    ("multi_get", lambda c, k: c.multi_get([k("c"), k("a")])),
    ("multi_get_missing", lambda c, k: c.multi_get([k("x"), k("a"), k("y")])),
    ("multi_get_option", lambda c, k: c.multi_get_option([k("c"), k("x"), k("a")])),
    ("range", lambda c, k: c.range(k("a"), True, k("c"), False)),
    ("range_exclusive", lambda c, k: c.range(k("a"), False, k("c"), True)),
    ("range_zero", lambda c, k: c.range(k("a"), True, k("c"), True, 0)),
    ("range_negative", lambda c, k: c.range(k("a"), True, k("c"), True, -7)),
    ("range_entries", lambda c, k: c.range_entries(k("a"), True, k("c"), True, 2)),
    ("rev_range_entries", lambda c, k: c.rev_range_entries(k("c"), True, k("a"), False)),
    ("prefix", lambda c, k: c.prefix(k(""), 3)),
    ("prefix_p", lambda c, k: c.prefix(k("p/"))),
    ("test_and_set", lambda c, k: c.test_and_set(k("a"), b"1", b"one")),
    ("test_and_set_differs", lambda c, k: c.test_and_set(k("a"), b"1", b"uno")),
    ("test_and_set_missing", lambda c, k: c.test_and_set(k("nope"), b"x", b"y")),
    ("test_and_set_create", lambda c, k: c.test_and_set(k("new"), None, b"n")),
    ("replace", lambda c, k: c.replace(k("b"), b"two")),
    ("replace_delete", lambda c, k: c.replace(k("b"), None)),
    ("confirm_same", lambda c, k: c.confirm(k("c"), b"3")),
    ("confirm_other", lambda c, k: c.confirm(k("c"), b"three")),
    ("assert", lambda c, k: c.assert_(k("a"), b"one")),
    ("assert_fails", lambda c, k: c.assert_(k("a"), b"1")),
    ("assert_absent", lambda c, k: c.assert_(k("zz"), None)),
    ("assert_exists", lambda c, k: c.assert_exists(k("a"))),
    ("assert_exists_fails", lambda c, k: c.assert_exists(k("zz"))),
    ("delete", lambda c, k: c.delete(k("new"))),
    ("delete_missing", lambda c, k: c.delete(k("new"))),
    ("sequence", lambda c, k: c.sequence([Set(k("s"), b"1"), Replace(k("c"), b"3")])),
    ("sequence_fails", lambda c, k: c.sequence([Set(k("t"), b"1"), Delete(k("zz"))])),
    (
        "synced_sequence",
        lambda c, k: c.sequence([AssertRange(k("p/"), [k("p/1"), k("p/2")])], sync=True),
    ),
    ("assert_range_fails", lambda c, k: c.sequence([AssertRange(k("p/"), [k("p/1")])])),
    ("delete_prefix_step_kept", lambda c, k: c.sequence([DeletePrefix(k("p/")), Delete(k("zz"))])),
    ("after_failed_delete_prefix", lambda c, k: c.prefix(k("p/"))),
    ("delete_prefix", lambda c, k: c.delete_prefix(k(""))),
    ("user_function_unknown", lambda c, k: c.user_function(b"no-such-function", None)),
    ("nop", lambda c, k: c.nop()),
    ("get_key_count", lambda c, k: c.get_key_count()),
    ("expect_progress_possible", lambda c, k: c.expect_progress_possible()),
    ("current_state", lambda c, k: c.get_current_state()),
    ("statistics", lambda c, k: c.statistics()),
    ("version", lambda c, k: c.version()),
    ("get_txid", lambda c, k: c.get_txid()),
    ("flush_store", lambda c, k: c.flush_store()),
    ("set_too_large", lambda c, k: c.set(k("big"), b"v" * MAX_VALUE_SIZE)),
    ("set_bad_key", lambda c, k: c.set(42, b"v")),
    ("range_bad_limit", lambda c, k: c.range(None, True, None, True, 2**31)),
    ("optimize_db_on_master", lambda c, k: c.optimize_db()),
    ("after_close", lambda c, k: c.get(k("a"))),
]

# Values that legitimately differ between two runs: compare their shape only.
SHAPE_ONLY = {"get_key_count", "get_txid", "statistics", "version"}


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_shape(item) for item in value]
    return type(value).__name__


def _normal(value: Any, prefix: bytes) -> Any:
    """``value`` with the run's key prefix replaced, so both runs compare equal."""
    if isinstance(value, bytes):
        return value.replace(prefix, b"<prefix>")
    if isinstance(value, list):
        return [_normal(item, prefix) for item in value]
    if isinstance(value, tuple):
        return tuple(_normal(item, prefix) for item in value)
    return value


class _ClusterFace:
    """A :class:`BlockingArakoonClient` behind the one-node face the script
    uses: the admin commands, which the cluster client offers per node, go to
    ``node(master)``."""

    def __init__(self, client: BlockingArakoonClient) -> None:
        self.client = client
        self.cluster_id = client.config.cluster_id

    def __getattr__(self, name: str) -> Any:
        if hasattr(self.client, name):
            return getattr(self.client, name)
        master = self.client.who_master()
        assert master is not None
        return getattr(self.client.node(master), name)


async def _run(client: Any, keys: Keys) -> list[tuple[str, Any]]:
    outcomes: list[tuple[str, Any]] = []
    for label, call in SCRIPT:
        try:
            pending = call(client, keys)
        except (TypeError, ValueError) as error:
            outcomes.append((label, ("raised", type(error).__name__)))
            continue
        try:
            value = await pending
        except ArakoonError as error:
            message = _normal(error.message, keys.prefix)
            outcomes.append((label, ("error", type(error).__name__, error.code, message)))
        except NotConnectedError as error:
            outcomes.append((label, ("error", type(error).__name__)))
        else:
            shown = _shape(value) if label in SHAPE_ONLY else _normal(value, keys.prefix)
            outcomes.append((label, ("ok", shown)))
    return outcomes


@pytest_twisted.ensureDeferred
async def test_the_client_flavours_agree_on_every_command(target: Target, keys: Keys) -> None:
    twisted_client = await TwistedFlavour(target).connect()
    twisted_keys = Keys(keys.prefix + b"twisted/")
    twisted_outcomes = await _run(twisted_client, twisted_keys)
    await twisted_client.close()

    # Blocking calls inside the reactor are fine here: the server is elsewhere.
    blocking_client = await BlockingFlavour(target).connect()
    blocking_keys = Keys(keys.prefix + b"blocking/")
    try:
        blocking_outcomes = await _run(blocking_client, blocking_keys)
    finally:
        blocking_client.sync.close()

    cluster_client = BlockingArakoonClient(target.config, timeout=TIMEOUT)
    cluster_keys = Keys(keys.prefix + b"cluster/")
    try:
        cluster_outcomes = await _run(BlockingClient(_ClusterFace(cluster_client)), cluster_keys)
    finally:
        cluster_client.close()

    assert [label for label, _ in twisted_outcomes] == [label for label, _ in SCRIPT]
    for (label, mine), (_, theirs) in zip(twisted_outcomes, blocking_outcomes, strict=True):
        assert mine == theirs, label
    # The cluster client agrees too, except that it connects again after a
    # reply that closed its connection: it is not a connection, but the
    # cluster (whose keys delete_prefix removed).
    for (label, mine), (_, theirs) in zip(twisted_outcomes, cluster_outcomes, strict=True):
        if label != "after_close":
            assert mine == theirs, label
    assert dict(cluster_outcomes)["after_close"] == ("error", "NotFound", 0x05, b"Not_found")
    # Not the same mistake twice: spot checks against PROTOCOL.md.
    results = dict(twisted_outcomes)
    assert results["get"] == ("ok", b"1")
    assert results["get_missing"] == ("error", "NotFound", 0x05, b"Not_found")
    assert results["multi_get_missing"] == ("error", "NotFound", 0x05, b"<prefix>y")
    assert results["test_and_set_missing"] == ("ok", None)
    assert results["after_failed_delete_prefix"] == ("ok", [])
    assert results["delete_prefix"][0] == "ok"
    assert results["user_function_unknown"][1:3] == ("BadInput", 0x26)
    assert results["set_too_large"] == ("raised", "ValueError")
    assert results["optimize_db_on_master"][1:3] == ("NotSupported", 0x20)
    assert results["after_close"] == ("error", "NotConnectedError")
