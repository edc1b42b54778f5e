"""The cluster the command line talks to: from ``--config``, ``--nodes`` or
the environment, with the TLS options on top."""

from __future__ import annotations

import argparse
import configparser
from collections.abc import Mapping

from ..config import ClusterConfig, ConfigError, TLSConfig

__all__ = ["NODES_VARIABLE", "TEST_NODES_VARIABLE", "cluster_config"]

#: The environment variable that names the cluster when no option does; the
#: line ``txarakoon serve`` prints sets it.
NODES_VARIABLE = "TXARAKOON_NODES"
#: The test suite's own variable (a real cluster to test against). Kept
#: apart on purpose: a shell pointed at a cluster for the command line must
#: not turn the test suite loose on it.
TEST_NODES_VARIABLE = "TXARAKOON_TEST_NODES"


def _from_spec(spec: str, where: str) -> ClusterConfig:
    try:
        return ClusterConfig.from_spec(spec)
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None


def _from_ini(path: str, args: argparse.Namespace) -> ClusterConfig:
    # The .ini holds no client certificate: the options give it.
    mine = {} if args.no_tls else {"client_cert": args.tls_cert, "client_key": args.tls_key}
    try:
        return ClusterConfig.from_ini(path, **mine)
    except OSError as error:
        raise ConfigError(f"{path}: {error.strerror or error}") from None
    except (configparser.Error, UnicodeDecodeError) as error:
        # configparser's messages run over several lines; the first says it.
        raise ConfigError(f"{path}: not an .ini file: {str(error).splitlines()[0]}") from None


def _tls(args: argparse.Namespace, tls: TLSConfig | None) -> TLSConfig | None:
    """The TLS settings: the .ini's (if any), each replaced by the option
    given for it; ``--no-tls``: none at all."""
    given = [
        option
        for option, value in (
            ("--tls-ca", args.tls_ca),
            ("--tls-cert", args.tls_cert),
            ("--tls-key", args.tls_key),
            ("--tls-version", args.tls_version),
            ("--tls-verify-hostname", args.tls_verify_hostname),
        )
        if value
    ]
    if args.no_tls:
        if given:
            raise ConfigError(f"--no-tls contradicts {given[0]}")
        return None
    if not given:
        return tls
    ca = args.tls_ca or (tls.ca_cert if tls else None)
    if ca is None:
        raise ConfigError(
            f"{given[0]} needs a CA certificate: give --tls-ca (or tls_ca_cert in the .ini)"
        )
    cert, key = (tls.cert, tls.key) if tls else (None, None)
    if args.tls_cert or args.tls_key:
        # A certificate and its key come as a pair: never one from each source.
        if not (args.tls_cert and args.tls_key):
            raise ConfigError("--tls-cert and --tls-key go together")
        cert, key = args.tls_cert, args.tls_key
    return TLSConfig(
        ca,
        cert,
        key,
        args.tls_version or (tls.version if tls else None),
        args.tls_verify_hostname or (tls.verify_hostname if tls else False),
    )


def cluster_config(args: argparse.Namespace, environ: Mapping[str, str]) -> ClusterConfig:
    """The cluster the options (or the environment) name; raises
    :class:`~txarakoon.config.ConfigError`, in one line."""
    if args.config and args.nodes:
        raise ConfigError("give --config or --nodes, not both")
    if args.config:
        # The environment is only a default: an explicit --config wins over it.
        config = _from_ini(args.config, args)
    elif args.nodes:
        config = _from_spec(args.nodes, "--nodes")
    elif environ.get(NODES_VARIABLE):
        config = _from_spec(environ[NODES_VARIABLE], NODES_VARIABLE)
    else:
        hint = ""
        if environ.get(TEST_NODES_VARIABLE):
            hint = (
                f" ({TEST_NODES_VARIABLE} is the test suite's variable; "
                f"the command line reads {NODES_VARIABLE})"
            )
        raise ConfigError(
            "no cluster: give --config FILE.ini or --nodes CLUSTER@name=host:port,..., "
            f"or set {NODES_VARIABLE}{hint}"
        )
    return ClusterConfig(config.cluster_id, config.nodes, _tls(args, config.tls), config.keepalive)
