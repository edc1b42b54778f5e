"""The cluster the command line talks to: from ``--config``, ``--nodes`` or
the environment, with the TLS options on top."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from ..config import ClusterConfig, ConfigError, TLSConfig
from ..environment import NODES_VARIABLE, TEST_NODES_VARIABLE, choose_cluster

__all__ = ["NODES_VARIABLE", "TEST_NODES_VARIABLE", "cluster_config"]


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
    # The .ini holds no client certificate: the options give it.
    mine = {} if args.no_tls else {"client_cert": args.tls_cert, "client_key": args.tls_key}
    config = choose_cluster(args.config, args.nodes, environ, **mine)
    return ClusterConfig(
        config.cluster_id,
        config.nodes,
        _tls(args, config.tls),
        config.keepalive,
        config.lease_period,
    )
