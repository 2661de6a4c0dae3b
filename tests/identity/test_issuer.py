"""The embedded OIDC issuer end to end (SPEC ID-5, 7.2, NF-6): Keycloak-shaped routes on the
gateway, tokens validated by every service through the gateway's JWKS route."""

from __future__ import annotations

from datetime import timedelta

import grpc
import jwt
import pyotp
from prevention.identity.v1 import identity_pb2, identity_pb2_grpc
from prevention.training.v1 import training_pb2, training_pb2_grpc

TOKEN = "/realms/prevention/protocol/openid-connect/token"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_discovery_and_certs(issuer_platform):
    p = issuer_platform
    doc = (await p.client.get("/realms/prevention/.well-known/openid-configuration")).json()
    assert doc["issuer"] == f"{p.url}/realms/prevention"
    assert doc["jwks_uri"] == f"{p.url}/realms/prevention/protocol/openid-connect/certs"
    assert doc["token_endpoint"].endswith("/protocol/openid-connect/token")
    keys = (await p.client.get("/realms/prevention/protocol/openid-connect/certs")).json()["keys"]
    assert keys and all(k["kty"] == "RSA" and "d" not in k for k in keys)


async def test_password_grant_token_contract_and_use(issuer_platform):
    p = issuer_platform
    response = await p.login("demo-trainee")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300 and body["refresh_expires_in"] == 1800
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["iss"] == f"{p.url}/realms/prevention" and "prevention-api" in claims["aud"]
    assert claims["tenant"] == "110000" and claims["realm_access"]["roles"] == ["trainee"]
    assert claims["azp"] == "prevention-console" and claims["exp"] - claims["iat"] == 300
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "RS256"
    tenants = await p.client.get("/v1/tenants", headers=bearer(body["access_token"]))
    assert tenants.status_code == 200 and [t["code"] for t in tenants.json()["tenants"]] == ["110000"]
    info = await p.client.get("/realms/prevention/protocol/openid-connect/userinfo",
                              headers=bearer(body["access_token"]))
    assert info.json()["preferred_username"] == "demo-trainee"


async def test_wrong_password_and_unknown_user_are_invalid_grant(issuer_platform):
    p = issuer_platform
    for username, password in (("demo-expert", "wrong-password-1"), ("nobody-here", "whatever-1234")):
        response = await p.login(username, password=password)
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    response = await p.client.post(TOKEN, data={"grant_type": "implicit"})
    assert response.json()["error"] == "unsupported_grant_type"


async def test_operator_needs_totp(issuer_platform):
    p = issuer_platform
    no_code = await p.login("demo-ministry", totp="")
    assert no_code.status_code == 400 and "TOTP" in no_code.json()["error_description"]
    wrong = await p.login("demo-ministry", totp="000000" if pyotp.TOTP(
        p.credentials["demo-ministry"]["totp-secret"]).at(p.clock.now()) != "000000" else "111111")
    assert wrong.status_code == 400
    ok = await p.login("demo-ministry")
    assert ok.status_code == 200
    claims = jwt.decode(ok.json()["access_token"], options={"verify_signature": False})
    assert claims["realm_access"]["roles"] == ["ministry_operator"] and claims["tenant"] == "100000"


async def test_new_operator_must_enrol_totp_first(issuer_platform):
    p = issuer_platform
    po = await p.token("demo-beijing-operator")
    created = await p.client.post("/v1/users", headers=bearer(po), json={
        "username": "new-operator-1", "display_name": "New operator", "roles": ["provincial_operator"],
        "password": "operator-password-123"})
    assert created.status_code == 201, created.text
    first = await p.login("new-operator-1", password="operator-password-123")
    assert first.status_code == 200
    limited = first.json()["access_token"]
    assert jwt.decode(limited, options={"verify_signature": False})["realm_access"]["roles"] == ["totp_enrolment"]
    assert (await p.client.get("/v1/tenants", headers=bearer(limited))).status_code == 403
    enrolment = await p.client.post("/v1/users/me/totp", headers=bearer(limited))
    assert enrolment.status_code == 201, enrolment.text
    secret = enrolment.json()["secret"]
    assert enrolment.json()["otpauth_uri"].startswith("otpauth://totp/")
    bad = await p.client.post("/v1/users/me/totp/confirm", headers=bearer(limited), json={"code": "12345x"})
    assert bad.status_code == 400
    code = pyotp.TOTP(secret).at(p.clock.now())
    confirmed = await p.client.post("/v1/users/me/totp/confirm", headers=bearer(limited), json={"code": code})
    assert confirmed.status_code == 204, confirmed.text
    refreshed = await p.client.post(TOKEN, data={"grant_type": "refresh_token",
                                                 "refresh_token": first.json()["refresh_token"]})
    assert refreshed.status_code == 400, "enrolment revokes the limited session"
    full = await p.login("new-operator-1", password="operator-password-123", totp=code)
    assert full.status_code == 200
    roles = jwt.decode(full.json()["access_token"], options={"verify_signature": False})["realm_access"]["roles"]
    assert roles == ["provincial_operator"]


async def test_lockout_after_five_failures_for_fifteen_minutes(issuer_platform):
    p = issuer_platform
    po = await p.token("demo-beijing-operator")
    created = await p.client.post("/v1/users", headers=bearer(po), json={
        "username": "lockout-victim", "display_name": "Victim", "roles": ["trainee"], "password": "right-password-123"})
    assert created.status_code == 201
    for _ in range(5):
        assert (await p.login("lockout-victim", password="wrong-password-99")).status_code == 400
    locked = await p.login("lockout-victim", password="right-password-123")
    assert locked.status_code == 400 and "locked" in locked.json()["error_description"]
    p.clock.advance(timedelta(minutes=14))
    assert (await p.login("lockout-victim", password="right-password-123")).status_code == 400
    p.clock.advance(timedelta(minutes=1, seconds=1))
    assert (await p.login("lockout-victim", password="right-password-123")).status_code == 200
    p.clock.advance(-timedelta(minutes=15, seconds=1))  # tokens issued later in the session use real time
    ministry = await p.token("demo-ministry")
    events = await p.client.get("/v1/audit-events", params={"kind": "ACCOUNT_LOCKED"}, headers=bearer(ministry))
    assert any(e["target"] == f"users/{created.json()['id']}" for e in events.json()["audit_events"])


async def test_disable_and_role_change_revoke_refresh_tokens(issuer_platform):
    p = issuer_platform
    po = await p.token("demo-beijing-operator")
    tokens = {}
    for name in ("revoke-disable", "revoke-roles"):
        created = await p.client.post("/v1/users", headers=bearer(po), json={
            "username": name, "display_name": name, "roles": ["trainee"], "password": "trainee-password-123"})
        assert created.status_code == 201
        login = await p.login(name, password="trainee-password-123")
        tokens[name] = (created.json()["id"], login.json()["refresh_token"])
    user_id, refresh = tokens["revoke-disable"]
    disabled = await p.client.patch(f"/v1/users/{user_id}", headers=bearer(po), json={"enabled": False})
    assert disabled.status_code == 200
    again = await p.client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": refresh})
    assert again.status_code == 400
    assert (await p.login("revoke-disable", password="trainee-password-123")).status_code == 400
    user_id, refresh = tokens["revoke-roles"]
    changed = await p.client.patch(f"/v1/users/{user_id}", headers=bearer(po), json={"roles": ["expert"]})
    assert changed.status_code == 200 and changed.json()["roles"] == ["expert"]
    again = await p.client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": refresh})
    assert again.status_code == 400


async def test_refresh_rotates_and_logout_revokes(issuer_platform):
    p = issuer_platform
    first = (await p.login("demo-expert")).json()
    second = await p.client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    reused = await p.client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert reused.status_code == 400, "a refresh token is used once"
    logout = await p.client.post("/realms/prevention/protocol/openid-connect/logout",
                                 data={"refresh_token": second.json()["refresh_token"]})
    assert logout.status_code == 200
    after = await p.client.post(TOKEN, data={"grant_type": "refresh_token",
                                             "refresh_token": second.json()["refresh_token"]})
    assert after.status_code == 400


async def test_client_credentials_call_grpc_directly_and_disable(issuer_platform):
    p = issuer_platform
    po = await p.token("demo-beijing-operator")
    created = await p.client.post("/v1/api-clients", headers=bearer(po), json={
        "display_name": "Platform X", "roles": ["training_platform"], "scopes": ["learning_records.write"]})
    assert created.status_code == 201, created.text
    client_id, secret = created.json()["api_client"]["client_id"], created.json()["client_secret"]
    issued = await p.client.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["azp"] == client_id and claims["tenant"] == "110000" and "refresh_token" not in issued.json()
    async with grpc.aio.insecure_channel(p.addresses["training"]) as channel:
        reply = await training_pb2_grpc.TrainingServiceStub(channel).ListCourses(
            training_pb2.ListCoursesRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=10)
    assert reply is not None
    wrong = await p.client.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(client_id, "nope"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    disabled = await p.client.patch(f"/v1/api-clients/{client_id}", headers=bearer(po), json={"enabled": False})
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    refused = await p.client.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert refused.status_code == 401


async def test_client_secret_rotation_with_overlap(issuer_platform):
    p = issuer_platform
    po = await p.token("demo-beijing-operator")
    created = (await p.client.post("/v1/api-clients", headers=bearer(po), json={
        "display_name": "Rotating", "roles": ["training_platform"]})).json()
    client_id, old = created["api_client"]["client_id"], created["client_secret"]
    rotated = await p.client.post(f"/v1/api-clients/{client_id}/rotate-secret", headers=bearer(po),
                                  json={"overlap_seconds": 600})
    new = rotated.json()["client_secret"]
    for secret in (old, new):
        ok = await p.client.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(client_id, secret))
        assert ok.status_code == 200
    p.clock.advance(timedelta(seconds=601))
    try:
        expired = await p.client.post(TOKEN, data={"grant_type": "client_credentials"}, auth=(client_id, old))
        assert expired.status_code == 401
    finally:
        p.clock.advance(-timedelta(seconds=601))


async def test_signing_key_rotation_keeps_old_tokens_valid(issuer_platform):
    p = issuer_platform
    old_token = await p.token("demo-trainee")
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    ministry = await p.token("demo-ministry")
    async with grpc.aio.insecure_channel(p.addresses["identity"]) as channel:
        reply = await identity_pb2_grpc.IdentityServiceStub(channel).RotateSigningKey(
            identity_pb2.RotateSigningKeyRequest(), metadata=(("authorization", f"Bearer {ministry}"),), timeout=10)
    assert reply.kid != old_kid
    new_token = await p.token("demo-trainee")
    assert jwt.get_unverified_header(new_token)["kid"] == reply.kid
    kids = {k["kid"] for k in (await p.client.get("/realms/prevention/protocol/openid-connect/certs")).json()["keys"]}
    assert {old_kid, reply.kid} <= kids
    for token in (old_token, new_token):
        assert (await p.client.get("/v1/key-industries", headers=bearer(token))).status_code == 200


async def test_ministry_cross_tenant_user_read_is_audited(issuer_platform):
    p = issuer_platform
    tianjin = await p.token("demo-tianjin-operator")
    created = await p.client.post("/v1/users", headers=bearer(tianjin), json={
        "username": "tianjin-worker", "display_name": "TJ", "roles": ["trainee"], "password": "tianjin-password-1",
        "citizen_id": "11010519491231002X", "phone": "13912345678"})
    assert created.status_code == 201
    user_id = created.json()["id"]
    assert created.json()["citizen_id"] == "11010519491231002X", "PO of the person's tenant sees it unmasked"
    beijing = await p.token("demo-beijing-operator")
    assert (await p.client.get(f"/v1/users/{user_id}", headers=bearer(beijing))).status_code == 404
    ministry = await p.token("demo-ministry")
    read = await p.client.get(f"/v1/users/{user_id}", headers=bearer(ministry))
    assert read.status_code == 200 and read.json()["citizen_id"] == "11010519491231002X"
    events = (await p.client.get("/v1/audit-events", params={"kind": "CROSS_TENANT_READ"},
                                 headers=bearer(ministry))).json()["audit_events"]
    assert any(e["target"] == f"users/{user_id}" and e["tenant_code"] == "120000" for e in events)
    own = (await p.client.get("/v1/audit-events", headers=bearer(beijing))).json()["audit_events"]
    assert own and all(e["tenant_code"] == "110000" for e in own)


async def test_authorization_code_flow_with_pkce(issuer_platform):
    import base64
    import hashlib
    import secrets
    from urllib.parse import parse_qs, urlsplit

    p = issuer_platform
    redirect = f"{p.url}/console/callback"
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    params = {"response_type": "code", "client_id": "prevention-console", "redirect_uri": redirect,
              "code_challenge": challenge, "code_challenge_method": "S256", "state": "xyz", "scope": "openid"}
    auth = "/realms/prevention/protocol/openid-connect/auth"
    page = await p.client.get(auth, params=params)
    assert page.status_code == 200 and 'name="password"' in page.text and page.headers["x-frame-options"] == "DENY"
    for bad in ({"redirect_uri": "https://evil.example/cb"}, {"client_id": "unknown"},
                {"code_challenge_method": "plain"}, {"code_challenge": "short"}):
        refused = await p.client.get(auth, params={**params, **bad})
        assert refused.status_code == 400 and "location" not in refused.headers
    wrong = await p.client.post(auth, data={**params, "username": "demo-trainee", "password": "not-it-123456"})
    assert wrong.status_code == 400 and "location" not in wrong.headers
    ok = await p.client.post(auth, data={**params, "username": "demo-trainee",
                                         "password": p.credentials["demo-trainee"]["password"]})
    assert ok.status_code == 302, ok.text
    location = urlsplit(ok.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    code = query["code"][0]
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
                "client_id": "prevention-console"}
    bad_verifier = await p.client.post(TOKEN, data={**exchange, "code_verifier": secrets.token_urlsafe(48)})
    assert bad_verifier.status_code == 400, "a wrong verifier burns the code"
    ok = await p.client.post(auth, data={**params, "username": "demo-trainee",
                                         "password": p.credentials["demo-trainee"]["password"]})
    code = parse_qs(urlsplit(ok.headers["location"]).query)["code"][0]
    tokens = await p.client.post(TOKEN, data={**exchange, "code": code, "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    assert (await p.client.get("/v1/tenants", headers=bearer(tokens.json()["access_token"]))).status_code == 200
    replay = await p.client.post(TOKEN, data={**exchange, "code": code, "code_verifier": verifier})
    assert replay.status_code == 400, "a code is used once"
    operator = await p.client.post(auth, data={**params, "username": "demo-ministry",
                                               "password": p.credentials["demo-ministry"]["password"]})
    assert operator.status_code == 400 and "one-time code" in operator.text
    totp = pyotp.TOTP(p.credentials["demo-ministry"]["totp-secret"]).at(p.clock.now())
    operator = await p.client.post(auth, data={**params, "username": "demo-ministry", "totp": totp,
                                               "password": p.credentials["demo-ministry"]["password"]})
    assert operator.status_code == 302


async def test_a_refresh_token_raced_by_two_requests_is_used_once(issuer_platform):
    import asyncio

    p = issuer_platform
    refresh = (await p.login("demo-expert")).json()["refresh_token"]
    replies = await asyncio.gather(*[
        p.client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": refresh}) for _ in range(4)])
    assert sorted(r.status_code for r in replies) == [200, 400, 400, 400]


async def test_a_person_gets_only_person_scopes(issuer_platform):
    p = issuer_platform
    data = {"grant_type": "password", "username": "demo-expert", "scope": "openid xapi admin " + "x" * 300,
            "password": p.credentials["demo-expert"]["password"]}
    response = await p.client.post(TOKEN, data=data)
    assert response.status_code == 200, response.text
    assert jwt.decode(response.json()["access_token"], options={"verify_signature": False})["scope"] == "openid"
