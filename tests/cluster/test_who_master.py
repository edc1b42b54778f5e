"""``who_master()`` on the cluster client: the master's name, ``None`` when the
nodes answered and none confirmed a master, an error with each node's cause
when no node could be asked; and ``node()`` taking what it answers."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from txarakoon import errors

from ..helpers.inmemory import MemoryEndpoints, memory_client, memory_cluster, run_until

DEADLINE = 30.0


class WhoMasterTests(SynchronousTestCase):
    def test_names_the_master_in_bytes_which_node_takes(self) -> None:
        cluster = memory_cluster(3)
        client = memory_client(cluster)
        asked = client.who_master()
        run_until(cluster, asked)
        master = self.successResultOf(asked)
        self.assertEqual(master, b"n0")
        state = client.node(master).get_current_state()
        run_until(cluster, state)
        self.assertIn(b"master", self.successResultOf(state).lower())

    def test_is_none_while_the_nodes_answer_without_a_master(self) -> None:
        cluster = memory_cluster(3, master=None, election_delay=None)
        client = memory_client(cluster, timeout=DEADLINE)
        asked = client.who_master()
        run_until(cluster, asked)
        self.assertIsNone(self.successResultOf(asked))

    def test_says_each_nodes_cause_when_no_node_could_be_asked(self) -> None:
        cluster = memory_cluster(3)
        for name in cluster.names:
            cluster.kill(name)
        client = memory_client(cluster, timeout=DEADLINE)
        asked = client.who_master()
        # One round, no retries: well before the deadline.
        self.assertLess(run_until(cluster, asked), DEADLINE / 10)
        error = self.failureResultOf(asked, errors.NoMasterError).value
        self.assertNotIsInstance(error, errors.MisconfiguredCluster)
        self.assertFalse(error.answered)
        self.assertEqual(set(error.nodes), {"n0", "n1", "n2"})
        for name, text in error.nodes.items():
            self.assertIn(f"cannot connect to {name}", text)
        self.assertIn("no node could be confirmed as master, nor even asked", str(error))

    def test_a_silent_node_is_a_cause_not_a_timeout_of_the_call(self) -> None:
        cluster = memory_cluster(1)
        cluster["n0"].stall()
        client = memory_client(cluster, timeout=DEADLINE, connect_timeout=5.0)
        asked = client.who_master()
        run_until(cluster, asked)
        error = self.failureResultOf(asked, errors.NoMasterError).value
        self.assertNotIsInstance(error, errors.RequestTimeout)
        self.assertIn("TimeoutError", error.nodes["n0"])

    def test_a_black_holed_node_is_a_cause_too(self) -> None:
        cluster = memory_cluster(2)
        endpoints = MemoryEndpoints(cluster)
        endpoints.hang.update(cluster.names)
        client = memory_client(cluster, endpoints, timeout=DEADLINE, connect_timeout=1.0)
        asked = client.who_master()
        run_until(cluster, asked)
        error = self.failureResultOf(asked, errors.NoMasterError).value
        self.assertEqual(set(error.nodes), {"n0", "n1"})


class NodeNameTests(SynchronousTestCase):
    def test_node_takes_a_name_as_text_or_bytes(self) -> None:
        client = memory_client(memory_cluster(3))
        self.assertEqual(client.node(b"n1").name, client.node("n1").name)

    def test_node_refuses_a_name_the_cluster_lacks(self) -> None:
        client = memory_client(memory_cluster(3))
        with self.assertRaises(KeyError):
            client.node(b"n9")

    def test_node_refuses_a_name_of_another_type(self) -> None:
        client = memory_client(memory_cluster(3))
        with self.assertRaises(TypeError):
            client.node(1)  # type: ignore[arg-type]
