"""Mutual TLS between the platform's processes (SPEC 7.1, NF-6 "TLS on every hop"; RELIABILITY S16).

Every process has a certificate from the platform's CA whose DNS SAN names it
(`<name>.prevention.internal`: gateway, identity, sharing, training, assessment, ingress). A
service requires a client certificate from that CA (the handshake fails otherwise, also for an
expired certificate) and then accepts only the callers SPEC 7.1 lists for it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from services.common.errors import PermissionDenied

DOMAIN = "prevention.internal"
# SPEC 7.1: who may call whom. Third-party platforms reach training through the Ingress.
# Services also call identity's Notify RPC (reminders and escalations, issues 4 and 6), an edge
# SPEC 7.1's table does not list yet.
ALLOWED_CALLERS: dict[str, frozenset[str]] = {
    "identity": frozenset({"gateway", "sharing", "training", "assessment"}),
    "sharing": frozenset({"gateway", "assessment"}),
    "training": frozenset({"gateway", "assessment", "ingress"}),
    "assessment": frozenset({"gateway"}),
}


def identity_name(process: str) -> str:
    return f"{process}.{DOMAIN}"


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    ca: Path

    def read(self) -> tuple[bytes, bytes, bytes]:
        return self.cert.read_bytes(), self.key.read_bytes(), self.ca.read_bytes()


def tls_files(settings) -> TlsFiles | None:
    if not settings.tls_cert_file:
        return None
    return TlsFiles(Path(settings.tls_cert_file), Path(settings.tls_key_file), Path(settings.tls_ca_file))


def server_credentials(files: TlsFiles) -> grpc.ServerCredentials:
    cert, key, ca = files.read()
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=True)


def channel_credentials(files: TlsFiles) -> grpc.ChannelCredentials:
    cert, key, ca = files.read()
    return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)


def check_peer(context: grpc.aio.ServicerContext, service: str) -> None:
    """Refuses a caller whose certificate does not name one of this service's allowed callers."""
    names = {n.decode() if isinstance(n, bytes) else n
             for n in (context.auth_context() or {}).get("x509_subject_alternative_name", [])}
    allowed = {identity_name(caller) for caller in ALLOWED_CALLERS.get(service, ())}
    if not names & allowed:
        raise PermissionDenied("this peer may not call this service", reason="PEER_NOT_ALLOWED")
