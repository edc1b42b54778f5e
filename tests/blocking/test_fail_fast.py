"""The blocking cluster client fails at once on what retrying cannot fix, by
the same verdict as the Twisted client (txarakoon.retry.after_round). Each
test gives a deadline far longer than the test may take: a retry until the
deadline would end as NoMasterError, not MisconfiguredCluster."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from txarakoon.blocking_cluster import BlockingArakoonClient
from txarakoon.config import ClusterConfig
from txarakoon.errors import MisconfiguredCluster, NoMasterError
from txarakoon.testing.process import ServeProcess

LONG = 120.0


def test_a_wrong_cluster_id_fails_at_once_saying_to_check_it(shared: ServeProcess) -> None:
    served = shared.config()
    config = ClusterConfig("not-this-one", served.nodes)
    client = BlockingArakoonClient(config, timeout=LONG)
    with client, pytest.raises(MisconfiguredCluster, match="check the cluster id") as raised:
        client.get(b"k")
    assert raised.value.applied is False
    assert set(raised.value.nodes) == set(served.nodes)


def test_a_wrong_cluster_id_is_told_as_a_close_after_the_prologue(shared: ServeProcess) -> None:
    config = ClusterConfig("not-this-one", shared.config().nodes)
    client = BlockingArakoonClient(config, timeout=LONG)
    with client, pytest.raises(MisconfiguredCluster) as raised:
        client.get(b"k")
    assert "closed the connection after the prologue" in str(raised.value)
    assert "lost after it was sent" not in str(raised.value)


def test_a_node_list_without_the_master_fails_at_once_naming_it(shared: ServeProcess) -> None:
    served = shared.config()
    slaves = {name: node for name, node in served.nodes.items() if name != "n0"}
    config = ClusterConfig(served.cluster_id, slaves)
    client = BlockingArakoonClient(config, timeout=LONG)
    with client, pytest.raises(MisconfiguredCluster, match="names unknown node 'n0'"):
        client.get(b"k")


@pytest.fixture
def echo() -> Iterator[int]:
    """A TCP service that sends back what it receives: no Arakoon node."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                while data := connection.recv(4096):
                    connection.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()


def test_a_peer_that_is_not_arakoon_fails_at_once(echo: int) -> None:
    config = ClusterConfig("arakoon", {"n0": (["127.0.0.1"], echo)})
    client = BlockingArakoonClient(config, timeout=LONG)
    with client, pytest.raises(MisconfiguredCluster, match="not an Arakoon node"):
        client.get(b"k")


def test_one_node_that_may_recover_keeps_the_call_retrying_until_its_deadline(
    shared: ServeProcess,
) -> None:
    served = shared.config()
    nodes = {"n0": served.nodes["n0"], "gone": (["127.0.0.1"], 1)}
    config = ClusterConfig("not-this-one", nodes)
    client = BlockingArakoonClient(config, timeout=1.0)
    with client, pytest.raises(NoMasterError) as raised:
        client.get(b"k")
    assert not isinstance(raised.value, MisconfiguredCluster)
