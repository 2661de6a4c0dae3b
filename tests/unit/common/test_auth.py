"""Token validation (SPEC 7.2, ID-5; RELIABILITY S4, S5): every forged or misused token is refused."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from services.common.auth import JwksCache, TokenValidator, bearer_token
from services.common.errors import Unauthenticated
from tests.support.tokens import TokenIssuer


class Recorder:
    """Fetches the issuer's JWKS in-process and records every URL asked for."""

    def __init__(self, issuer: TokenIssuer):
        self.issuer = issuer
        self.urls: list[str] = []

    async def __call__(self, url: str) -> dict:
        self.urls.append(url)
        return self.issuer.jwks()


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def local_issuer():
    issuer = TokenIssuer()
    yield issuer
    issuer.close()


@pytest.fixture
def setup(local_issuer):
    recorder, clock = Recorder(local_issuer), Clock()
    cache = JwksCache(local_issuer.jwks_url, cooldown=30, fetch=recorder, monotonic=clock)
    validator = TokenValidator(issuer=local_issuer.issuer, audience="prevention-api", jwks=cache, leeway=60)
    return local_issuer, validator, recorder, clock


def _b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_valid_token_gives_caller(setup):
    issuer, validator, _, _ = setup
    caller = await validator.validate(issuer.token(tenant="110000", roles=["provincial_operator"], sub="u1", org="o1"))
    assert (caller.subject, caller.tenant, caller.organisation) == ("u1", "110000", "o1")
    assert caller.roles == {"provincial_operator"}


@pytest.mark.parametrize(
    "mutation",
    [
        pytest.param(lambda c, i: c.update(iss="http://127.0.0.1:1/realms/other"), id="wrong-iss"),
        pytest.param(lambda c, i: c.pop("aud"), id="no-aud"),
        pytest.param(lambda c, i: c.update(aud="account"), id="wrong-aud"),
        pytest.param(lambda c, i: c.pop("exp"), id="no-exp"),
        pytest.param(lambda c, i: c.pop("iat"), id="no-iat"),
        pytest.param(lambda c, i: c.pop("sub"), id="no-sub"),
        pytest.param(lambda c, i: c.update(exp=int(time.time()) - 61), id="expired-past-leeway"),
        pytest.param(lambda c, i: c.update(nbf=int(time.time()) + 120), id="future-nbf"),
        pytest.param(lambda c, i: c.update(typ="ID"), id="id-token"),
        pytest.param(lambda c, i: c.pop("tenant"), id="no-tenant"),
        pytest.param(lambda c, i: c.update(tenant="11000"), id="malformed-tenant"),
    ],
)
async def test_bad_claims_refused(setup, mutation):
    issuer, validator, _, _ = setup
    claims = issuer.claims(tenant="110000", roles=["provincial_operator"])
    mutation(claims, issuer)
    with pytest.raises(Unauthenticated):
        await validator.validate(issuer.sign(claims))


async def test_expired_within_leeway_accepted(setup):
    issuer, validator, _, _ = setup
    claims = issuer.claims(tenant="110000", roles=[], exp=int(time.time()) - 30)
    assert (await validator.validate(issuer.sign(claims))).tenant == "110000"


async def test_alg_none_refused(setup):
    issuer, validator, _, _ = setup
    claims = issuer.claims(tenant="110000", roles=["ministry_operator"])
    token = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': issuer.kid})}.{_b64(claims)}."
    with pytest.raises(Unauthenticated) as info:
        await validator.validate(token)
    assert info.value.reason == "ALGORITHM_NOT_ALLOWED"


async def test_hs256_signed_with_public_key_refused(setup):
    issuer, validator, _, _ = setup
    public_pem = issuer.keys[issuer.kid].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = issuer.claims(tenant="110000", roles=["ministry_operator"])
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": issuer.kid})
    body = _b64(claims)
    import hashlib
    import hmac

    sig = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(Unauthenticated):
        await validator.validate(f"{header}.{body}.{_b64(sig)}")


async def test_tampered_payload_refused(setup):
    issuer, validator, _, _ = setup
    header, _, signature = issuer.token(tenant="110000", roles=["trainee"]).split(".")
    forged = _b64(issuer.claims(tenant="120000", roles=["ministry_operator"]))
    with pytest.raises(Unauthenticated):
        await validator.validate(f"{header}.{forged}.{signature}")


async def test_bad_signature_refused(setup):
    issuer, validator, _, _ = setup
    other = TokenIssuer()
    try:
        claims = issuer.claims(tenant="110000", roles=["ministry_operator"])
        token = jwt.encode(claims, other.keys[other.kid], algorithm="RS256", headers={"kid": issuer.kid})
    finally:
        other.close()
    with pytest.raises(Unauthenticated):
        await validator.validate(token)


async def test_garbage_and_missing_refused(setup):
    _, validator, _, _ = setup
    for token in ["", "abc", "a.b.c", "Bearer"]:
        with pytest.raises(Unauthenticated):
            await validator.validate(token)
    for header in [None, "", "Basic dXNlcjpwYXNz", "Bearer   "]:
        with pytest.raises(Unauthenticated):
            bearer_token(header)


async def test_jku_x5u_and_inline_jwk_never_used(setup):
    issuer, validator, recorder, _ = setup
    attacker = TokenIssuer()
    try:
        kid = attacker.kid
        claims = issuer.claims(tenant="110000", roles=["ministry_operator"])
        token = jwt.encode(
            claims, attacker.keys[kid], algorithm="RS256",
            headers={"kid": kid, "jku": "http://127.0.0.2/jwks.json", "x5u": "http://127.0.0.2/cert",
                     "jwk": attacker.jwks()["keys"][0]},
        )
        with pytest.raises(Unauthenticated):
            await validator.validate(token)
    finally:
        attacker.close()
    assert recorder.urls and set(recorder.urls) == {issuer.jwks_url}


async def test_unknown_kid_flood_fetches_at_most_once_per_cooldown(setup):
    issuer, validator, recorder, clock = setup
    await validator.validate(issuer.token(tenant="110000", roles=[]))
    assert len(recorder.urls) == 1
    claims = issuer.claims(tenant="110000", roles=[])
    for n in range(1000):
        token = jwt.encode(claims, issuer.keys[issuer.kid], algorithm="RS256", headers={"kid": f"random-{n}"})
        with pytest.raises(Unauthenticated):
            await validator.validate(token)
    assert len(recorder.urls) == 1, "a kid flood must not hammer the JWKS endpoint within the cooldown"
    clock.t += 31
    with pytest.raises(Unauthenticated):
        await validator.validate(jwt.encode(claims, issuer.keys[issuer.kid], algorithm="RS256",
                                            headers={"kid": "random-after"}))
    assert len(recorder.urls) == 2


async def test_rotation_old_and_new_keys_validate(setup):
    issuer, validator, recorder, clock = setup
    old_token = issuer.token(tenant="110000", roles=[])
    await validator.validate(old_token)
    new_kid = issuer.rotate()  # overlap: the JWKS now holds both keys
    new_token = issuer.token(tenant="110000", roles=[])
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    clock.t += 31  # past the cooldown: the unknown kid triggers one re-fetch
    assert (await validator.validate(new_token)).tenant == "110000"
    assert (await validator.validate(old_token)).tenant == "110000"
    assert len(recorder.urls) == 2


async def test_a_withdrawn_key_stops_working_within_max_age(setup):
    issuer, validator, recorder, clock = setup
    old_token = issuer.token(tenant="110000", roles=[])
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    await validator.validate(old_token)
    issuer.rotate()
    del issuer.keys[old_kid]  # emergency rotation: the old key is withdrawn from the JWKS at once
    clock.t += 60
    assert (await validator.validate(old_token)).tenant == "110000", "cached keys serve until max_age"
    clock.t += validator.jwks.max_age
    with pytest.raises(Unauthenticated):
        await validator.validate(old_token)
    assert len(recorder.urls) == 2


async def test_a_failed_fetch_is_retried_after_a_short_backoff_not_the_cooldown(local_issuer):
    """An issuer that is not up yet (services start before the gateway that serves the JWKS) must
    not lock new tokens out for a whole cooldown; a flood still costs at most one fetch a backoff."""
    import httpx

    clock, calls = Clock(), []

    async def fetch(url):
        calls.append(url)
        if len(calls) == 1:
            raise httpx.ConnectError("issuer not up yet")
        return await Recorder(local_issuer)(url)

    cache = JwksCache(local_issuer.jwks_url, cooldown=30, fetch=fetch, monotonic=clock, failure_backoff=2)
    validator = TokenValidator(issuer=local_issuer.issuer, audience="prevention-api", jwks=cache)
    token = local_issuer.token(tenant="110000", roles=[])
    for _ in range(50):
        with pytest.raises(Unauthenticated):
            await validator.validate(token)
    assert len(calls) == 1
    clock.t += 2
    caller = await validator.validate(token)
    assert caller.tenant == "110000" and len(calls) == 2
