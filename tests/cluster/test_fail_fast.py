"""The cluster client fails at once when every node fails a discovery round in
a way retrying cannot cure, and keeps retrying when one node's failure is
transient: against the in-memory cluster, without sockets, on its Clock.

"At once" is checked on the clock: the failure arrives before a tenth of the
call's deadline has passed (the connect and question timeouts bound it)."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IProtocolFactory, IStreamClientEndpoint
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from txarakoon import errors
from txarakoon.cluster import ArakoonClient
from txarakoon.config import ClusterConfig, NodeConfig
from txarakoon.testing import ArakoonCluster

from ..helpers.inmemory import MemoryEndpoints, config_for, memory_cluster, run_for, run_until

DEADLINE = 30.0
AT_ONCE = DEADLINE / 10


def client_with(
    cluster: ArakoonCluster, config: ClusterConfig, endpoints: Any = None
) -> ArakoonClient:
    return ArakoonClient(
        config,
        cluster.clock,
        timeout=DEADLINE,
        endpoint_factory=endpoints or MemoryEndpoints(cluster),
    )


def fails_at(cluster: ArakoonCluster, call: Deferred[Any]) -> float:
    """The clock's time (from now) when ``call`` fired."""
    start = cluster.clock.seconds()
    return run_until(cluster, call) - start


class WrongClusterIdTests(SynchronousTestCase):
    def test_a_wrong_cluster_id_fails_a_write_at_once_naming_the_cluster_id(self) -> None:
        cluster = memory_cluster(3)
        config = config_for(cluster)
        client = client_with(cluster, ClusterConfig("other", config.nodes))
        write = client.set(b"k", b"v")
        self.assertLess(fails_at(cluster, write), AT_ONCE)
        error = self.failureResultOf(write, errors.MisconfiguredCluster).value
        self.assertIs(error.applied, False)
        self.assertEqual(set(error.nodes), {"n0", "n1", "n2"})
        for text in error.nodes.values():
            self.assertIn("check the cluster id", text)
        self.assertIn("retrying will not help", str(error))
        self.assertIsNone(cluster.store.get(b"k"))

    def test_is_still_a_no_master_error_for_code_that_catches_those(self) -> None:
        cluster = memory_cluster(3)
        client = client_with(cluster, ClusterConfig("other", config_for(cluster).nodes))
        read = client.get(b"k")
        run_until(cluster, read)
        self.failureResultOf(read, errors.NoMasterError)

    def test_one_node_refusing_keeps_the_call_retrying_until_its_deadline(self) -> None:
        cluster = memory_cluster(3)
        cluster.kill("n2")
        client = client_with(cluster, ClusterConfig("other", config_for(cluster).nodes))
        write = client.set(b"k", b"v")
        run_for(cluster, DEADLINE / 2)
        self.assertNoResult(write)
        run_until(cluster, write)
        error = self.failureResultOf(write, errors.NoMasterError).value
        self.assertNotIsInstance(error, errors.MisconfiguredCluster)
        self.assertIn("n2: cannot connect to n2", str(error))

    def test_one_silent_node_keeps_the_call_retrying_until_its_deadline(self) -> None:
        cluster = memory_cluster(3)
        endpoints = MemoryEndpoints(cluster)
        endpoints.hang.add("n1")
        config = ClusterConfig("other", config_for(cluster).nodes)
        write = client_with(cluster, config, endpoints).set(b"k", b"v")
        run_for(cluster, DEADLINE / 2)
        self.assertNoResult(write)
        run_until(cluster, write)
        self.assertNotIsInstance(
            self.failureResultOf(write, errors.NoMasterError).value, errors.MisconfiguredCluster
        )


class UnknownMasterTests(SynchronousTestCase):
    def test_a_node_list_the_cluster_does_not_know_fails_at_once(self) -> None:
        cluster = memory_cluster(3)
        # The cluster's nodes under other names: each answers n0, unknown here.
        names = {"a": "n0", "b": "n1", "c": "n2"}
        config = ClusterConfig(cluster.cluster_id, {name: (["memory"], 4000) for name in names})
        endpoints = MemoryEndpoints(cluster)

        def endpoint(node: NodeConfig, host: str) -> IStreamClientEndpoint:
            return endpoints(NodeConfig(names[node.name], node.hosts, node.port), host)

        write = client_with(cluster, config, endpoint).set(b"k", b"v")
        self.assertLess(fails_at(cluster, write), AT_ONCE)
        error = self.failureResultOf(write, errors.MisconfiguredCluster).value
        self.assertEqual(set(error.nodes), {"a", "b", "c"})
        self.assertIn("names unknown node 'n0'", error.nodes["a"])
        self.assertIn("check the node names", error.nodes["a"])


@implementer(IStreamClientEndpoint)
class AnsweringEndpoint:
    """Connects to a peer that answers every chunk the client writes with
    ``answer`` (``None``: the chunk itself, an echo server), a moment later
    on ``clock``."""

    def __init__(self, clock: Clock, answer: bytes | None = None) -> None:
        self.clock = clock
        self.answer = answer

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[Any]:
        protocol: Any = protocolFactory.buildProtocol(None)  # type: ignore[arg-type]
        clock, answer = self.clock, self.answer

        class Answering(StringTransport):
            def write(self, data: bytes) -> None:
                super().write(data)
                if not self.disconnecting:
                    clock.callLater(0, protocol.dataReceived, answer or data)

            def abortConnection(self) -> None:
                super().loseConnection()

        protocol.makeConnection(Answering())
        return succeed(protocol)


class NotArakoonTests(SynchronousTestCase):
    def write_to(self, answer: bytes | None) -> tuple[Deferred[Any], float]:
        cluster = memory_cluster(2)
        clock = cluster.clock
        assert isinstance(clock, Clock)
        client = client_with(
            cluster, config_for(cluster), lambda node, host: AnsweringEndpoint(clock, answer)
        )
        write = client.set(b"k", b"v")
        return write, fails_at(cluster, write)

    def test_an_echo_server_fails_at_once_as_not_arakoon(self) -> None:
        write, elapsed = self.write_to(None)
        self.assertLess(elapsed, AT_ONCE)
        error = self.failureResultOf(write, errors.MisconfiguredCluster).value
        for text in error.nodes.values():
            self.assertIn("not an Arakoon node", text)
            self.assertIn("check the node's address and client port", text)

    def test_a_port_answering_in_tls_fails_at_once_saying_it_speaks_tls(self) -> None:
        alert = bytes.fromhex("15 03 03 00 02 02 32")
        write, elapsed = self.write_to(alert)
        self.assertLess(elapsed, AT_ONCE)
        error = self.failureResultOf(write, errors.MisconfiguredCluster).value
        for text in error.nodes.values():
            self.assertIn("its port speaks TLS, so configure TLS for it", text)
