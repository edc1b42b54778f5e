"""Which cluster to talk to: an ``.ini``, a node spec, or the environment.

One set of names for every front end that lets its user choose: the command
line (``--config`` / ``--nodes``), the ``twistd`` options of
:class:`txarakoon.service.ArakoonOptions` (``--arakoon-config`` /
``--arakoon-nodes``), and the line ``txarakoon serve`` prints, which sets
:data:`NODES_VARIABLE`.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping

from .config import ClusterConfig, ConfigError

__all__ = ["NODES_VARIABLE", "TEST_NODES_VARIABLE", "choose_cluster", "read_ini", "read_spec"]

#: The environment variable that names the cluster when no option does; the
#: line ``txarakoon serve`` prints sets it.
NODES_VARIABLE = "TXARAKOON_NODES"
#: The test suite's own variable (a real cluster to test against). Kept
#: apart on purpose: a shell pointed at a cluster for the command line must
#: not turn the test suite loose on it.
TEST_NODES_VARIABLE = "TXARAKOON_TEST_NODES"


def read_spec(spec: str, where: str) -> ClusterConfig:
    """:meth:`ClusterConfig.from_spec`, its errors naming ``where`` the spec
    came from (an option, a variable)."""
    try:
        return ClusterConfig.from_spec(spec)
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None


def read_ini(
    path: str, *, client_cert: str | None = None, client_key: str | None = None
) -> ClusterConfig:
    """:meth:`ClusterConfig.from_ini` of a file, every failure to read it a
    one-line :class:`~txarakoon.config.ConfigError` naming the file."""
    try:
        return ClusterConfig.from_ini(path, client_cert=client_cert, client_key=client_key)
    except OSError as error:
        raise ConfigError(f"{path}: {error.strerror or error}") from None
    except (configparser.Error, UnicodeDecodeError) as error:
        # configparser's messages run over several lines; the first says it.
        raise ConfigError(f"{path}: not an .ini file: {str(error).splitlines()[0]}") from None


def choose_cluster(
    ini: str | None,
    spec: str | None,
    environ: Mapping[str, str] | None = None,
    *,
    options: tuple[str, str] = ("--config", "--nodes"),
    client_cert: str | None = None,
    client_key: str | None = None,
) -> ClusterConfig:
    """The cluster an ``.ini`` path or a node ``spec`` names, else
    :data:`NODES_VARIABLE`; ``options`` are the names the user gave them by,
    for the messages. An explicit choice wins over the environment."""
    environ = os.environ if environ is None else environ
    ini_option, spec_option = options
    if ini and spec:
        raise ConfigError(f"give {ini_option} or {spec_option}, not both")
    if ini:
        return read_ini(ini, client_cert=client_cert, client_key=client_key)
    if spec:
        return read_spec(spec, spec_option)
    if environ.get(NODES_VARIABLE):
        return read_spec(environ[NODES_VARIABLE], NODES_VARIABLE)
    hint = ""
    if environ.get(TEST_NODES_VARIABLE):
        hint = f" ({TEST_NODES_VARIABLE} is the test suite's variable; this reads {NODES_VARIABLE})"
    raise ConfigError(
        f"no cluster: give {ini_option} FILE.ini or {spec_option} CLUSTER@name=host:port,..., "
        f"or set {NODES_VARIABLE}{hint}"
    )
