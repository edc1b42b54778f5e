"""Shared pieces of the behaviour suite: the target cluster, the two client
flavours behind one Deferred-returning face, unique keys."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.defer import Deferred, fail, gatherResults, succeed

import txarakoon
from txarakoon.blocking import SocketClient
from txarakoon.config import ClusterConfig
from txarakoon.errors import (
    ArakoonError,
    ConnectionFailure,
    NotConnectedError,
    ProtocolViolation,
)
from txarakoon.protocol import ArakoonProtocol, connect
from txarakoon.testing import ArakoonCluster

#: Where a real cluster is named: ``CLUSTER_ID@name=host:port,...``.
NODES_VARIABLE = "TXARAKOON_TEST_NODES"
#: How long a blocking call or a connection attempt may take before the test fails.
TIMEOUT = 10.0
SERVE_SCRIPT = Path(__file__).with_name("serve_cluster.py")
#: The user functions the served in-memory cluster knows (serve_cluster.py).
USER_FUNCTIONS_REASON = "needs the suite's user functions (echo, fail) registered on the server"


def reactor() -> Any:
    from twisted.internet import reactor as installed

    return installed


def blockon(deferred: Deferred[Any]) -> Any:
    import pytest_twisted

    return pytest_twisted.blockon(deferred)


# -- the target ------------------------------------------------------------------


@dataclass
class Target:
    """The cluster the suite talks to."""

    config: ClusterConfig
    #: A real Arakoon cluster (TXARAKOON_TEST_NODES), not our in-memory one.
    real: bool

    @property
    def cluster_id(self) -> bytes:
        return self.config.cluster_id

    @property
    def names(self) -> tuple[str, ...]:
        return self.config.node_names

    def address(self, name: str) -> tuple[str, int]:
        node = self.config.nodes[name]
        return node.hosts[0], node.port

    def socket_client(self, name: str) -> SocketClient:
        client = SocketClient(self.address(name), self.cluster_id, timeout=TIMEOUT)
        client.connect()
        return client

    def master(self, patience: float = 15.0) -> str:
        """The node every asked node names as master (waits through an election)."""
        deadline = time.monotonic() + patience
        while True:
            for name in self.names:
                try:
                    with self.socket_client(name) as client:
                        answer = client.who_master()
                except (OSError, ArakoonError, ConnectionFailure):
                    continue
                if answer is not None and answer.decode() in self.config.nodes:
                    return answer.decode()
            if time.monotonic() > deadline:
                pytest.fail(f"no node of {self.config} names a master", pytrace=False)
            time.sleep(0.2)

    def slave(self) -> str:
        """A node that is not the master."""
        master = self.master()
        others = [name for name in self.names if name != master]
        if not others:
            pytest.skip("the cluster has one node: there is no slave")
        return others[0]

    def delete_prefix(self, prefix: bytes) -> None:
        with self.socket_client(self.master()) as client:
            client.delete_prefix(prefix)


@dataclass
class ServedCluster:
    """Our in-memory cluster, served by serve_cluster.py in a subprocess."""

    process: subprocess.Popen[str]
    spec: str

    @classmethod
    def start(cls) -> ServedCluster:
        # The subprocess must import the very txarakoon under test.
        root = str(Path(txarakoon.__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        process = subprocess.Popen(
            [sys.executable, str(SERVE_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert process.stdout is not None
        spec = process.stdout.readline().strip()
        if not spec:
            process.kill()
            process.wait()
            raise RuntimeError(
                f"{SERVE_SCRIPT.name} did not start (exit code {process.returncode})"
            )
        return cls(process, spec)

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- keys --------------------------------------------------------------------------


@dataclass
class Keys:
    """Keys under a prefix no other test uses: ``keys("a")`` is ``b"<prefix>a"``."""

    prefix: bytes = field(default_factory=lambda: f"txarakoon-test/{uuid.uuid4().hex}/".encode())

    def __call__(self, name: str | bytes = b"") -> bytes:
        return self.prefix + (name.encode() if isinstance(name, str) else name)


# -- client flavours ------------------------------------------------------------------

#: Failures the Twisted protocol reports through its Deferreds; anything else
#: (TypeError, ValueError: bad arguments) it raises at once, as SocketClient does.
_REPORTED = (ArakoonError, ConnectionFailure, ProtocolViolation, NotConnectedError)


class BlockingClient:
    """A :class:`SocketClient` behind the Twisted protocol's face: each call
    blocks, then returns a fired Deferred, so one ``async`` test body drives both
    flavours. It only ever talks to a server outside this process."""

    def __init__(self, client: SocketClient) -> None:
        self.sync = client

    def __repr__(self) -> str:
        return f"<BlockingClient {self.sync!r}>"

    @property
    def connected(self) -> bool:
        return self.sync.connected

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.sync, name)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Deferred[Any]:
            try:
                return succeed(method(*args, **kwargs))
            except _REPORTED:
                return fail()

        return call


class Flavour:
    """How one client flavour connects to a node and shows a closed connection."""

    name: str

    def __init__(self, target: Target) -> None:
        self.target = target

    def connect(self, name: str | None = None) -> Deferred[Any]:
        """A client connected to node ``name`` (default: the master); closed
        by :meth:`close_all`."""
        raise NotImplementedError

    async def assert_closed(self, client: Any) -> None:
        """Fail unless ``client``'s connection is (or is about to be) closed."""
        raise NotImplementedError

    def close_all(self) -> None:
        raise NotImplementedError


class TwistedFlavour(Flavour):
    name = "twisted"

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        self.clients: list[ArakoonProtocol] = []

    def connect(self, name: str | None = None) -> Deferred[Any]:
        from twisted.internet.endpoints import HostnameEndpoint

        from txarakoon.protocol import connect

        host, port = self.target.address(name or self.target.master())
        endpoint = HostnameEndpoint(reactor(), host, port, timeout=TIMEOUT)

        def connected(client: ArakoonProtocol) -> ArakoonProtocol:
            self.clients.append(client)
            return client

        return connect(reactor(), endpoint, self.target.cluster_id).addCallback(connected)

    async def assert_closed(self, client: Any) -> None:
        assert isinstance(client, ArakoonProtocol)
        assert not client.connected
        await client.when_lost().addTimeout(TIMEOUT, reactor())

    def close_all(self) -> None:
        blockon(gatherResults([client.close() for client in self.clients]))


class BlockingFlavour(Flavour):
    name = "blocking"

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        self.clients: list[SocketClient] = []

    def connect(self, name: str | None = None) -> Deferred[Any]:
        client = self.target.socket_client(name or self.target.master())
        self.clients.append(client)
        return succeed(BlockingClient(client))

    async def assert_closed(self, client: Any) -> None:
        assert isinstance(client, BlockingClient)
        assert not client.connected

    def close_all(self) -> None:
        for client in self.clients:
            client.close()


class InMemory:
    """In-process clusters on loopback, with their controls; everything is
    closed and stopped after the test."""

    def __init__(self) -> None:
        self.clusters: list[ArakoonCluster] = []
        self.clients: list[ArakoonProtocol] = []

    def start(self, nodes: Any = 3, **options: Any) -> ArakoonCluster:
        cluster = ArakoonCluster(nodes, **options)
        cluster.listen(reactor())
        self.clusters.append(cluster)
        return cluster

    def connect(
        self, cluster: ArakoonCluster, name: str | None = None
    ) -> Deferred[ArakoonProtocol]:
        def connected(client: ArakoonProtocol) -> ArakoonProtocol:
            self.clients.append(client)
            return client

        connecting = connect(reactor(), cluster.endpoint(name), cluster.cluster_id)
        return connecting.addCallback(connected)

    def close(self) -> None:
        blockon(gatherResults([client.close() for client in self.clients]))
        blockon(gatherResults([cluster.stop() for cluster in self.clusters]))


FLAVOURS: dict[str, Callable[[Target], Flavour]] = {
    "twisted": TwistedFlavour,
    "blocking": BlockingFlavour,
}


async def outcome(call: Deferred[Any]) -> tuple[str, Any]:
    """``("ok", value)`` or ``("error", exception)``."""
    try:
        return "ok", await call
    except Exception as error:
        return "error", error


def bytes_in(value: Any) -> Iterator[bytes]:
    """Every bytes value inside nested lists, tuples and dicts."""
    if isinstance(value, bytes):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from bytes_in(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from bytes_in(key)
            yield from bytes_in(item)
