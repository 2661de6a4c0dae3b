"""Local key industries (SPEC SH-8, 7.7: "each tenant may add local key industries to the national
five") through REST: a provincial operator adds one to its tenant, a retry replays, a clash is 409,
bad input names each field and stores nothing, another tenant neither sees nor removes it. Their
effect on the analytics is in tests/sharing/test_analytics.py."""

from __future__ import annotations

import uuid

import pytest

from tests.gateway.helpers import assert_problem, bearer, violation_fields
from tests.sharing.feedkit import fresh_tenant, po

pytestmark = pytest.mark.db

MO = {"tenant": "100000", "roles": ("ministry_operator",)}


def body(**overrides) -> dict:
    return {"code": f"water_{uuid.uuid4().hex[:8]}", "display_name": "水利管理", "display_name_en": "Water management",
            "divisions": ["N76", "N77"], **overrides}


async def listed(platform, issuer, who: dict) -> dict[tuple[str, str], dict]:
    response = await platform.client.get("/v1/key-industries", params={"page_size": 500},
                                         headers=bearer(issuer, **who))
    assert response.status_code == 200, response.text
    return {(k["tenant_code"], k["code"]): k for k in response.json()["key_industries"]}


async def test_a_tenant_adds_replays_and_removes_a_local_key_industry(platform, issuer):
    tenant, other = fresh_tenant("45"), fresh_tenant("45")
    mine, theirs = bearer(issuer, **po(tenant)), bearer(issuer, **po(other))
    new = body()
    created = await platform.client.post("/v1/key-industries", json=new, headers=mine)
    assert created.status_code == 201, created.text
    assert created.json() == {**new, "tenant_code": tenant}
    again = await platform.client.post("/v1/key-industries", json=new, headers=mine)  # a retry
    assert (again.status_code, again.json()) == (200, created.json())
    assert_problem(await platform.client.post("/v1/key-industries", json={**new, "divisions": ["N78"]}, headers=mine),
                   409, reason="KEY_INDUSTRY_EXISTS")
    assert_problem(await platform.client.post("/v1/key-industries", json=body(code="mining"), headers=mine),
                   409, reason="KEY_INDUSTRY_EXISTS")  # a code of the national five

    key = (tenant, new["code"])
    assert key in await listed(platform, issuer, po(tenant))
    assert key in await listed(platform, issuer, MO)
    assert key not in await listed(platform, issuer, po(other))
    national = [k for k in await listed(platform, issuer, po(other)) if k[0] == "100000"]
    assert len(national) == 5

    # Another tenant's code is not found for it; the same code is free in its own tenant.
    assert_problem(await platform.client.delete(f"/v1/key-industries/{new['code']}", headers=theirs), 404)
    assert key in await listed(platform, issuer, po(tenant))
    theirs_created = await platform.client.post("/v1/key-industries", json={**new, "divisions": ["N78"]},
                                                headers=theirs)
    assert theirs_created.status_code == 201 and theirs_created.json()["tenant_code"] == other

    # The ministry edits no key industry through the API (the national five are seed data).
    assert_problem(await platform.client.post("/v1/key-industries", json=body(), headers=bearer(issuer, **MO)), 403)

    removed = await platform.client.delete(f"/v1/key-industries/{new['code']}", headers=mine)
    assert removed.status_code == 204, removed.text
    assert key not in await listed(platform, issuer, po(tenant))
    assert (other, new["code"]) in await listed(platform, issuer, MO)
    assert_problem(await platform.client.delete(f"/v1/key-industries/{new['code']}", headers=mine), 404)


@pytest.mark.parametrize(("overrides", "fields"), [
    ({"code": "Water Management"}, ["code"]),
    ({"display_name": "   "}, ["key_industry.display_name"]),
    ({"divisions": []}, ["divisions"]),
    ({"divisions": ["A26"]}, ["key_industry.divisions[0]"]),  # division 26 is in section C
    ({"divisions": ["N76", "N7"]}, ["key_industry.divisions[1]"]),
    ({"divisions": ["N761"]}, ["divisions.0"]),  # a class, not a division
    ({"divisions": ["N76", "N76"]}, ["key_industry.divisions[1]"]),
    ({"code": "x", "divisions": ["A26", "N76", "B99"]},
     ["key_industry.code", "key_industry.divisions[0]", "key_industry.divisions[2]"]),
    ({"tenant_code": "110000"}, ["tenant_code"]),
])
async def test_bad_input_names_each_field_and_stores_nothing(platform, issuer, overrides, fields):
    tenant = fresh_tenant("45")
    before = await listed(platform, issuer, po(tenant))
    response = await platform.client.post("/v1/key-industries", json=body(**overrides),
                                          headers=bearer(issuer, **po(tenant)))
    problem = assert_problem(response, 400)
    got = violation_fields(problem)
    assert all(any(f in g for g in got) for f in fields), (fields, got)
    assert await listed(platform, issuer, po(tenant)) == before
