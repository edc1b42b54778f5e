"""Testing code that uses Arakoon with pytest, over real loopback sockets.

Run it with ``python -m pytest docs/examples/test_with_pytest_twisted.py``.
These tests run the reactor, so they need pytest-twisted (``pip install
pytest-twisted``); without it the module is skipped. The tests that need no
reactor are in ``test_with_pytest.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.threads import deferToThread

from txarakoon.blocking import SocketClient
from txarakoon.consistency import AtLeast
from txarakoon.recipes import increment

pytest_twisted = pytest.importorskip("pytest_twisted")


# -- reactor tests (pytest-twisted): real loopback sockets -------------------------------


@pytest_twisted.ensureDeferred
async def test_increment_over_tcp(arakoon_cluster_client: Any) -> None:
    assert await increment(arakoon_cluster_client, b"visits") == 1
    assert await arakoon_cluster_client.get(b"visits") == b"1"


@pytest_twisted.ensureDeferred
async def test_blocking_code_runs_in_a_thread(arakoon_listening_cluster: Any) -> None:
    # A blocking client must not wait inside the reactor that serves it: give
    # it a thread, and the reactor keeps answering.
    address = arakoon_listening_cluster["n0"].address

    def blocking_work() -> bytes:
        with SocketClient(address, "arakoon", timeout=10) as client:
            client.set(b"key", b"from a thread")
            return client.get(b"key")

    assert await deferToThread(blocking_work) == b"from a thread"


@pytest_twisted.ensureDeferred
async def test_a_slave_over_tcp(arakoon_listening_cluster: Any) -> None:
    from twisted.internet import reactor

    from txarakoon.protocol import connect

    cluster = arakoon_listening_cluster
    slave = await connect(reactor, cluster.endpoint("n2"), cluster.cluster_id)
    assert await slave.who_master() == b"n0"
    assert isinstance(await slave.get_txid(), AtLeast)
    await slave.close()
