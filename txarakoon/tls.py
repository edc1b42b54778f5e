"""TLS towards Arakoon client ports, with Twisted's TLS (``pip install 'txarakoon[tls]'``).

The server's certificate chain is always verified against the configured CA
(every certificate of the ``tls_ca_cert`` file is trusted, so a bundle works).
The host name is checked only when :attr:`~txarakoon.config.TLSConfig.verify_hostname`
is set, because Arakoon certificates usually name nodes while clients dial IP
addresses. The minimum protocol version follows the cluster's ``tls_version``;
with none configured it is TLS 1.2.

Arakoon's own default, TLS 1.0, is refused by current OpenSSL builds at their
default security level: a handshake then fails with an OpenSSL "unsupported
protocol" or "no protocols available" error, whatever minimum the client asks
for. Configure ``tls_version = 1.2`` on the cluster, or lower OpenSSL's security
level for this process. :class:`~txarakoon.cluster.ArakoonClient` adds this
advice to the error of a handshake that failed over the protocol version.

The prologue is sent after the handshake: Twisted's TLS layer holds what the
client writes until the handshake is done, and the cluster client does not
hand a connection to a caller before the handshake has completed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from zope.interface import implementer

from .config import ConfigError, TLSConfig
from .retry import Symptom

if TYPE_CHECKING:
    from OpenSSL import SSL

__all__ = [
    "VERSION_ADVICE",
    "ClientTLS",
    "client_connection_creator",
    "handshake_symptom",
    "is_tls_error",
    "verify_failure",
    "version_advice",
]

#: Appended to a handshake error that may come from the protocol version.
VERSION_ADVICE = (
    "Arakoon's default tls_version is 1.0, which current OpenSSL refuses at its "
    "default security level: set tls_version = 1.2 on the cluster (and in the "
    "client configuration), or lower OpenSSL's security level for this process"
)

_PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n.+?\r?\n-----END CERTIFICATE-----", re.DOTALL
)
# OpenSSL's words for a failed version negotiation (reason strings of
# SSL_R_UNSUPPORTED_PROTOCOL, SSL_R_NO_PROTOCOLS_AVAILABLE, alerts).
_VERSION_WORDS = ("protocol", "version")
# OpenSSL's words when the peer closed during the handshake or answered with
# bytes that are no TLS record: a port without TLS.
_NOT_TLS_WORDS = ("unexpected eof", "wrong version number", "packet length too long")


@implementer(IOpenSSLClientConnectionCreator)
class _NoHostnameCheck:
    """An ``IOpenSSLClientConnectionCreator`` that verifies the chain (through
    the context's trust root) but not the host name."""

    def __init__(self, context: SSL.Context) -> None:
        self._context = context

    def clientConnectionForTLS(self, tlsProtocol: Any) -> SSL.Connection:
        from OpenSSL import SSL

        connection = SSL.Connection(self._context, None)
        # Twisted's TLS layer sets the client state too; doing it here keeps
        # this creator correct on its own (without it, OpenSSL does not know
        # which side of the handshake it plays).
        connection.set_connect_state()
        connection.set_app_data(tlsProtocol)
        return connection


class ClientTLS:
    """The TLS material of a :class:`~txarakoon.config.TLSConfig`, loaded once.

    Reading and parsing the files happens here, so that a missing or invalid
    file is a :class:`~txarakoon.config.ConfigError` naming the setting when the
    client is built, not a failure of every connection attempt.
    """

    def __init__(self, tls: TLSConfig) -> None:
        from twisted.internet import ssl

        self.config = tls
        authorities = [
            ssl.Certificate.loadPEM(block)
            for block in _PEM_CERTIFICATE.findall(_read("tls_ca_cert", tls.ca_cert))
        ]
        if not authorities:
            raise ConfigError(f"tls_ca_cert: no PEM certificate in {tls.ca_cert!r}")
        self._trust_root = ssl.trustRootFromCertificates(authorities)  # type: ignore[no-untyped-call]
        self._client_certificate: Any = None
        if tls.cert is not None and tls.key is not None:
            pem = _read("tls_cert", tls.cert) + b"\n" + _read("tls_key", tls.key)
            try:
                self._client_certificate = ssl.PrivateCertificate.loadPEM(pem)  # type: ignore[no-untyped-call]
            except Exception as error:
                raise ConfigError(
                    f"tls_cert/tls_key: cannot load {tls.cert!r} with {tls.key!r}: {error}"
                ) from None
        self._minimum = _minimum_version(tls.version)
        self._without_hostname: _NoHostnameCheck | None = None

    def creator(self, hostname: str) -> Any:
        """The connection creator for ``wrapClientTLS`` towards ``hostname``
        (an ``IOpenSSLClientConnectionCreator``)."""
        from twisted.internet import ssl

        if self.config.verify_hostname:
            return ssl.optionsForClientTLS(
                hostname,
                trustRoot=self._trust_root,
                clientCertificate=self._client_certificate,
                extraCertificateOptions=self._minimum,
            )
        if self._without_hostname is None:
            certificate = self._client_certificate
            options = ssl.CertificateOptions(
                trustRoot=self._trust_root,
                privateKey=certificate.privateKey.original if certificate else None,
                certificate=certificate.original if certificate else None,
                **self._minimum,
            )
            context = options.getContext()
            _note_verify_errors(context)
            self._without_hostname = _NoHostnameCheck(context)
        return self._without_hostname


def client_connection_creator(tls: TLSConfig, hostname: str) -> Any:
    """The connection creator for ``wrapClientTLS`` towards ``hostname``."""
    return ClientTLS(tls).creator(hostname)


def version_advice(error: BaseException, version: str | None = None) -> str | None:
    """What to tell about a failed handshake (``error``) that may come from the
    protocol version, with ``version`` the client's configured minimum; else
    ``None``."""
    text = str(error).lower()
    if not any(word in text for word in _VERSION_WORDS):
        return None
    minimum = version or "1.2"
    return f"no TLS version both sides accept? This client asks for {minimum} or later; " + (
        VERSION_ADVICE
    )


# X509_V_ERR_* codes of the certificate problems a user can fix, in words.
_VERIFY_ERRORS = {
    9: "the node's certificate is not yet valid",
    10: "the node's certificate has expired",
    18: "the node's certificate is self-signed",
    19: "the node's certificate chain holds a self-signed certificate not in tls_ca_cert",
    20: "the node's certificate is not signed by a CA of tls_ca_cert",
    21: "the node's certificate is not signed by a CA of tls_ca_cert",
}
_VERIFY_ERROR = "_txarakoon_verify_error"


def _note_verify_errors(context: SSL.Context) -> None:
    """Remember on each connection why the chain failed verification: OpenSSL's
    handshake error says only "certificate verify failed"."""
    from OpenSSL import SSL

    def verify(connection: SSL.Connection, _cert: Any, code: int, _depth: int, ok: int) -> bool:
        if not ok and not hasattr(connection, _VERIFY_ERROR):
            setattr(connection, _VERIFY_ERROR, code)
        return bool(ok)

    context.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, verify)


def verify_failure(transport: object) -> str | None:
    """Why the node's certificate failed verification on ``transport`` (a TLS
    transport whose handshake failed), in words; ``None`` if unknown."""
    get_handle = getattr(transport, "getHandle", None)
    code = getattr(get_handle(), _VERIFY_ERROR, None) if callable(get_handle) else None
    if code is None:
        return None
    return _VERIFY_ERRORS.get(code, f"X509 verification error {code}")


def is_tls_error(error: object) -> bool:
    """Whether ``error`` is OpenSSL's (a handshake, a verification, an alert)."""
    from OpenSSL import SSL

    return isinstance(error, SSL.Error)


def handshake_symptom(error: BaseException) -> Symptom:
    """Whether a handshake that failed with ``error`` may succeed if tried
    again (a timeout), or says the TLS settings or the port are wrong."""
    from twisted.internet.error import ConnectionClosed

    if isinstance(error, ConnectionClosed):
        return Symptom.TLS_ON_PLAIN_PORT
    if not is_tls_error(error):
        return Symptom.TRANSIENT
    text = str(error).lower()
    if any(words in text for words in _NOT_TLS_WORDS):
        return Symptom.TLS_ON_PLAIN_PORT
    return Symptom.TLS_REFUSED


def _read(setting: str, path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise ConfigError(f"{setting}: cannot read {path!r}: {error.strerror}") from None


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
