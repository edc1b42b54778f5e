"""The pytest plugin (``txarakoon.testing.pytest_plugin``), run by pytest itself
in a subprocess through its ``pytest11`` entry point, as users get it."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

import txarakoon

pytest_plugins = ["pytester"]

ROOT = Path(txarakoon.__file__).resolve().parent.parent
PLUGIN = "txarakoon.testing.pytest_plugin"


def _entry_point() -> str:
    """The ``pytest11`` entry point line of setup.cfg."""
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    lines = parser["options.entry_points"]["pytest11"].strip().splitlines()
    (line,) = [line for line in lines if line.split("=")[0].strip() == "txarakoon"]
    return line.strip()


@pytest.fixture
def plugin_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Make the subprocess import this txarakoon and find the plugin's entry
    point: the installed one, or setup.cfg's declared in a stand-in
    distribution when running from a checkout that was not installed."""
    paths = [str(ROOT)]
    installed = metadata.entry_points(group="pytest11", name="txarakoon")
    if not installed:
        info = tmp_path / "entry-point" / "txarakoon_checkout-0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: txarakoon-checkout\nVersion: 0\n"
        )
        (info / "entry_points.txt").write_text(f"[pytest11]\n{_entry_point()}\n")
        paths.append(str(info.parent))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")]))
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)


SYNCHRONOUS_TESTS = """
    import pytest
    from twisted.internet.task import Clock

    from txarakoon.errors import NotFound, NotMaster
    from txarakoon.protocol import ArakoonProtocol
    from txarakoon.testing import ArakoonCluster, ArakoonNode, connect_in_memory


    def test_cluster_is_three_in_memory_nodes_on_the_shared_clock(arakoon_cluster, arakoon_clock):
        assert isinstance(arakoon_cluster, ArakoonCluster)
        assert arakoon_cluster.names == ("n0", "n1", "n2")
        assert arakoon_cluster.master == "n0"
        assert arakoon_cluster.clock is arakoon_clock
        assert isinstance(arakoon_clock, Clock)
        assert arakoon_cluster.addresses == {}


    def test_client_talks_to_the_master_through_resolve(arakoon_client, arakoon_resolve):
        assert isinstance(arakoon_client, ArakoonProtocol)
        arakoon_resolve(arakoon_client.set(b"k", b"v"))
        assert arakoon_resolve(arakoon_client.get(b"k")) == b"v"
        with pytest.raises(NotFound):
            arakoon_resolve(arakoon_client.get(b"missing"))


    def test_requests_wait_for_a_flush(arakoon_client, arakoon_cluster):
        pending = arakoon_client.who_master()
        assert not pending.called
        arakoon_cluster.flush()
        assert pending.result == b"n0"


    def test_resolve_runs_coroutines_and_advances_time(
        arakoon_client, arakoon_resolve, arakoon_clock
    ):
        async def drop():
            await arakoon_client.drop_master()
            return arakoon_clock.seconds()

        # a lease, the election delay, then half a lease (D27)
        assert arakoon_resolve(drop()) == 16.0


    def test_resolve_fails_when_nothing_can_happen(
        arakoon_cluster, arakoon_client, arakoon_resolve
    ):
        arakoon_cluster["n0"].stall()
        with pytest.raises(AssertionError, match="nothing is scheduled"):
            arakoon_resolve(arakoon_client.get(b"k"))


    def test_node_is_a_single_node_cluster(arakoon_node, arakoon_resolve):
        assert isinstance(arakoon_node, ArakoonNode)
        assert len(arakoon_node.cluster) == 1
        client = connect_in_memory(arakoon_node).client
        assert arakoon_resolve(client.who_master()) == arakoon_node.name.encode()


    def test_memory_cluster_client_fails_over(
        arakoon_cluster, arakoon_memory_cluster_client, arakoon_resolve
    ):
        client = arakoon_memory_cluster_client
        arakoon_resolve(client.set(b"k", b"1"))
        arakoon_resolve(arakoon_cluster.kill("n0"))
        arakoon_resolve(client.set(b"k", b"2"))
        assert client.master == "n1"
        assert arakoon_resolve(client.get(b"k")) == b"2"


    @pytest.mark.arakoon(("a", "b"), cluster_id="shaped", lag=0)
    def test_marker_shapes_the_cluster(arakoon_cluster, arakoon_node):
        assert arakoon_cluster.names == ("a", "b")
        assert arakoon_cluster.cluster_id == b"shaped"
        assert arakoon_cluster.lag == 0
        assert arakoon_node.cluster.cluster_id == b"shaped"


    @pytest.mark.arakoon(5)
    def test_marker_node_count(arakoon_cluster):
        assert len(arakoon_cluster) == 5


    @pytest.mark.arakoon(clock=Clock())
    def test_marker_refuses_a_clock(arakoon_cluster):
        pass


    def test_slave_connection(arakoon_cluster, arakoon_resolve):
        slave = arakoon_cluster.connect_in_memory("n1").client
        with pytest.raises(NotMaster):
            arakoon_resolve(slave.get(b"k"))


    def test_listening_without_pytest_twisted(arakoon_listening_cluster):
        pass
"""

REACTOR_TESTS = """
    import pytest_twisted
    from twisted.internet import reactor

    from txarakoon.cluster import ArakoonClient
    from txarakoon.protocol import connect

    LEFT = {}


    @pytest_twisted.ensureDeferred
    async def test_listening_cluster_serves_over_tcp(arakoon_listening_cluster):
        cluster = arakoon_listening_cluster
        assert cluster.clock is reactor
        assert set(cluster.addresses) == {"n0", "n1", "n2"}
        client = await connect(reactor, cluster.endpoint(), cluster.cluster_id)
        await client.set(b"k", b"v")
        assert await client.get(b"k") == b"v"
        await client.close()
        LEFT["cluster"] = cluster


    def test_listening_cluster_was_stopped():
        cluster = LEFT["cluster"]
        assert all(not node.connections for node in cluster)
        assert cluster["n0"]._port is None


    @pytest_twisted.ensureDeferred
    async def test_cluster_client_finds_the_master(
        arakoon_cluster_client, arakoon_listening_cluster
    ):
        assert isinstance(arakoon_cluster_client, ArakoonClient)
        await arakoon_cluster_client.set(b"k", b"v")
        assert arakoon_cluster_client.master == "n0"
        assert await arakoon_cluster_client.get(b"k") == b"v"
        LEFT["client"] = arakoon_cluster_client


    def test_cluster_client_was_disconnected():
        assert not LEFT["client"].connected


    def test_sync_test_may_use_the_listening_cluster(arakoon_listening_cluster):
        assert arakoon_listening_cluster.nodes_spec().startswith("arakoon@n0=127.0.0.1:")
"""


def test_importing_the_plugin_loads_neither_a_reactor_nor_pytest_twisted() -> None:
    check = (
        "import sys\n"
        f"import {PLUGIN}\n"
        "loaded = sorted({'twisted.internet.reactor', 'pytest_twisted'} & set(sys.modules))\n"
        "assert not loaded, loaded\n"
    )
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    done = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_setup_cfg_registers_the_plugin_module_as_txarakoon() -> None:
    assert _entry_point().replace(" ", "") == f"txarakoon={PLUGIN}"


def test_synchronous_fixtures_without_pytest_twisted(
    pytester: pytest.Pytester, plugin_env: None
) -> None:
    pytester.makepyfile(test_synchronous=textwrap.dedent(SYNCHRONOUS_TESTS))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:twisted")
    result.assert_outcomes(passed=10, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_marker_refuses_a_clock*",
            "*clock cannot be set; use the arakoon_clock fixture*",
            "*ERROR at setup of test_listening_without_pytest_twisted*",
            "arakoon_listening_cluster needs pytest-twisted*",
        ]
    )


def test_reactor_fixtures_with_pytest_twisted(pytester: pytest.Pytester, plugin_env: None) -> None:
    pytester.makepyfile(test_reactor=textwrap.dedent(REACTOR_TESTS))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


LOOPBACK_TRIAL_TESTS = """
    from twisted.trial.unittest import TestCase

    from txarakoon.testing.trial import LoopbackArakoonMixin


    class OverTCP(LoopbackArakoonMixin, TestCase):
        async def test_set_then_get(self):
            await self.arakoon_client.set(b"k", b"v")
            self.assertEqual(await self.arakoon_client.get(b"k"), b"v")


    class Disabled(LoopbackArakoonMixin, TestCase):
        __test__ = False
"""

# A pytest test that starts pytest-twisted's reactor: a loopback trial test case
# collected after it fails with DirtyReactorAggregateError.
STARTS_THE_REACTOR = """
    import pytest_twisted
    from twisted.internet import reactor
    from twisted.internet.task import deferLater


    @pytest_twisted.ensureDeferred
    async def test_the_reactor_runs():
        assert await deferLater(reactor, 0, lambda: "ran") == "ran"
"""


def test_a_loopback_trial_test_case_under_pytest_twisted_fails_at_collection_saying_what_to_do(
    pytester: pytest.Pytester, plugin_env: None
) -> None:
    pytester.makepyfile(
        test_a_reactor=textwrap.dedent(STARTS_THE_REACTOR),
        test_b_trial=textwrap.dedent(LOOPBACK_TRIAL_TESTS),
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting test_b_trial.py*",
            "OverTCP is a trial TestCase with LoopbackArakoonMixin: it spins the reactor itself,"
            " which fails under pytest-twisted*",
        ]
    )
    advice = result.stdout.str()
    assert "python -m twisted.trial test_b_trial.py" in advice
    assert "python -m pytest -p no:twisted test_b_trial.py" in advice
    assert "Disabled" not in advice


def test_a_loopback_trial_test_case_runs_under_pytest_without_pytest_twisted(
    pytester: pytest.Pytester, plugin_env: None
) -> None:
    pytester.makepyfile(test_trial=textwrap.dedent(LOOPBACK_TRIAL_TESTS))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:twisted")
    result.assert_outcomes(passed=1)


def test_an_in_memory_trial_test_case_is_collected_under_pytest_twisted(
    pytester: pytest.Pytester, plugin_env: None
) -> None:
    # The loopback mixin itself, imported but not used, is no test case to refuse.
    in_memory = """
        from twisted.trial.unittest import SynchronousTestCase, TestCase

        from txarakoon.testing.trial import InMemoryArakoonMixin, LoopbackArakoonMixin


        class InMemory(InMemoryArakoonMixin, TestCase):
            def test_set_then_get(self):
                self.resolve(self.arakoon_client.set(b"k", b"v"))
                self.assertEqual(self.resolve(self.arakoon_client.get(b"k")), b"v")


        class Synchronous(InMemoryArakoonMixin, SynchronousTestCase):
            def test_who_master(self):
                self.assertEqual(self.resolve(self.arakoon_client.who_master()), b"n0")
    """
    pytester.makepyfile(
        test_a_reactor=textwrap.dedent(STARTS_THE_REACTOR),
        test_b_trial=textwrap.dedent(in_memory),
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
