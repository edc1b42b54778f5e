"""Cluster configuration: which nodes exist, where, and how to reach them.

Build a :class:`ClusterConfig` from Python values, from an Arakoon cluster
``.ini`` file (the format the servers and their tools read), or from a compact
node spec string::

    ClusterConfig("arakoon", {"n0": (["10.0.0.1"], 4000), "n1": (["10.0.0.2"], 4000)})
    ClusterConfig.from_ini("/etc/arakoon/arakoon.ini")
    ClusterConfig.from_spec("arakoon@n0=10.0.0.1:4000,n1=10.0.0.2:4000")

Any invalid setting raises :class:`ConfigError` naming the field.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import socket

__all__ = [
    "ClusterConfig",
    "ConfigError",
    "KeepAlive",
    "NodeConfig",
    "TLSConfig",
    "check_client_settings",
]

_TLS_VERSIONS = ("1.0", "1.1", "1.2", "1.3")


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message names the field."""


@dataclass(frozen=True)
class NodeConfig:
    """One node: its name, the addresses to try in turn, and its client port."""

    name: str
    hosts: tuple[str, ...]
    port: int

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ConfigError(f"node name must be a non-empty string, not {self.name!r}")
        if not self.hosts or not all(isinstance(h, str) and h for h in self.hosts):
            raise ConfigError(f"{self.name}.ip: at least one address is needed, not {self.hosts!r}")
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise ConfigError(f"{self.name}.client_port must be an integer, not {self.port!r}")
        if not 0 < self.port < 65536:
            raise ConfigError(f"{self.name}.client_port {self.port} is not a TCP port")


@dataclass(frozen=True)
class TLSConfig:
    """TLS towards the nodes' client ports.

    :ivar ca_cert: path of the CA certificate (PEM) that signed the nodes'
        certificates; the server's chain is always verified against it.
    :ivar cert: path of a client certificate (PEM), for clusters that set
        ``tls_service_validate_peer``; needs ``key``.
    :ivar key: path of the client certificate's private key (PEM).
    :ivar version: the minimum TLS version, ``"1.0"`` to ``"1.3"``; ``None``
        means 1.2. Arakoon's own default is 1.0, which current OpenSSL builds
        refuse unless their security level is lowered.
    :ivar verify_hostname: also check that the certificate names the address
        dialled. Off by default: Arakoon certificates usually name nodes, while
        clients dial IP addresses.
    """

    ca_cert: str
    cert: str | None = None
    key: str | None = None
    version: str | None = None
    verify_hostname: bool = False

    def __post_init__(self) -> None:
        if not self.ca_cert:
            raise ConfigError("tls_ca_cert is required for TLS")
        if (self.cert is None) != (self.key is None):
            raise ConfigError("tls_cert and tls_key must be given together")
        if self.version is not None and self.version not in _TLS_VERSIONS:
            raise ConfigError(
                f"tls_version must be one of {', '.join(_TLS_VERSIONS)}, not {self.version!r}"
            )


@dataclass(frozen=True)
class KeepAlive:
    """TCP keepalive settings; the defaults are those of Arakoon's own client."""

    enabled: bool = True
    idle: int = 20
    interval: int = 20
    probes: int = 3

    def set_on(self, sock: socket.socket) -> None:
        """Turn keepalive on for ``sock``, as configured (raises
        :class:`OSError` as ``setsockopt`` does)."""
        import socket  # here: importing the configuration opens no socket module

        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for option, value in (
            ("TCP_KEEPIDLE", self.idle),
            ("TCP_KEEPINTVL", self.interval),
            ("TCP_KEEPCNT", self.probes),
        ):
            # Not every system has every knob (macOS lacks TCP_KEEPIDLE).
            if hasattr(socket, option):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


@dataclass(frozen=True)
class ClusterConfig:
    """A cluster id and its nodes.

    :param cluster_id: the cluster's id (sent in every prologue).
    :param nodes: ``{name: ([host, ...], client_port)}`` or ``{name: NodeConfig}``;
        a node's hosts may also be one comma-separated string.
    :param lease_period: the cluster's master lease in seconds, if known
        (``[global] lease_period``); the cluster client derives its
        ``stall_interval`` from it.
    """

    cluster_id: bytes
    nodes: Mapping[str, NodeConfig]
    tls: TLSConfig | None = None
    keepalive: KeepAlive = field(default_factory=KeepAlive)
    lease_period: float | None = None

    def __init__(
        self,
        cluster_id: bytes | str,
        nodes: Mapping[str, Any],
        tls: TLSConfig | None = None,
        keepalive: KeepAlive | None = None,
        lease_period: float | None = None,
    ) -> None:
        if isinstance(cluster_id, str):
            cluster_id = cluster_id.encode("utf-8")
        if not isinstance(cluster_id, bytes) or not cluster_id:
            raise ConfigError(f"cluster_id must be a non-empty string, not {cluster_id!r}")
        if not isinstance(nodes, Mapping) or not nodes:
            raise ConfigError("cluster: at least one node is needed")
        if lease_period is not None and not (
            isinstance(lease_period, (int, float))
            and not isinstance(lease_period, bool)
            and 0 < lease_period < float("inf")
        ):
            raise ConfigError(f"lease_period must be a positive number, not {lease_period!r}")
        built = {name: _node(name, spec) for name, spec in nodes.items()}
        object.__setattr__(self, "cluster_id", cluster_id)
        object.__setattr__(self, "nodes", built)
        object.__setattr__(self, "tls", tls)
        object.__setattr__(self, "keepalive", keepalive or KeepAlive())
        object.__setattr__(self, "lease_period", lease_period)

    @property
    def node_names(self) -> tuple[str, ...]:
        """The node names, in configuration order."""
        return tuple(self.nodes)

    @classmethod
    def from_spec(cls, spec: str) -> ClusterConfig:
        """Parse ``CLUSTER_ID@name=host:port,name=host:port`` (the
        ``TXARAKOON_TEST_NODES`` format)."""
        cluster_id, at, rest = spec.partition("@")
        if not at or not cluster_id:
            raise ConfigError(f"node spec {spec!r} must look like CLUSTER@name=host:port,...")
        nodes: dict[str, tuple[list[str], int]] = {}
        for item in rest.split(","):
            name, eq, address = item.strip().partition("=")
            host, colon, port = address.rpartition(":")
            if not (eq and colon and name and host):
                raise ConfigError(f"node spec item {item!r} must look like name=host:port")
            nodes[name] = ([host.strip("[]")], _port(name, port))
        return cls(cluster_id, nodes)

    @classmethod
    def from_ini(
        cls,
        source: str | os.PathLike[str],
        *,
        client_cert: str | None = None,
        client_key: str | None = None,
    ) -> ClusterConfig:
        """Load an Arakoon cluster ``.ini``: a path, or the text itself if it
        contains a newline.

        The client port speaks TLS when ``[global]`` says ``tls_service =
        true``; the nodes are then verified with ``tls_ca_cert``. (A
        ``tls_ca_cert`` alone secures the nodes' traffic with each other, not
        the client port.) The ``.ini`` holds the nodes' certificates, never a
        client's: give yours as ``client_cert`` and ``client_key``, as a
        cluster with ``tls_service_validate_peer = true`` requires.
        """
        parser = configparser.ConfigParser(interpolation=None)
        text = os.fspath(source)
        if "\n" in text:
            parser.read_string(text)
        else:
            with open(text, encoding="utf-8") as handle:
                parser.read_file(handle)
        return cls.from_parser(parser, client_cert=client_cert, client_key=client_key)

    @classmethod
    def from_parser(
        cls,
        parser: configparser.ConfigParser,
        *,
        client_cert: str | None = None,
        client_key: str | None = None,
    ) -> ClusterConfig:
        """Build from an already parsed ``.ini`` (see :meth:`from_ini`)."""
        if not parser.has_section("global"):
            raise ConfigError("[global] section is missing")
        g = parser["global"]
        cluster_id = g.get("cluster_id", "").strip()
        if not cluster_id:
            raise ConfigError("global.cluster_id is missing")
        names = _split(g.get("cluster", ""))
        if not names:
            raise ConfigError("global.cluster lists no nodes")
        nodes: dict[str, NodeConfig] = {}
        for name in names:
            if not parser.has_section(name):
                raise ConfigError(f"[{name}] section is missing (named in global.cluster)")
            section = parser[name]
            if "client_port" not in section:
                raise ConfigError(f"{name}.client_port is missing")
            nodes[name] = NodeConfig(
                name, tuple(_split(section.get("ip", ""))), _port(name, section["client_port"])
            )
        tls = _client_tls(g, client_cert, client_key)
        keepalive = KeepAlive(
            enabled=_bool(g, "enable_tcp_keepalive", True),
            idle=_int(g, "tcp_keepalive_time", 20),
            interval=_int(g, "tcp_keepalive_intvl", 20),
            probes=_int(g, "tcp_keepalive_probes", 3),
        )
        return cls(cluster_id, nodes, tls, keepalive, _lease_period(g))

    def to_spec(self) -> str:
        """This configuration's nodes as a ``CLUSTER_ID@name=host:port,...``
        spec (the first address of each node; :meth:`from_spec` reads it)."""
        parts = []
        for node in self.nodes.values():
            host = node.hosts[0]
            shown = f"[{host}]" if ":" in host else host
            parts.append(f"{node.name}={shown}:{node.port}")
        return f"{self.cluster_id.decode('utf-8', 'backslashreplace')}@{','.join(parts)}"

    def to_ini(self) -> str:
        """This configuration as Arakoon ``.ini`` text."""
        lines = [
            "[global]",
            f"cluster_id = {self.cluster_id.decode('utf-8', 'backslashreplace')}",
            f"cluster = {', '.join(self.nodes)}",
        ]
        if self.tls is not None:
            # The client's own certificate has no place in a cluster's .ini.
            lines += ["tls_service = true", f"tls_ca_cert = {self.tls.ca_cert}"]
            if self.tls.version is not None:
                lines.append(f"tls_version = {self.tls.version}")
        if self.lease_period is not None:
            lines.append(f"lease_period = {self.lease_period:g}")
        for node in self.nodes.values():
            lines += ["", f"[{node.name}]", f"ip = {', '.join(node.hosts)}"]
            lines.append(f"client_port = {node.port}")
        return "\n".join(lines) + "\n"


def check_client_settings(
    config: ClusterConfig,
    read_node: str | None,
    timeout: float,
    connect_timeout: float,
    silence_timeout: float,
    stall_interval: float | None = None,
) -> None:
    """Refuse a cluster client's settings before it connects anywhere: the
    configuration's type, a ``read_node`` (``None``: not given) that is no
    node of it, and a duration (seconds) that is not a positive number
    (``stall_interval`` may be ``None``: not given)."""
    if not isinstance(config, ClusterConfig):
        raise TypeError(f"config must be a ClusterConfig, not {config!r}")
    if read_node is not None and read_node not in config.nodes:
        raise ValueError(f"read_node {read_node!r} is not a node of the cluster")
    for name, value in (
        ("timeout", timeout),
        ("connect_timeout", connect_timeout),
        ("silence_timeout", silence_timeout),
        ("stall_interval", stall_interval),
    ):
        if value is None and name == "stall_interval":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{name} must be a number of seconds, not {value!r}")
        if not value > 0:
            raise ValueError(f"{name} must be positive, not {value}")


def _client_tls(
    g: configparser.SectionProxy, client_cert: str | None, client_key: str | None
) -> TLSConfig | None:
    """The TLS of the client port, as the ``.ini``'s ``[global]`` sets it."""
    if not _bool(g, "tls_service", False):
        if client_cert is not None or client_key is not None:
            raise ConfigError(
                "a client certificate was given, but the client port speaks no TLS "
                "(global.tls_service is not true)"
            )
        return None
    ca_cert = g.get("tls_ca_cert")
    if not ca_cert:
        raise ConfigError(
            "global.tls_service is true but global.tls_ca_cert is missing: "
            "the nodes' certificates cannot be verified"
        )
    if _bool(g, "tls_service_validate_peer", False) and client_cert is None:
        raise ConfigError(
            "the nodes require a client certificate (global.tls_service_validate_peer "
            "is true): give one with its key"
        )
    return TLSConfig(ca_cert, client_cert, client_key, version=g.get("tls_version") or None)


def _node(name: str, spec: Any) -> NodeConfig:
    if isinstance(spec, NodeConfig):
        return spec
    try:
        hosts, port = spec
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected ([host, ...], client_port), not {spec!r}") from None
    if isinstance(hosts, str):
        hosts = _split(hosts)
    if not isinstance(hosts, Iterable):
        raise ConfigError(f"{name}.ip must be a list of addresses, not {hosts!r}")
    return NodeConfig(name, tuple(hosts), port)


def _split(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _port(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{name}.client_port must be an integer, not {text!r}") from None


def _int(section: configparser.SectionProxy, key: str, default: int) -> int:
    try:
        return section.getint(key, default)
    except ValueError:
        raise ConfigError(f"global.{key} must be an integer, not {section[key]!r}") from None


def _lease_period(g: configparser.SectionProxy) -> float | None:
    text = g.get("lease_period")
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise ConfigError(f"global.lease_period must be a positive number of seconds, not {text!r}")
    return value


def _bool(section: configparser.SectionProxy, key: str, default: bool) -> bool:
    try:
        return section.getboolean(key, default)
    except ValueError:
        raise ConfigError(f"global.{key} must be true or false, not {section[key]!r}") from None
