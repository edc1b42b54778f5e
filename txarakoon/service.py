"""Running a cluster client in a Twisted application: the options that name
the cluster, for ``twistd`` plugins and other :class:`twisted.python.usage.Options`.

:class:`~txarakoon.cluster.ArakoonClient` is itself an
:class:`~twisted.application.service.IService`: add it to your application's
service collection, and it is started and stopped with it::

    from twisted.application import service
    from twisted.python import usage
    from txarakoon import ArakoonClient
    from txarakoon.service import ArakoonOptions

    class Options(ArakoonOptions):
        optParameters = [["port", "p", 8080, "the port to serve on", int]]

    def makeService(options):
        top = service.MultiService()
        client = ArakoonClient(options.cluster_config, reactor)
        client.setServiceParent(top)
        ...  # the services that use the client
        return top
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from twisted.python import usage

from .config import ClusterConfig, ConfigError
from .environment import NODES_VARIABLE, choose_cluster

__all__ = ["ArakoonOptions"]


class ArakoonOptions(usage.Options):
    """Options that name the Arakoon cluster, to subclass (or mix into your
    own :class:`~twisted.python.usage.Options`): ``--arakoon-config
    FILE.ini`` or ``--arakoon-nodes CLUSTER@name=host:port,...``, else the
    :data:`~txarakoon.environment.NODES_VARIABLE` environment variable, as
    on the command line; ``--arakoon-client-cert`` and
    ``--arakoon-client-key`` for a cluster whose ``.ini`` requires a client
    certificate.

    Once parsed, :attr:`cluster_config` is the
    :class:`~txarakoon.config.ClusterConfig`; a mistake is a
    :class:`~twisted.python.usage.UsageError` of one line. A subclass that
    defines ``postOptions`` calls this one's.
    """

    optParameters: ClassVar[list[list[object]]] = [
        ["arakoon-config", None, None, "the Arakoon cluster's .ini file"],
        [
            "arakoon-nodes",
            None,
            None,
            f"the cluster as CLUSTER@name=host:port,... (default: ${NODES_VARIABLE})",
        ],
        ["arakoon-client-cert", None, None, "a client certificate (PEM), with --arakoon-config"],
        ["arakoon-client-key", None, None, "the client certificate's private key (PEM)"],
    ]

    #: Where :data:`~txarakoon.environment.NODES_VARIABLE` is read
    #: (``None``: ``os.environ``); a test may set it.
    environ: Mapping[str, str] | None = None

    #: The cluster the options name (set by :meth:`postOptions`).
    cluster_config: ClusterConfig

    def postOptions(self) -> None:
        cert, key = self["arakoon-client-cert"], self["arakoon-client-key"]
        if (cert or key) and not self["arakoon-config"]:
            raise usage.UsageError(
                "--arakoon-client-cert and --arakoon-client-key go with --arakoon-config"
            )
        try:
            self.cluster_config = choose_cluster(
                self["arakoon-config"],
                self["arakoon-nodes"],
                self.environ,
                options=("--arakoon-config", "--arakoon-nodes"),
                client_cert=cert,
                client_key=key,
            )
        except ConfigError as error:
            raise usage.UsageError(str(error)) from None
