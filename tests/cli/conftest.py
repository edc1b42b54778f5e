"""The ``cli`` fixture: the command line run in this process, by
:func:`txarakoon.cli.run`, against the test's in-memory cluster."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from twisted.internet.defer import Deferred, fail
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.interfaces import IProtocol, IProtocolFactory, IStreamClientEndpoint
from zope.interface import implementer

from txarakoon.cli import run
from txarakoon.config import NodeConfig
from txarakoon.testing import ArakoonCluster
from txarakoon.testing.trial import MemoryEndpoint, memory_config

#: The host of memory_config()'s nodes: the only one the fixture reaches.
IN_MEMORY = "in-memory"


@implementer(IStreamClientEndpoint)
class Unreachable:
    """Any address but the in-memory cluster's: the connection is refused, as
    by a closed port."""

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        return fail(ConnectionRefusedError())


@dataclass(frozen=True)
class Result:
    """What a command did: its exit code and what it printed."""

    code: int
    stdout: bytes
    err: str

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8")


class CLI:
    """Runs the command line in-process against ``cluster``: ``cli("get", "k")``
    names the cluster with ``--nodes``; ``cli.bare(...)`` adds nothing."""

    def __init__(self, cluster: ArakoonCluster, resolve: Any) -> None:
        self.cluster = cluster
        self.resolve = resolve
        #: The cluster as a --nodes / TXARAKOON_NODES value.
        self.spec = memory_config(cluster).to_spec()

    def endpoint(self, node: NodeConfig, host: str) -> IStreamClientEndpoint:
        if host == IN_MEMORY:
            return MemoryEndpoint(self.cluster, node.name)
        return Unreachable()

    def __call__(self, *argv: str, environ: Mapping[str, str] | None = None) -> Result:
        return self.bare(*argv, "--nodes", self.spec, environ=environ)

    def bare(self, *argv: str, environ: Mapping[str, str] | None = None) -> Result:
        stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
        stderr = io.StringIO()
        code = self.resolve(
            run(
                list(argv),
                self.cluster.clock,
                stdout=stdout,
                stderr=stderr,
                # Not os.environ: the developer's own settings stay out of the tests.
                environ={} if environ is None else environ,
                endpoint_factory=self.endpoint,
            )
        )
        stdout.flush()
        buffer = stdout.buffer
        assert isinstance(buffer, io.BytesIO)
        return Result(code, buffer.getvalue(), stderr.getvalue())

    def ok(self, *argv: str) -> str:
        """What a command that must succeed prints."""
        result = self(*argv)
        assert result.code == 0, result.err
        return result.out


@pytest.fixture
def cli(arakoon_cluster: ArakoonCluster, arakoon_resolve: Any) -> CLI:
    return CLI(arakoon_cluster, arakoon_resolve)
