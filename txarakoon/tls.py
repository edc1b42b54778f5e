"""TLS towards Arakoon client ports, with Twisted's TLS (``pip install 'txarakoon[tls]'``).

The server's certificate chain is always verified against the configured CA.
The host name is checked only when :attr:`~txarakoon.config.TLSConfig.verify_hostname`
is set, because Arakoon certificates usually name nodes while clients dial IP
addresses. The minimum protocol version follows the cluster's ``tls_version``;
with none configured it is TLS 1.2.

Arakoon's own default, TLS 1.0, is refused by current OpenSSL builds at their
default security level: a handshake then fails with an OpenSSL "unsupported
protocol" or "no protocols available" error. Configure ``tls_version = 1.2`` on
the cluster, or lower OpenSSL's security level for this process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from zope.interface import implementer

from .config import TLSConfig

if TYPE_CHECKING:
    from OpenSSL import SSL

__all__ = ["client_connection_creator"]


@implementer(IOpenSSLClientConnectionCreator)
class _NoHostnameCheck:
    """An ``IOpenSSLClientConnectionCreator`` that verifies the chain (through
    the context's trust root) but not the host name."""

    def __init__(self, context: SSL.Context) -> None:
        self._context = context

    def clientConnectionForTLS(self, tlsProtocol: Any) -> SSL.Connection:
        from OpenSSL import SSL

        connection = SSL.Connection(self._context, None)
        connection.set_app_data(tlsProtocol)
        return connection


def client_connection_creator(tls: TLSConfig, hostname: str) -> Any:
    """The connection creator for ``wrapClientTLS`` towards ``hostname``."""
    from twisted.internet import ssl

    with open(tls.ca_cert, "rb") as handle:
        authority = ssl.Certificate.loadPEM(handle.read())
    client_certificate = None
    if tls.cert is not None and tls.key is not None:
        with open(tls.cert, "rb") as cert, open(tls.key, "rb") as key:
            pem = cert.read() + b"\n" + key.read()
            client_certificate = ssl.PrivateCertificate.loadPEM(pem)  # type: ignore[no-untyped-call]
    minimum = _minimum_version(tls.version)
    if tls.verify_hostname:
        return ssl.optionsForClientTLS(
            hostname,
            trustRoot=authority,
            clientCertificate=client_certificate,
            extraCertificateOptions=minimum,
        )
    options = ssl.CertificateOptions(
        trustRoot=authority,
        privateKey=client_certificate.privateKey.original if client_certificate else None,
        certificate=client_certificate.original if client_certificate else None,
        **minimum,
    )
    return _NoHostnameCheck(options.getContext())


def _minimum_version(version: str | None) -> dict[str, Any]:
    from twisted.internet.ssl import TLSVersion

    versions = {
        "1.0": TLSVersion.TLSv1_0,
        "1.1": TLSVersion.TLSv1_1,
        "1.2": TLSVersion.TLSv1_2,
        "1.3": TLSVersion.TLSv1_3,
    }
    chosen = versions[version or "1.2"]
    if chosen in (TLSVersion.TLSv1_0, TLSVersion.TLSv1_1):
        return {"insecurelyLowerMinimumTo": chosen}
    return {"raiseMinimumTo": chosen}
