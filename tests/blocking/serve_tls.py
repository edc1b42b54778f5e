"""Serve an in-memory Arakoon cluster behind TLS on loopback, from a child
process, for the blocking client's TLS tests (a blocking call must never wait
on the test process's own reactor).

Usage: ``python serve_tls.py CERT_AND_KEY_PEM [--client-ca PEM] [--minimum V]
[--maximum V]`` (V: 1.0 to 1.3). It prints the node spec
(``arakoon@n0=127.0.0.1:port,...``) as one line, then serves until its stdin
is closed. The cluster keeps time on a clock of its own: n0 stays master.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from twisted.internet import reactor, ssl
from twisted.internet.task import Clock
from twisted.protocols.tls import TLSMemoryBIOFactory

from txarakoon.testing import ArakoonCluster

VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1_0,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


def options(args: argparse.Namespace) -> ssl.CertificateOptions:
    with open(args.certificate, "rb") as handle:
        certificate = ssl.PrivateCertificate.loadPEM(handle.read())  # type: ignore[no-untyped-call]
    settings: dict[str, Any] = {}
    if args.client_ca is not None:
        with open(args.client_ca, "rb") as handle:
            settings["trustRoot"] = ssl.Certificate.loadPEM(handle.read())
    if args.minimum is not None:
        chosen = VERSIONS[args.minimum]
        low = chosen in (ssl.TLSVersion.TLSv1_0, ssl.TLSVersion.TLSv1_1)
        settings["insecurelyLowerMinimumTo" if low else "raiseMinimumTo"] = chosen
    if args.maximum is not None:
        settings["lowerMaximumSecurityTo"] = VERSIONS[args.maximum]
    return ssl.CertificateOptions(
        privateKey=certificate.privateKey.original,
        certificate=certificate.original,
        **settings,
    )


def _stop_on_eof() -> None:
    sys.stdin.buffer.read()
    reactor.callFromThread(reactor.stop)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("certificate")
    parser.add_argument("--client-ca")
    parser.add_argument("--minimum", choices=VERSIONS)
    parser.add_argument("--maximum", choices=VERSIONS)
    args = parser.parse_args()
    tls = options(args)
    cluster = ArakoonCluster(3, clock=Clock())
    nodes = []
    for node in cluster:
        factory: Any = TLSMemoryBIOFactory(tls, False, node)
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        address: Any = port.getHost()
        nodes.append(f"{node.name}=127.0.0.1:{address.port}")
    sys.stdout.write(f"{cluster.cluster_id.decode()}@{','.join(nodes)}\n")
    sys.stdout.flush()
    threading.Thread(target=_stop_on_eof, daemon=True).start()
    reactor.run()


if __name__ == "__main__":
    main()
