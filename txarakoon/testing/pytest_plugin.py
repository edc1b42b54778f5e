"""pytest fixtures: an in-memory Arakoon cluster, a node, and connected clients.

Installing txarakoon registers this plugin with pytest under the name
``txarakoon`` (entry point ``pytest11``); nothing needs configuring, and
``-p no:txarakoon`` switches it off. Importing it costs almost nothing: it
imports Twisted, txarakoon and pytest-twisted only inside the fixtures you
use, and never installs a reactor.

Fixtures for ordinary, synchronous tests (no sockets, no reactor; time stands
still until something advances the shared clock):

``arakoon_cluster``
    a three-node :class:`~txarakoon.testing.cluster.ArakoonCluster` (master
    ``n0``, cluster id ``arakoon``) on the ``arakoon_clock``, with its controls
    (``kill``, ``elect``, ``lag``, ``seed``, ...).
``arakoon_node``
    the only :class:`~txarakoon.testing.node.ArakoonNode` of a single-node
    cluster (``arakoon_node.cluster``) on the ``arakoon_clock``.
``arakoon_client``
    an :class:`~txarakoon.protocol.ArakoonProtocol` connected in memory to the
    master of ``arakoon_cluster``. Its requests travel when the cluster is
    flushed: ``arakoon_resolve(d)`` does it for you (``arakoon_cluster.flush()``
    by hand).
``arakoon_memory_cluster_client``
    an :class:`~txarakoon.cluster.ArakoonClient` for ``arakoon_cluster`` that
    connects in memory and keeps time on ``arakoon_clock``; disconnected at
    teardown.
``arakoon_resolve``
    a :class:`Resolver`: ``arakoon_resolve(deferred_or_coroutine)`` runs it to
    completion and returns its value or raises its exception, flushing the
    clusters of the fixtures above and advancing ``arakoon_clock`` as far as
    needed (see :func:`txarakoon.testing.trial.resolve`).
``arakoon_clock``
    the :class:`~twisted.internet.task.Clock` of those clusters; give it to the
    code under test so that its timers run under ``arakoon_resolve`` too.

Fixtures for tests that run in the reactor with
`pytest-twisted <https://github.com/pytest-dev/pytest-twisted>`_ (``async
def`` tests decorated with ``@pytest_twisted.ensureDeferred``, or
``@pytest_twisted.inlineCallbacks``):

``arakoon_listening_cluster``
    a three-node cluster listening on free loopback ports with the running
    reactor (``.endpoint(name)``, ``.ini()``, ``.nodes_spec()`` say where);
    stopped at teardown.
``arakoon_cluster_client``
    an :class:`~txarakoon.cluster.ArakoonClient` for
    ``arakoon_listening_cluster``, over TCP; disconnected at teardown.

Mark a test with ``@pytest.mark.arakoon(nodes, **options)`` to shape its
clusters: ``nodes`` is a count or the node names, ``options`` any other
argument of :class:`~txarakoon.testing.cluster.ArakoonCluster`, e.g.
``@pytest.mark.arakoon(5, lag=0, user_functions={"echo": echo})``.
``arakoon_node`` takes the options but is always one node.

A trial :class:`~twisted.trial.unittest.TestCase` using
:class:`~txarakoon.testing.trial.LoopbackArakoonMixin` spins the reactor
itself, which breaks once pytest-twisted has started it
(``DirtyReactorAggregateError``, ``AlreadyCancelled``, depending on which
test ran first). While pytest-twisted is active, the plugin refuses such a
test case at collection and says how to run it instead.
"""

from __future__ import annotations

import sys
import unittest
from collections.abc import Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred
    from twisted.internet.task import Clock

    from ..cluster import ArakoonClient
    from ..protocol import ArakoonProtocol
    from .cluster import ArakoonCluster
    from .node import ArakoonNode

__all__ = ["MARKER", "Resolver"]

T = TypeVar("T")

#: The marker that shapes the clusters of a test.
MARKER = "arakoon"
_DEFAULT_NODES = 3


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(nodes=3, **options): the node count or names and other ArakoonCluster "
        "arguments of the txarakoon fixtures' clusters (not clock)",
    )


# Before pytest's unittest plugin, which would otherwise collect the class first.
@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """Refuse, at collection, a trial test case with the loopback mixin while
    pytest-twisted runs the reactor: it would fail later, and only in some
    orders, with errors that do not say why."""
    # A class can only use the mixin if its module is imported: looking it up
    # here, rather than importing it, keeps this hook free for other suites.
    trial = sys.modules.get("txarakoon.testing.trial")
    if (
        trial is None
        or not isinstance(obj, type)
        or not issubclass(obj, unittest.TestCase)
        or not issubclass(obj, trial.LoopbackArakoonMixin)
        or not getattr(obj, "__test__", True)
        or not collector.config.pluginmanager.has_plugin("twisted")
    ):
        return
    path = collector.path
    raise collector.CollectError(
        f"{name} is a trial TestCase with LoopbackArakoonMixin: it spins the reactor "
        "itself, which fails under pytest-twisted (active in this run) once a test has "
        "started the reactor (DirtyReactorAggregateError, AlreadyCancelled). Run it with "
        f"trial (python -m twisted.trial {path.name}), or in a pytest run of its own with "
        f"pytest-twisted off (python -m pytest -p no:twisted {path.name}); or move it to "
        "the arakoon_listening_cluster fixture, or to InMemoryArakoonMixin with a "
        "SynchronousTestCase, which work under both runners."
    )


class Resolver:
    """What the ``arakoon_resolve`` fixture gives: call it with a Deferred or a
    coroutine to run it to completion.

    :ivar clock: the shared :class:`~twisted.internet.task.Clock`.
    :ivar clusters: the in-memory clusters it flushes (those made by the
        fixtures of the current test).
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.clusters: list[ArakoonCluster] = []

    def __call__(
        self,
        result: Deferred[T] | Coroutine[Any, Any, T],
        *,
        advance: bool = True,
        max_seconds: float | None = None,
    ) -> T:
        """``result``'s value, or its exception raised, once every cluster is
        flushed and (with ``advance``) the clock moved as far as needed. See
        :func:`txarakoon.testing.trial.resolve`."""
        from .drive import DEFAULT_MAX_SECONDS, resolve

        if not self.clusters:
            raise RuntimeError(
                "arakoon_resolve has no cluster to run: use arakoon_cluster or arakoon_node"
            )
        return resolve(
            self.clusters,
            result,
            clock=self.clock,
            advance=advance,
            max_seconds=DEFAULT_MAX_SECONDS if max_seconds is None else max_seconds,
        )

    def flush(self) -> bool:
        """Move bytes over the clusters' in-memory connections until none move;
        whether any did. Time does not move."""
        from .drive import flush

        return flush(self.clusters)


def _shape(request: pytest.FixtureRequest) -> tuple[Any, dict[str, Any]]:
    """The node names or count and the other cluster options of the test."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return _DEFAULT_NODES, {}
    options = dict(marker.kwargs)
    if len(marker.args) > 1 or (marker.args and "nodes" in options):
        pytest.fail(f"@pytest.mark.{MARKER} takes one nodes argument", pytrace=False)
    nodes = marker.args[0] if marker.args else options.pop("nodes", _DEFAULT_NODES)
    options.pop("nodes", None)
    if "clock" in options:
        pytest.fail(
            f"@pytest.mark.{MARKER}: clock cannot be set; use the arakoon_clock fixture",
            pytrace=False,
        )
    return nodes, options


def _stop(cluster: ArakoonCluster, resolver: Resolver) -> None:
    resolver(cluster.stop(), advance=False)


@pytest.fixture
def arakoon_clock() -> Clock:
    """The :class:`~twisted.internet.task.Clock` of the in-memory fixtures."""
    from twisted.internet.task import Clock

    return Clock()


@pytest.fixture
def arakoon_resolve(arakoon_clock: Clock) -> Resolver:
    """Run a Deferred or coroutine to completion against the test's in-memory
    clusters: ``value = arakoon_resolve(client.get(b"key"))``."""
    return Resolver(arakoon_clock)


@pytest.fixture
def arakoon_cluster(
    request: pytest.FixtureRequest, arakoon_resolve: Resolver
) -> Iterator[ArakoonCluster]:
    """An in-memory three-node cluster on ``arakoon_clock``, without sockets."""
    from .cluster import ArakoonCluster

    nodes, options = _shape(request)
    cluster = ArakoonCluster(nodes, clock=arakoon_resolve.clock, **options)
    arakoon_resolve.clusters.append(cluster)
    yield cluster
    _stop(cluster, arakoon_resolve)


@pytest.fixture
def arakoon_node(
    request: pytest.FixtureRequest, arakoon_resolve: Resolver
) -> Iterator[ArakoonNode]:
    """The node of an in-memory single-node cluster on ``arakoon_clock``."""
    from .cluster import ArakoonCluster

    _, options = _shape(request)
    cluster = ArakoonCluster(1, clock=arakoon_resolve.clock, **options)
    arakoon_resolve.clusters.append(cluster)
    yield cluster[cluster.names[0]]
    _stop(cluster, arakoon_resolve)


@pytest.fixture
def arakoon_client(arakoon_cluster: ArakoonCluster) -> ArakoonProtocol:
    """An :class:`~txarakoon.protocol.ArakoonProtocol` connected in memory to
    the master of ``arakoon_cluster`` (closed with the cluster)."""
    return arakoon_cluster.connect_in_memory().client


@pytest.fixture
def arakoon_memory_cluster_client(
    arakoon_cluster: ArakoonCluster, arakoon_resolve: Resolver
) -> Iterator[ArakoonClient]:
    """An :class:`~txarakoon.cluster.ArakoonClient` connected in memory to
    ``arakoon_cluster``, on ``arakoon_clock``."""
    from .drive import memory_cluster_client

    client = memory_cluster_client(arakoon_cluster)
    yield client
    arakoon_resolve(client.disconnect(), advance=False)


def _blockon(request: pytest.FixtureRequest) -> Any:
    """pytest-twisted's ``blockon``, or a clear failure if it is not active."""
    if not request.config.pluginmanager.has_plugin("twisted"):
        pytest.fail(
            f"{request.fixturename} needs pytest-twisted, which runs the reactor "
            "(pip install pytest-twisted; it must not be disabled with -p no:twisted)",
            pytrace=False,
        )
    import pytest_twisted

    return pytest_twisted.blockon


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


@pytest.fixture
def arakoon_listening_cluster(request: pytest.FixtureRequest) -> Iterator[ArakoonCluster]:
    """A three-node cluster listening on free loopback ports with the reactor
    pytest-twisted runs; stopped at teardown."""
    blockon = _blockon(request)
    from .cluster import ArakoonCluster

    nodes, options = _shape(request)
    cluster = ArakoonCluster(nodes, **options)
    cluster.listen(_reactor())
    yield cluster
    blockon(cluster.stop())


@pytest.fixture
def arakoon_cluster_client(
    request: pytest.FixtureRequest, arakoon_listening_cluster: ArakoonCluster
) -> Iterator[ArakoonClient]:
    """An :class:`~txarakoon.cluster.ArakoonClient` for
    ``arakoon_listening_cluster`` over TCP; disconnected at teardown."""
    blockon = _blockon(request)
    from ..cluster import ArakoonClient
    from ..config import ClusterConfig

    config = ClusterConfig.from_spec(arakoon_listening_cluster.nodes_spec())
    client = ArakoonClient(config, _reactor())
    yield client
    blockon(client.disconnect())
