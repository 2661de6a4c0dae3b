"""Sharing agreements (SPEC SH-2) and the reads they grant department liaisons."""

from __future__ import annotations

import uuid

from tests.gateway.helpers import assert_problem, bearer
from tests.sharing.test_records import accident, publish

TENANT = "140000"  # Shanxi: no other test publishes there
PO = {"tenant": TENANT, "roles": ("provincial_operator",)}


def agreement(consumer: str, **overrides) -> dict:
    body = {"provider_organisation": f"organisations/{uuid.uuid4().hex}",
            "consumer_organisation": f"organisations/{consumer}", "record_type": "accidents",
            "granted_fields": ["occurred_at", "industry_code", "severity"], "purpose": "occupational health follow-up",
            "legal_basis": "Occupational Disease Prevention Law", "valid_from": "2020-01-01",
            "valid_until": "2099-12-31"}
    body.update(overrides)
    return body


async def test_liaison_sees_only_what_an_active_agreement_grants(platform, issuer):
    health = uuid.uuid4().hex
    liaison = bearer(issuer, tenant=TENANT, roles=("department_liaison",), org=health)
    record = (await publish(platform, issuer, accident(), **PO)).json()
    url = f"/v1/accidents/{record['id']}"

    assert_problem(await platform.client.get(url, headers=liaison), 404)
    assert (await platform.client.get("/v1/accidents", headers=liaison)).json()["accidents"] == []

    created = await platform.client.post("/v1/sharing-agreements", json=agreement(health), headers=bearer(issuer, **PO))
    assert created.status_code == 201, created.text
    granted = await platform.client.get(url, headers=liaison)
    assert granted.status_code == 200, granted.text
    data = set(granted.json()) - {"id", "tenant_code", "version", "status", "publisher_organisation", "fields",
                                  "create_time", "update_time"}
    assert data == {"occurred_at", "industry_code", "severity"}
    assert sorted(granted.json()["fields"]) == ["industry_code", "occurred_at", "severity"]
    listed = (await platform.client.get("/v1/accidents", headers=liaison)).json()["accidents"]
    assert [a["id"] for a in listed] == [record["id"]] and "employer" not in listed[0]
    # Filters on granted fields are allowed (on others they would reveal withheld values: 400).
    ranged = await platform.client.get("/v1/accidents", params={"occurred_from": "2020-01-01"}, headers=liaison)
    assert [a["id"] for a in ranged.json()["accidents"]] == [record["id"]]

    agreements = (await platform.client.get("/v1/sharing-agreements", headers=liaison)).json()["sharing_agreements"]
    assert [a["id"] for a in agreements] == [created.json()["id"]]

    revoked = await platform.client.post(f"/v1/sharing-agreements/{created.json()['id']}/revoke",
                                         headers=bearer(issuer, **PO))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert_problem(await platform.client.get(url, headers=liaison), 404)
    assert (await platform.client.get("/v1/accidents", headers=liaison)).json()["accidents"] == []


async def test_expired_or_other_consumers_agreements_grant_nothing(platform, issuer):
    health = uuid.uuid4().hex
    liaison = bearer(issuer, tenant=TENANT, roles=("department_liaison",), org=health)
    record = (await publish(platform, issuer, accident(), **PO)).json()
    for body in (agreement(health, valid_from="2020-01-01", valid_until="2020-12-31"),
                 agreement(uuid.uuid4().hex)):
        assert (await platform.client.post("/v1/sharing-agreements", json=body,
                                           headers=bearer(issuer, **PO))).status_code == 201
    assert_problem(await platform.client.get(f"/v1/accidents/{record['id']}", headers=liaison), 404)


async def test_agreement_validation_and_scope(platform, issuer):
    po = bearer(issuer, **PO)
    bad = agreement(uuid.uuid4().hex, granted_fields=["severity"], valid_from="2025-01-02", valid_until="2025-01-01")
    assert_problem(await platform.client.post("/v1/sharing-agreements", json=bad, headers=po), 400)
    foreign = agreement(uuid.uuid4().hex, tenant_code="110000")
    assert_problem(await platform.client.post("/v1/sharing-agreements", json=foreign, headers=po), 400)
    ministry = bearer(issuer, tenant="100000", roles=("ministry_operator",))
    national = await platform.client.post("/v1/sharing-agreements", json=agreement(uuid.uuid4().hex),
                                          headers=ministry)
    assert national.status_code == 201 and national.json()["tenant_code"] == "100000"
    # A provincial operator cannot revoke the ministry's agreement.
    assert_problem(await platform.client.post(f"/v1/sharing-agreements/{national.json()['id']}/revoke",
                                              headers=po), 404)


async def test_liaison_cannot_filter_on_withheld_fields(platform, issuer):
    health = uuid.uuid4().hex
    liaison = bearer(issuer, tenant=TENANT, roles=("department_liaison",), org=health)
    body = agreement(health, granted_fields=["severity"])
    assert (await platform.client.post("/v1/sharing-agreements", json=body,
                                       headers=bearer(issuer, **PO))).status_code == 201
    allowed = await platform.client.get("/v1/accidents", params={"severity": "minor"}, headers=liaison)
    assert allowed.status_code == 200
    refused = await platform.client.get("/v1/accidents", params={"industry_prefix": "C"}, headers=liaison)
    assert_problem(refused, 400)
