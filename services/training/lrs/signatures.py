"""Signed statements (xAPI Data 2.6): a statement attachment with the signature usage type must be
an application/octet-stream part holding a JWS (RFC 7515, compact serialisation) whose algorithm
is RS256, RS384 or RS512 and whose payload is the statement as it was before the signature was
attached. Pure functions: no database, no gRPC.

The LRS checks the structure and the payload. When the JWS header carries an X.509 chain (x5c) the
signature is verified against its first certificate; without one there is no key to verify with
(the xAPI specification leaves trust to the consumer).
"""

from __future__ import annotations

import base64
import binascii
import json

from services.common.errors import InvalidArgument
from services.training.lrs import statements as st

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
ALGORITHMS = {"RS256": "SHA256", "RS384": "SHA384", "RS512": "SHA512"}


def _b64url(segment: str, field: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise InvalidArgument.field(field, "is not base64url") from None


def _json(raw: bytes, field: str):
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidArgument.field(field, "is not valid JSON") from None


def _unsigned(statement: dict, signature_sha2s: set[str]) -> dict:
    """The statement as signed: without the signature attachments and the LRS-set properties."""
    form = {k: v for k, v in statement.items() if k not in ("stored", "authority", "version")}
    remaining = [a for a in form.get("attachments") or []
                 if not (isinstance(a, dict) and str(a.get("sha2", "")).lower() in signature_sha2s)]
    if remaining:
        form["attachments"] = remaining
    else:
        form.pop("attachments", None)
    return st.comparison_form(st._context_arrays(form))


def check(statement: dict, parts: dict[str, bytes], path: str = "statement") -> None:
    """Raises InvalidArgument unless every signature attachment of ``statement`` is a valid JWS of
    it. ``parts`` maps a part's SHA-256 (lower-case hex) to its content."""
    signatures = [(i, a) for i, a in enumerate(statement.get("attachments") or [])
                  if isinstance(a, dict) and a.get("usageType") == SIGNATURE_USAGE]
    if not signatures:
        return
    sha2s = {str(a.get("sha2", "")).lower() for _, a in signatures}
    for i, attachment in signatures:
        field = f"{path}.attachments[{i}]"
        if str(attachment.get("contentType", "")).split(";")[0].strip().lower() != "application/octet-stream":
            raise InvalidArgument.field(f"{field}.contentType", "a signature must be application/octet-stream")
        content = parts.get(str(attachment.get("sha2", "")).lower())
        if content is None:
            raise InvalidArgument.field(field, "a signature must be sent as a part, not by fileUrl")
        try:
            token = content.decode("ascii").strip()
        except UnicodeDecodeError:
            raise InvalidArgument.field(field, "is not a JWS in compact serialisation") from None
        segments = token.split(".")
        if len(segments) != 3 or not all(segments):
            raise InvalidArgument.field(field, "is not a JWS in compact serialisation")
        header = _json(_b64url(segments[0], f"{field} JWS header"), f"{field} JWS header")
        if not isinstance(header, dict) or header.get("alg") not in ALGORITHMS:
            raise InvalidArgument.field(f"{field} JWS header", "alg must be RS256, RS384 or RS512")
        payload = _json(_b64url(segments[1], f"{field} JWS payload"), f"{field} JWS payload")
        if not isinstance(payload, dict):
            raise InvalidArgument.field(f"{field} JWS payload", "must be the signed statement")
        signed = _unsigned(payload, sha2s)
        if "id" not in payload:
            signed.pop("id", None)
        actual = _unsigned(statement, sha2s)
        if "id" not in payload:
            actual.pop("id", None)
        if st.canonical_json(signed) != st.canonical_json(actual):
            raise InvalidArgument.field(f"{field} JWS payload", "does not match the statement")
        if "x5c" in header:
            _verify(header, segments, _b64url(segments[2], f"{field} JWS signature"), field)


def _verify(header: dict, segments: list[str], signature: bytes, field: str) -> None:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    chain = header.get("x5c")
    try:
        der = base64.b64decode(chain[0], validate=True)
        key = x509.load_der_x509_certificate(der).public_key()
    except (TypeError, IndexError, KeyError, ValueError, binascii.Error):
        raise InvalidArgument.field(f"{field} JWS header", "x5c is not an X.509 certificate chain") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidArgument.field(f"{field} JWS header", "x5c must hold an RSA key")
    algorithm = getattr(hashes, ALGORITHMS[header["alg"]])()
    try:
        key.verify(signature, f"{segments[0]}.{segments[1]}".encode("ascii"), padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        raise InvalidArgument.field(f"{field} JWS signature", "does not verify with the x5c certificate") from None
