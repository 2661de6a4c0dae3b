"""Access-token validation shared by every service and the gateway (SPEC 7.2, ID-5; RELIABILITY S4, S5).

RS256 only; ``iss`` exact; ``aud`` contains the audience; ``exp``/``iat``/``iss``/``aud``/``sub``
required; leeway at most 60 s. Keys come only from the configured JWKS URL, cached and re-fetched
on an unknown ``kid`` at most once per cooldown; ``jku``/``x5u``/inline ``jwk`` headers are ignored.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

import httpx
import jwt

from services.common.context import Caller
from services.common.errors import Unauthenticated

ALLOWED_ALGORITHMS = ("RS256",)
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]

Fetcher = Callable[[str], Awaitable[dict]]


async def _http_fetch(url: str) -> dict:
    async with httpx.AsyncClient(timeout=5.0, follow_redirects=False) as client:
        response = await client.get(url)
        response.raise_for_status()
        return response.json()


class JwksCache:
    def __init__(self, url: str, *, cooldown: float = 30.0, max_age: float = 300.0, fetch: Fetcher | None = None,
                 monotonic: Callable[[], float] = time.monotonic, failure_backoff: float = 2.0):
        self.url = url
        self.cooldown = cooldown
        # After a failed fetch (issuer not up yet, network) the next may come sooner: a failure
        # taught nothing, and waiting the whole cooldown would refuse every new token meanwhile.
        self.failure_backoff = min(failure_backoff, cooldown)
        self._failed = False
        # Keys are re-read at least this often, so a key the issuer withdrew (an emergency
        # rotation) stops being accepted within max_age, not only after the next unknown kid.
        self.max_age = max_age
        self._fetch = fetch or _http_fetch
        self._monotonic = monotonic
        self._keys: dict[str, jwt.PyJWK] = {}
        self._last_fetch: float | None = None
        self._lock = asyncio.Lock()
        self.fetch_count = 0

    async def key(self, kid: str) -> jwt.PyJWK:
        if kid in self._keys and not self._stale():
            return self._keys[kid]
        async with self._lock:
            if (kid not in self._keys or self._stale()) and self._may_fetch():
                await self._refresh()
        try:
            return self._keys[kid]
        except KeyError:
            raise Unauthenticated("token signed with an unknown key", reason="UNKNOWN_KEY") from None

    def _stale(self) -> bool:
        return self._last_fetch is not None and self._monotonic() - self._last_fetch >= self.max_age

    def _may_fetch(self) -> bool:
        wait = self.failure_backoff if self._failed else self.cooldown
        return self._last_fetch is None or self._monotonic() - self._last_fetch >= wait

    async def _refresh(self) -> None:
        self._last_fetch = self._monotonic()
        self.fetch_count += 1
        try:
            document = await self._fetch(self.url)
        except (httpx.HTTPError, json.JSONDecodeError, OSError):
            self._failed = True
            return  # keep the keys we have; the token fails below if its kid is unknown
        self._failed = False
        keys = {}
        for jwk in document.get("keys", []):
            if jwk.get("kty") != "RSA" or not jwk.get("kid") or jwk.get("use", "sig") != "sig":
                continue
            try:
                keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm="RS256")
            except jwt.PyJWKError:
                continue
        self._keys = keys


class TokenValidator:
    def __init__(self, *, issuer: str, audience: str, jwks: JwksCache, leeway: int = 60):
        self.issuer = issuer
        self.audience = audience
        self.jwks = jwks
        self.leeway = min(leeway, 60)

    async def validate(self, token: str) -> Caller:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("malformed token", reason="MALFORMED_TOKEN") from None
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise Unauthenticated("token algorithm not allowed", reason="ALGORITHM_NOT_ALLOWED")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("token has no key id", reason="UNKNOWN_KEY")
        key = await self.jwks.key(kid)
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=list(ALLOWED_ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": REQUIRED_CLAIMS, "verify_signature": True},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired", reason="TOKEN_EXPIRED") from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {type(exc).__name__}", reason="INVALID_TOKEN") from None
        if claims.get("typ", "Bearer") != "Bearer":
            raise Unauthenticated("not an access token", reason="NOT_ACCESS_TOKEN")
        tenant = claims.get("tenant")
        if not isinstance(tenant, str) or len(tenant) != 6 or not tenant.isdigit():
            raise Unauthenticated("token carries no valid tenant", reason="NO_TENANT")
        roles = (claims.get("realm_access") or {}).get("roles") or []
        return Caller(
            subject=str(claims["sub"]),
            tenant=tenant,
            roles=frozenset(r for r in roles if isinstance(r, str)),
            organisation=str(claims.get("org") or ""),
            client_id=str(claims.get("azp") or ""),
            scopes=frozenset(str(claims.get("scope") or "").split()),
            token=token,
        )


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("missing bearer token", reason="MISSING_TOKEN")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("authorization must be a bearer token", reason="MISSING_TOKEN")
    return token.strip()


def validator_from_settings(settings) -> TokenValidator:
    return TokenValidator(
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience,
        jwks=JwksCache(settings.jwks_url, cooldown=settings.oidc_jwks_cooldown_seconds),
        leeway=settings.oidc_leeway_seconds,
    )
