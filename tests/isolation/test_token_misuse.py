"""Forged and misused tokens at the gateway (401 problem+json) and on a direct gRPC call
(UNAUTHENTICATED), for every case of RELIABILITY S4 / the identity issue's acceptance."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from prevention.identity.v1 import identity_pb2, identity_pb2_grpc

from tests.support.tokens import TokenIssuer


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _mutated(issuer: TokenIssuer, **changes) -> str:
    claims = issuer.claims(tenant="110000", roles=["provincial_operator"])
    for key, value in changes.items():
        if value is None:
            claims.pop(key, None)
        else:
            claims[key] = value
    return issuer.sign(claims)


def _alg_none(issuer: TokenIssuer) -> str:
    header = _b64(json.dumps({"alg": "none", "kid": issuer.kid}).encode())
    return f"{header}.{_b64(json.dumps(issuer.claims(tenant='110000', roles=['ministry_operator'])).encode())}."


def _hs256_public_key(issuer: TokenIssuer) -> str:
    pem = issuer.keys[issuer.kid].public_key().public_bytes(serialization.Encoding.PEM,
                                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    header = _b64(json.dumps({"alg": "HS256", "kid": issuer.kid}).encode())
    body = _b64(json.dumps(issuer.claims(tenant="110000", roles=["ministry_operator"])).encode())
    return f"{header}.{body}.{_b64(hmac.new(pem, f'{header}.{body}'.encode(), hashlib.sha256).digest())}"


def _tampered(issuer: TokenIssuer) -> str:
    header, _, signature = issuer.token(tenant="110000", roles=["trainee"]).split(".")
    body = _b64(json.dumps(issuer.claims(tenant="110000", roles=["ministry_operator"])).encode())
    return f"{header}.{body}.{signature}"


def _unknown_kid(issuer: TokenIssuer) -> str:
    return jwt.encode(issuer.claims(tenant="110000", roles=["trainee"]), issuer.keys[issuer.kid], algorithm="RS256",
                      headers={"kid": "not-a-known-kid"})


def _jku(issuer: TokenIssuer) -> str:
    attacker = TokenIssuer()
    try:
        return jwt.encode(issuer.claims(tenant="110000", roles=["ministry_operator"]), attacker.keys[attacker.kid],
                          algorithm="RS256", headers={"kid": attacker.kid, "jku": attacker.jwks_url})
    finally:
        attacker.close()


CASES = {
    "expired": lambda i: _mutated(i, exp=int(time.time()) - 120),
    "future-nbf": lambda i: _mutated(i, nbf=int(time.time()) + 300),
    "no-exp": lambda i: _mutated(i, exp=None),
    "wrong-iss": lambda i: _mutated(i, iss="http://127.0.0.1:9/realms/prevention"),
    "no-aud": lambda i: _mutated(i, aud=None),
    "wrong-aud": lambda i: _mutated(i, aud="account"),
    "alg-none": _alg_none,
    "hs256-with-public-key": _hs256_public_key,
    "tampered-payload": _tampered,
    "unknown-kid": _unknown_kid,
    "jku-elsewhere": _jku,
    "missing": lambda i: "",
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_gateway_refuses_with_401_problem(platform, issuer, case):
    token = CASES[case](issuer)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await platform.client.get("/v1/tenants", headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("case", sorted(CASES))
async def test_grpc_refuses_with_unauthenticated(platform, issuer, case):
    token = CASES[case](issuer)
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    async with grpc.aio.insecure_channel(platform.addresses["identity"]) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await identity_pb2_grpc.IdentityServiceStub(channel).ListTenants(
                identity_pb2.ListTenantsRequest(), metadata=metadata, timeout=10)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
