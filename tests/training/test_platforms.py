"""Recommended platform list (SPEC TR-6): registration, SSRF-safe base URLs (RELIABILITY S11),
recorded state transitions, the public list, and the ``may_push`` seam the learning-record store uses."""

from __future__ import annotations

import uuid

import pytest

from services.training.recommended import may_push
from tests.gateway.helpers import assert_problem, bearer
from tests.training.helpers import po

TENANT, OTHER = "440000", "430000"


def body(**overrides) -> dict:
    values = {"display_name": "Safety Academy Online", "kind": "platform",
              "base_url": f"https://academy-{uuid.uuid4().hex[:8]}.example.com/",
              "qualifications": ["MEM training licence 2025-017"], "client_ids": [f"academy-{uuid.uuid4().hex[:8]}"]}
    values.update(overrides)
    return values


async def allowed(platform, tenant: str, client_id: str) -> bool:
    async with platform.runtimes["training"].database.sessionmaker() as session:
        return await may_push(session, tenant_code=tenant, client_id=client_id)


@pytest.mark.db
async def test_register_suspend_reinstate_revoke_with_history(platform, issuer):
    created = await platform.client.post("/v1/training-platforms", json=body(), headers=po(issuer, TENANT))
    assert created.status_code == 201, created.text
    item = created.json()
    client_id = item["client_ids"][0]
    assert item["state"] == "recommended" and item["tenant_code"] == TENANT
    assert not item["base_url"].endswith("/")
    assert await allowed(platform, TENANT, client_id)
    assert not await allowed(platform, OTHER, client_id), "a list is per tenant"
    assert not await allowed(platform, TENANT, "someone-else")

    url = f"/v1/training-platforms/{item['id']}/state"
    suspended = await platform.client.post(url, json={"state": "suspended", "reason": "complaint under review"},
                                           headers=po(issuer, TENANT))
    assert suspended.status_code == 200 and suspended.json()["state"] == "suspended"
    assert not await allowed(platform, TENANT, client_id)
    again = await platform.client.post(url, json={"state": "recommended", "reason": "cleared"},
                                       headers=po(issuer, TENANT))
    assert again.json()["state"] == "recommended" and await allowed(platform, TENANT, client_id)
    revoked = await platform.client.post(url, json={"state": "revoked", "reason": "licence withdrawn"},
                                         headers=po(issuer, TENANT))
    assert revoked.json()["state"] == "revoked" and not await allowed(platform, TENANT, client_id)
    assert_problem(await platform.client.post(url, json={"state": "recommended", "reason": "x"},
                                              headers=po(issuer, TENANT)), 409, reason="ILLEGAL_TRANSITION")
    history = (await platform.client.get(f"/v1/training-platforms/{item['id']}", headers=po(issuer, TENANT))).json()
    assert [(t["from_state"], t["to_state"], t["reason"]) for t in history["transitions"]] == [
        ("", "recommended", "registered"), ("recommended", "suspended", "complaint under review"),
        ("suspended", "recommended", "cleared"), ("recommended", "revoked", "licence withdrawn")]
    assert all(t["actor"] and t["time"] for t in history["transitions"])


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/", "https://[::1]/", "https://169.254.169.254/latest", "https://10.0.0.1/",
    "file:///etc/passwd", "http://academy.example.com/", "https://localhost/", "https://user:pw@academy.example.com/",
    "https://[::ffff:127.0.0.1]/", "https://192.168.1.5/", "https://academy.internal/",
])
async def test_base_url_refuses_non_public_targets(platform, issuer, url):
    response = await platform.client.post("/v1/training-platforms", json=body(base_url=url),
                                          headers=po(issuer, TENANT))
    problem = assert_problem(response, 400)
    # The gateway's contract refuses what is not an https URL ("base_url"); the service refuses
    # non-public targets ("training_platform.base_url"). Either way only that field is named.
    assert [v["field"].removeprefix("training_platform.") for v in problem["violations"]] == ["base_url"]


@pytest.mark.db
async def test_account_home_page_refuses_loopback(platform, issuer):
    response = await platform.client.post("/v1/trainees", headers=po(issuer, TENANT), json={
        "display_name": "张三", "employer_id": "e1", "industry_code": "B06", "key_position": "deputy_head_in_charge",
        "accounts": [{"home_page": "https://127.0.0.1", "name": "u1"}]})
    problem = assert_problem(response, 400)
    assert [v["field"] for v in problem["violations"]] == ["trainee.accounts[0].home_page"]


@pytest.mark.db
async def test_duplicate_url_or_client_conflicts_and_retry_is_idempotent(platform, issuer):
    first = body()
    headers = {**po(issuer, TENANT), "Idempotency-Key": uuid.uuid4().hex}
    created = await platform.client.post("/v1/training-platforms", json=first, headers=headers)
    replay = await platform.client.post("/v1/training-platforms", json=first, headers=headers)
    assert created.status_code == replay.status_code == 201 and created.json()["id"] == replay.json()["id"]
    assert_problem(await platform.client.post("/v1/training-platforms", json={**first, "client_ids": []},
                                              headers=po(issuer, TENANT)), 409)
    assert_problem(await platform.client.post("/v1/training-platforms", json=body(client_ids=first["client_ids"]),
                                              headers=po(issuer, TENANT)), 409)


@pytest.mark.db
async def test_other_tenants_get_404_and_public_list_shows_recommended_only(platform, issuer):
    shown = (await platform.client.post("/v1/training-platforms", json=body(), headers=po(issuer, OTHER))).json()
    hidden = (await platform.client.post("/v1/training-platforms", json=body(), headers=po(issuer, OTHER))).json()
    await platform.client.post(f"/v1/training-platforms/{hidden['id']}/state", headers=po(issuer, OTHER),
                               json={"state": "suspended", "reason": "audit"})
    foreign = f"/v1/training-platforms/{shown['id']}"
    assert_problem(await platform.client.get(foreign, headers=po(issuer, TENANT)), 404)
    assert_problem(await platform.client.post(f"{foreign}/state", json={"state": "suspended", "reason": "x"},
                                              headers=po(issuer, TENANT)), 404)
    listed = (await platform.client.get("/v1/training-platforms", params={"page_size": 100},
                                        headers=po(issuer, TENANT))).json()
    assert shown["id"] not in [p["id"] for p in listed["training_platforms"]]
    ministry = await platform.client.get(foreign, headers=bearer(issuer, tenant="100000", roles=("ministry_operator",)))
    assert ministry.status_code == 200

    public = await platform.client.get("/v1/public/recommended-platforms", params={"tenant_code": OTHER})
    assert public.status_code == 200, public.text
    entries = {p["id"]: p for p in public.json()["training_platforms"]}
    assert shown["id"] in entries and hidden["id"] not in entries
    assert entries[shown["id"]]["client_ids"] == [] and entries[shown["id"]]["transitions"] == []
    assert_problem(await platform.client.get("/v1/public/recommended-platforms", params={"tenant_code": "x"}), 400)
