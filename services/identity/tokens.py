"""The embedded OIDC issuer's domain (SPEC ID-5, 7.2; NF-6): signing keys with rotation and
overlap, the password / client-credentials / refresh-token grants, lockout, TOTP, revocation.

Domain code: no gRPC. Functions never commit; the servicer commits, also when a grant fails,
so that failed-login counters and audit events persist."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import jwt
import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.clock import as_utc
from services.common.errors import DomainError, FailedPrecondition, InvalidArgument, Unauthenticated
from services.common.pii import PiiKeyring
from services.common.policy import TOTP_ENROLMENT
from services.identity import audit
from services.identity.models import ApiClient, AuthorizationCode, RefreshToken, SigningKey, User

AUDIENCE_EXTRA = "account"
CONSOLE_CLIENT = "prevention-console"
OPERATOR_ROLES = frozenset({"ministry_operator", "provincial_operator"})
SIGNING_KEY_CONTEXT = "identity.signing_keys.private_key"
TOTP_CONTEXT = "identity.users.totp_secret"
_hasher = PasswordHasher()


@dataclass(frozen=True)
class IssuerConfig:
    issuer: str
    audience: str
    access_seconds: int
    refresh_seconds: int
    max_failures: int
    lockout_seconds: int

    @property
    def key_overlap(self) -> timedelta:
        """A retired key stays published until every token it signed has expired (+ leeway)."""
        return timedelta(seconds=self.access_seconds + 60)


@dataclass
class Grant:
    """A grant's result: tokens, or the error to raise after the servicer commits."""

    access_token: str = ""
    expires_in: int = 0
    refresh_token: str = ""
    refresh_expires_in: int = 0
    scope: str = ""
    error: DomainError | None = None
    claims: dict = field(default_factory=dict)


# -- passwords and secrets ---------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def validate_password(password: str, field_name: str = "password") -> None:
    if len(password) < 12 or not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        raise InvalidArgument.field(field_name, "must have at least 12 characters with letters and digits")
    if len(password) > 256:
        raise InvalidArgument.field(field_name, "must be at most 256 characters")


def secret_digest(secret: str) -> str:
    """Client secrets and refresh tokens are 256-bit random values: a plain SHA-256 suffices."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


# -- signing keys -------------------------------------------------------------------------------


async def _create_key(session: AsyncSession, keyring: PiiKeyring, now: datetime) -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = uuid.uuid4().hex[:16]
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid=kid, use="sig", alg="RS256")
    row = SigningKey(kid=kid, private_key_enc=keyring.encrypt(pem, context=SIGNING_KEY_CONTEXT), public_jwk=jwk,
                     create_time=now, retire_time=None)
    session.add(row)
    await session.flush()
    return row


async def active_key(session: AsyncSession, keyring: PiiKeyring, now: datetime) -> SigningKey:
    row = (await session.scalars(
        select(SigningKey).where(SigningKey.retire_time.is_(None)).order_by(SigningKey.create_time.desc()).limit(1)
    )).first()
    return row or await _create_key(session, keyring, now)


async def rotate_key(session: AsyncSession, keyring: PiiKeyring, now: datetime) -> SigningKey:
    await session.execute(update(SigningKey).where(SigningKey.retire_time.is_(None)).values(retire_time=now))
    return await _create_key(session, keyring, now)


async def jwks(session: AsyncSession, keyring: PiiKeyring, config: IssuerConfig, now: datetime) -> dict:
    await active_key(session, keyring, now)
    rows = (await session.scalars(
        select(SigningKey).where(or_(SigningKey.retire_time.is_(None),
                                     SigningKey.retire_time > now - config.key_overlap))
        .order_by(SigningKey.create_time.desc())
    )).all()
    return {"keys": [row.public_jwk for row in rows]}


# Parsed private keys by kid: decrypting and parsing a PEM per token costs more than signing.
_PRIVATE_KEYS: dict[str, rsa.RSAPrivateKey] = {}


def _private_key(keyring: PiiKeyring, key: SigningKey) -> rsa.RSAPrivateKey:
    if key.kid not in _PRIVATE_KEYS:
        pem = keyring.decrypt(key.private_key_enc, context=SIGNING_KEY_CONTEXT)
        _PRIVATE_KEYS[key.kid] = serialization.load_pem_private_key(pem.encode(), password=None)
    return _PRIVATE_KEYS[key.kid]


async def _sign(session, keyring, config: IssuerConfig, now: datetime, claims: dict) -> str:
    key = await active_key(session, keyring, now)
    return jwt.encode(claims, _private_key(keyring, key), algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"})


def _claims(config: IssuerConfig, now: datetime, *, sub: str, azp: str, roles: list[str], tenant: str,
            org: str | None, scope: str, extra: dict | None = None) -> dict:
    issued = int(now.timestamp())
    claims = {
        "iss": config.issuer, "sub": sub, "aud": [config.audience, AUDIENCE_EXTRA],
        "exp": issued + config.access_seconds, "iat": issued, "jti": uuid.uuid4().hex, "azp": azp, "typ": "Bearer",
        "scope": scope,
        "realm_access": {"roles": sorted(roles)}, "tenant": tenant,
    }
    if org:
        claims["org"] = org
    claims.update(extra or {})
    return claims


# -- grants -------------------------------------------------------------------------------------


def _refused(reason: str, message: str = "invalid credentials") -> Grant:
    return Grant(error=Unauthenticated(message, reason=reason))


async def _issue_refresh(session, config, now, *, subject: str, client_id: str, scope: str) -> str:
    token = new_secret()
    session.add(RefreshToken(token_hash=secret_digest(token), subject=subject, client_id=client_id, scope=scope,
                             expire_time=now + timedelta(seconds=config.refresh_seconds), revoked=False))
    return token


def user_roles_for_token(user: User) -> list[str]:
    """Operators without TOTP get a token that can only enrol it (NF-6 two-factor login)."""
    if OPERATOR_ROLES & set(user.roles) and not user.totp_enabled:
        return [TOTP_ENROLMENT]
    return list(user.roles)


USER_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})


def user_scope(requested: str) -> str:
    """The scopes a person's token carries: the requested ones a person may have (others are
    dropped, as OIDC providers do), never more than fit the column."""
    return " ".join(sorted(set(requested.split()[:16]) & USER_SCOPES)) or "openid"


async def _user_tokens(session, keyring, config, now, user: User, client_id: str, scope: str) -> Grant:
    scope = user_scope(scope)
    roles = user_roles_for_token(user)
    claims = _claims(config, now, sub=user.id, azp=client_id, roles=roles, tenant=user.tenant_code,
                     org=user.organisation_id, scope=scope,
                     extra={"preferred_username": user.username})
    access = await _sign(session, keyring, config, now, claims)
    refresh = await _issue_refresh(session, config, now, subject=user.id, client_id=client_id, scope=scope)
    return Grant(access_token=access, expires_in=config.access_seconds, refresh_token=refresh,
                 refresh_expires_in=config.refresh_seconds, scope=scope, claims=claims)


def _totp_ok(keyring: PiiKeyring, user: User, code: str, now: datetime) -> bool:
    if not code or not user.totp_secret_enc:
        return False
    secret = keyring.decrypt(user.totp_secret_enc, context=TOTP_CONTEXT)
    return pyotp.TOTP(secret).verify(code.strip(), for_time=now, valid_window=1)


async def authenticate_user(session: AsyncSession, keyring: PiiKeyring, config: IssuerConfig, now: datetime, *,
                            username: str, password: str, totp: str) -> User | Grant:
    """Checks a login (password, TOTP where enrolled, lockout, disabled) and records it.
    Returns the user, or a refused Grant whose error the servicer raises after committing."""
    user = (await session.scalars(select(User).where(User.username == username.strip().lower()))).first()
    if user is None:
        verify_password(_DUMMY_HASH, password)  # same cost as a real check: no user enumeration by timing
        audit.record(session, now=now, kind=audit.LOGIN_FAILED, tenant_code="100000", actor="",
                     target="users/unknown", outcome="unknown_user")
        return _refused("INVALID_GRANT")
    target = f"users/{user.id}"
    if user.locked_until is not None and as_utc(user.locked_until) > now:
        audit.record(session, now=now, kind=audit.LOGIN_FAILED, tenant_code=user.tenant_code, actor=user.id,
                     target=target, outcome="locked")
        return _refused("ACCOUNT_LOCKED", "account temporarily locked after repeated failed logins")
    password_ok = verify_password(user.password_hash, password)
    totp_ok = not user.totp_enabled or _totp_ok(keyring, user, totp, now)
    if not (password_ok and totp_ok) or not user.enabled:
        if not user.enabled:
            outcome = "disabled"
        elif password_ok:
            outcome = "bad_totp" if totp else "totp_required"
        else:
            outcome = "bad_password"
        user.failed_logins += 1
        audit.record(session, now=now, kind=audit.LOGIN_FAILED, tenant_code=user.tenant_code, actor=user.id,
                     target=target, outcome=outcome)
        if user.failed_logins >= config.max_failures:
            user.locked_until = now + timedelta(seconds=config.lockout_seconds)
            user.failed_logins = 0
            audit.record(session, now=now, kind=audit.ACCOUNT_LOCKED, tenant_code=user.tenant_code, actor=user.id,
                         target=target, detail={"lockout_seconds": config.lockout_seconds})
        if outcome == "totp_required":
            return _refused("TOTP_REQUIRED", "a TOTP code is required")
        return _refused("INVALID_GRANT")
    user.failed_logins = 0
    user.locked_until = None
    return user


async def password_grant(session: AsyncSession, keyring: PiiKeyring, config: IssuerConfig, now: datetime, *,
                         username: str, password: str, totp: str, client_id: str, scope: str) -> Grant:
    user = await authenticate_user(session, keyring, config, now, username=username, password=password, totp=totp)
    if isinstance(user, Grant):
        return user
    client_id = client_id or CONSOLE_CLIENT
    grant = await _user_tokens(session, keyring, config, now, user, client_id, scope)
    audit.record(session, now=now, kind=audit.LOGIN_SUCCEEDED, tenant_code=user.tenant_code, actor=user.id,
                 target=f"users/{user.id}", detail={"client_id": client_id, "grant": "password"})
    return grant


# -- authorization code + PKCE (RFC 6749 4.1, RFC 7636) -------------------------------------------

CODE_SECONDS = 60
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43,128}$")
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


def pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def check_authorization_request(*, client_id: str, redirect_uri: str, code_challenge: str, method: str,
                                clients: dict[str, list[str]]) -> None:
    """Refused before any credential is looked at: an unknown client or a redirect URI that is
    not registered exactly (no open redirects), or a missing/weak PKCE challenge."""
    if client_id not in clients:
        raise InvalidArgument.field("client_id", "is not a registered client")
    if redirect_uri not in clients[client_id]:
        raise InvalidArgument.field("redirect_uri", "is not registered for this client")
    if method != "S256":
        raise InvalidArgument.field("code_challenge_method", "must be S256")
    if not _CHALLENGE.match(code_challenge or ""):
        raise InvalidArgument.field("code_challenge", "must be a base64url SHA-256 challenge")


async def authorize(session: AsyncSession, keyring: PiiKeyring, config: IssuerConfig, now: datetime, *,
                    client_id: str, redirect_uri: str, code_challenge: str, scope: str, username: str,
                    password: str, totp: str) -> tuple[str, Grant | None]:
    user = await authenticate_user(session, keyring, config, now, username=username, password=password, totp=totp)
    if isinstance(user, Grant):
        return "", user
    code = new_secret()
    session.add(AuthorizationCode(code_hash=secret_digest(code), user_id=user.id, client_id=client_id,
                                  redirect_uri=redirect_uri, code_challenge=code_challenge, scope=scope or "openid",
                                  expire_time=now + timedelta(seconds=CODE_SECONDS), used=False))
    audit.record(session, now=now, kind=audit.LOGIN_SUCCEEDED, tenant_code=user.tenant_code, actor=user.id,
                 target=f"users/{user.id}", detail={"client_id": client_id, "grant": "authorization_code"})
    return code, None


async def code_grant(session: AsyncSession, keyring: PiiKeyring, config: IssuerConfig, now: datetime, *,
                     code: str, client_id: str, redirect_uri: str, code_verifier: str) -> Grant:
    digest = secret_digest(code) if code else ""
    row = await session.get(AuthorizationCode, digest) if code else None
    if row is None or row.used or as_utc(row.expire_time) <= now:
        return _refused("INVALID_GRANT", "authorization code invalid, expired or used")
    if not await _claim_once(session, AuthorizationCode, AuthorizationCode.code_hash, digest,
                             AuthorizationCode.used):
        return _refused("INVALID_GRANT", "authorization code invalid, expired or used")
    if client_id != row.client_id or redirect_uri != row.redirect_uri:
        return _refused("INVALID_GRANT", "authorization code was issued to another client or redirect URI")
    if not _VERIFIER.match(code_verifier or "") or not secrets.compare_digest(pkce_challenge(code_verifier),
                                                                             row.code_challenge):
        return _refused("INVALID_GRANT", "code_verifier does not match the code challenge")
    user = await session.get(User, row.user_id)
    if user is None or not user.enabled:
        return _refused("INVALID_GRANT", "authorization code invalid, expired or used")
    return await _user_tokens(session, keyring, config, now, user, client_id, row.scope)


def _client_secret_ok(client: ApiClient, secret: str, now: datetime) -> bool:
    digest = secret_digest(secret)
    if secrets.compare_digest(digest, client.secret_hash):
        return True
    return bool(
        client.previous_secret_hash and client.previous_secret_expire_time
        and as_utc(client.previous_secret_expire_time) > now
        and secrets.compare_digest(digest, client.previous_secret_hash)
    )


async def client_credentials_grant(session: AsyncSession, keyring: PiiKeyring, config: IssuerConfig,
                                   now: datetime, *, client_id: str, client_secret: str, scope: str) -> Grant:
    client = await session.get(ApiClient, client_id) if client_id else None
    if client is None or not client_secret or not _client_secret_ok(client, client_secret, now):
        audit.record(session, now=now, kind=audit.TOKEN_REFUSED, tenant_code=client.tenant_code if client else "100000",
                     actor=client_id[:64], target=f"apiClients/{client_id[:64]}", outcome="invalid_client")
        return _refused("INVALID_CLIENT", "invalid client credentials")
    if not client.enabled:
        audit.record(session, now=now, kind=audit.TOKEN_REFUSED, tenant_code=client.tenant_code, actor=client_id,
                     target=f"apiClients/{client_id}", outcome="disabled")
        return _refused("INVALID_CLIENT", "client disabled")
    requested = set(scope.split()) if scope else set(client.scopes)
    if not requested <= set(client.scopes):
        return Grant(error=InvalidArgument.field("scope", "asks for scopes the client is not allowed"))
    granted = " ".join(sorted(requested))
    claims = _claims(config, now, sub=f"service-account-{client_id}", azp=client_id, roles=list(client.roles),
                     tenant=client.tenant_code, org=client.organisation_id, scope=granted,
                     extra={"client_id": client_id})
    access = await _sign(session, keyring, config, now, claims)
    audit.record(session, now=now, kind=audit.TOKEN_ISSUED, tenant_code=client.tenant_code, actor=client_id,
                 target=f"apiClients/{client_id}", detail={"grant": "client_credentials"})
    return Grant(access_token=access, expires_in=config.access_seconds, scope=granted, claims=claims)


async def refresh_grant(session: AsyncSession, keyring: PiiKeyring, config: IssuerConfig, now: datetime, *,
                        refresh_token: str, client_id: str) -> Grant:
    digest = secret_digest(refresh_token) if refresh_token else ""
    row = await session.get(RefreshToken, digest) if refresh_token else None
    if row is None or row.revoked or as_utc(row.expire_time) <= now or (client_id and client_id != row.client_id):
        return _refused("INVALID_GRANT", "refresh token invalid, expired or revoked")
    # Rotation: a refresh token is used once, also when two requests race for it.
    if not await _claim_once(session, RefreshToken, RefreshToken.token_hash, digest, RefreshToken.revoked):
        return _refused("INVALID_GRANT", "refresh token invalid, expired or revoked")
    user = await session.get(User, row.subject)
    if user is None or not user.enabled:
        return _refused("INVALID_GRANT", "refresh token invalid, expired or revoked")
    return await _user_tokens(session, keyring, config, now, user, row.client_id, row.scope)


async def _claim_once(session: AsyncSession, model, key_column, key: str, flag) -> bool:
    """Sets a one-time flag atomically: of concurrent requests only one sees rowcount 1 (a
    read-then-write would let both through; PostgreSQL's row lock makes the second wait and
    then match nothing)."""
    result = await session.execute(
        update(model).where(key_column == key, flag.is_(False)).values({flag.key: True})
        .execution_options(synchronize_session=False)
    )
    await session.refresh(await session.get(model, key))
    return result.rowcount == 1


async def revoke(session: AsyncSession, *, token: str) -> None:
    """RFC 7009: revoking an unknown token is not an error."""
    row = await session.get(RefreshToken, secret_digest(token)) if token else None
    if row is not None:
        row.revoked = True


async def revoke_subject(session: AsyncSession, subject: str) -> None:
    """Every refresh token of a user or client stops working at once (SPEC 7.2)."""
    await session.execute(update(RefreshToken).where(RefreshToken.subject == subject).values(revoked=True))


# -- TOTP enrolment ----------------------------------------------------------------------------


def totp_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="Work-Injury Prevention Platform")


async def enroll_totp(session: AsyncSession, keyring: PiiKeyring, now: datetime, *, user: User) -> str:
    """A new pending secret; it takes effect only once confirmed with a current code."""
    if user.totp_enabled:
        raise FailedPrecondition("TOTP is already enrolled", reason="TOTP_ALREADY_ENROLLED")
    secret = pyotp.random_base32()
    user.totp_secret_enc = keyring.encrypt(secret, context=TOTP_CONTEXT)
    user.update_time = now
    return secret


async def confirm_totp(session: AsyncSession, keyring: PiiKeyring, now: datetime, *, user: User, code: str) -> None:
    if not user.totp_secret_enc or user.totp_enabled:
        raise FailedPrecondition("no pending TOTP enrolment", reason="NO_PENDING_TOTP")
    if not _totp_ok(keyring, user, code, now):
        raise InvalidArgument.field("code", "is not a current TOTP code")
    user.totp_enabled = True
    user.update_time = now
    audit.record(session, now=now, kind=audit.TOTP_ENROLLED, tenant_code=user.tenant_code, actor=user.id,
                 target=f"users/{user.id}")
    # Tokens issued for enrolment only must give way to full ones: force a fresh login.
    await revoke_subject(session, user.id)

