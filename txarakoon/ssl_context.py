"""TLS for the blocking clients, through the standard library's :mod:`ssl`.

:class:`ClientContext` turns the same :class:`~txarakoon.config.TLSConfig` as
the Twisted flavour (:mod:`txarakoon.tls`) into an :class:`ssl.SSLContext`,
with the same rules: the server's chain is always verified against
``ca_cert`` (a bundle is trusted whole), a client certificate is sent when
one is configured, the minimum version is ``version`` (1.2 when none), and
the host name is checked only with ``verify_hostname``. Loading happens once,
when the client is built: a missing or invalid file is a
:class:`~txarakoon.config.ConfigError` naming the setting.

A failed handshake raises a :class:`ConnectionError` in txarakoon's words
(what failed, and what to check); the :mod:`ssl` module's error is its
``__cause__``, and its text is quoted at the end. No Twisted here: scripts
using the blocking clients do not load it, except to word a handshake that
failed over the protocol version (the advice is :mod:`txarakoon.tls`'s).
"""

from __future__ import annotations

import socket
import ssl
import warnings
from typing import Final

from .config import ConfigError, TLSConfig

__all__ = [
    "ClientContext",
    "TLSFailure",
]

_VERSIONS: Final = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}

# OpenSSL's reasons (``SSLError.reason``) after which the server, not the
# chain, refused us: it wanted a client certificate, or not this one.
_CLIENT_CERTIFICATE_REASONS: Final = frozenset(
    {
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        "SSLV3_ALERT_HANDSHAKE_FAILURE",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "TLSV1_ALERT_UNKNOWN_CA",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    }
)
_VERSION_REASONS: Final = frozenset(
    {
        "UNSUPPORTED_PROTOCOL",
        "NO_PROTOCOLS_AVAILABLE",
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "WRONG_VERSION_NUMBER",
    }
)


class TLSFailure(ConnectionError):
    """TLS failed with a node, in txarakoon's words (the :mod:`ssl` error is
    the cause).

    :ivar closed_in_handshake: the node closed the connection during the
        handshake: its port probably speaks no TLS.
    """

    def __init__(self, message: str, *, closed_in_handshake: bool = False) -> None:
        super().__init__(message)
        self.closed_in_handshake = closed_in_handshake


class ClientContext:
    """The :class:`ssl.SSLContext` of a :class:`~txarakoon.config.TLSConfig`,
    loaded once, and the handshake of each connection made with it.

    :ivar config: the settings.
    :ivar context: the context; change it before the first connection if
        you must (a cipher list, a maximum version).
    """

    def __init__(self, tls: TLSConfig) -> None:
        self.config = tls
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = tls.verify_hostname
        context.verify_mode = ssl.CERT_REQUIRED
        minimum = _VERSIONS[tls.version or "1.2"]
        with warnings.catch_warnings():
            # The configuration asked for 1.0 or 1.1 (Arakoon's default):
            # honour it, as the Twisted flavour does, without a warning per client.
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = minimum
        try:
            context.load_verify_locations(cafile=tls.ca_cert)
        except ssl.SSLError:
            raise ConfigError(f"tls_ca_cert: no PEM certificate in {tls.ca_cert!r}") from None
        except OSError as error:
            raise ConfigError(
                f"tls_ca_cert: cannot read {tls.ca_cert!r}: {error.strerror}"
            ) from None
        if tls.cert is not None and tls.key is not None:
            for setting, path in (("tls_cert", tls.cert), ("tls_key", tls.key)):
                _readable(setting, path)
            try:
                context.load_cert_chain(tls.cert, tls.key)
            except (ssl.SSLError, OSError) as error:
                raise ConfigError(
                    f"tls_cert/tls_key: cannot load {tls.cert!r} with {tls.key!r}: {error}"
                ) from None
        self.context = context

    def __repr__(self) -> str:
        return f"<ClientContext ca_cert={self.config.ca_cert!r}>"

    def wrap(self, sock: socket.socket, host: str, port: int) -> ssl.SSLSocket:
        """Run the TLS handshake on the connected ``sock`` (within its
        timeout) and return the TLS socket. A failure closes ``sock`` and
        raises :class:`ConnectionError` (:class:`TimeoutError` if it took too
        long), worded by :meth:`failure`."""
        try:
            return self.context.wrap_socket(sock, server_hostname=host)
        except TimeoutError as error:
            sock.close()
            raise TimeoutError(f"TLS handshake with {host}:{port} timed out") from error
        except OSError as error:
            sock.close()
            raise self.failure(error, host, port, handshake=True) from error

    def failure(
        self,
        error: Exception,
        host: str,
        port: int,
        *,
        handshake: bool = False,
        first_reply: bool = False,
    ) -> ConnectionError:
        """``error``, raised by :mod:`ssl` or by the socket during the
        handshake with ``host:port``, or while waiting for the first reply
        (``first_reply``: with TLS 1.3, where a server refusing our
        certificate says so), in txarakoon's words; the original's text ends
        the message."""
        what = f"TLS handshake with {host}:{port} failed" if handshake else "TLS failed"
        diagnosis = self._diagnosis(error, host, handshake, first_reply)
        closed = handshake and not first_reply and isinstance(error, _CLOSED)
        return TLSFailure(f"{what}: {diagnosis} ({_text(error)})", closed_in_handshake=closed)

    def _diagnosis(self, error: Exception, host: str, handshake: bool, first_reply: bool) -> str:
        tls = self.config
        reason = getattr(error, "reason", None)
        if isinstance(error, ssl.SSLCertVerificationError):
            verdict = error.verify_message or ""
            if "hostname" in verdict or "IP address" in verdict:
                return (
                    f"the node's certificate does not name {host} "
                    "(verify_hostname is on: dial a name the certificate holds, or turn it off)"
                )
            return f"the node's certificate does not verify against tls_ca_cert {tls.ca_cert!r}"
        if reason in _CLIENT_CERTIFICATE_REASONS:
            if tls.cert is None:
                return (
                    "the node refused the handshake: it may require a client certificate "
                    "(tls_service_validate_peer): give tls_cert and tls_key"
                )
            return f"the node refused the client certificate {tls.cert!r}"
        # An end of stream before the version is agreed: OpenSSL's text says
        # "violation of protocol", which is no version problem.
        if isinstance(error, _CLOSED):
            if first_reply:
                # The alert saying why may have been lost in a reset.
                refused = "the node closed the connection before its first reply"
                if tls.cert is None:
                    return (
                        f"{refused}: it may require a client certificate "
                        "(tls_service_validate_peer): give tls_cert and tls_key "
                        "(or it expects another cluster id)"
                    )
                return f"{refused}: it may refuse the client certificate {tls.cert!r}"
            if not handshake:
                return "the node closed the connection"
            return (
                "the node closed the connection during the handshake "
                "(does its client port speak TLS? tls_service = true)"
            )
        if reason in _VERSION_REASONS or _names_the_version(error):
            from .tls import version_advice

            return version_advice(error, tls.version) or "no TLS version both sides accept"
        return "the handshake did not complete"


#: The ways a connection ends under the client: an end of stream (from ssl,
#: or the client's own EOFError), a reset, a broken pipe.
_CLOSED: Final = (
    ssl.SSLEOFError,
    ssl.SSLZeroReturnError,
    EOFError,
    ConnectionResetError,
    BrokenPipeError,
)


def _names_the_version(error: Exception) -> bool:
    text = str(error).lower()
    return "protocol" in text or "version" in text


def _text(error: Exception) -> str:
    if isinstance(error, EOFError):
        return str(error)
    name = type(error).__name__
    text = getattr(error, "verify_message", None) or str(error)
    return f"{name}: {text}" if text else name


def _readable(setting: str, path: str) -> None:
    """Fail with a ConfigError naming ``setting`` if ``path`` cannot be read:
    ``load_cert_chain`` would only say that a file is missing, not which."""
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise ConfigError(f"{setting}: cannot read {path!r}: {error.strerror}") from None
