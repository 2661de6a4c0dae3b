"""Bulletins (SPEC SH-7): the ministry circulates typical accidents; provinces acknowledge;
the ministry sees which provinces have not."""

from __future__ import annotations

import uuid

from tests.gateway.helpers import assert_problem, bearer

MO = {"tenant": "100000", "roles": ("ministry_operator",)}
PROVINCES = 32


def bulletin(**overrides) -> dict:
    body = {"title": f"Scaffold collapse {uuid.uuid4().hex[:8]}",
            "body": "Guardrails were missing; inspect scaffolding before every shift.",
            "occurred_at": "2025-04-02", "region_code": "320000", "industry_code": "E4720",
            "accident_type": "collapse", "severity": "fatal", "fatalities": 2, "persons_injured": 3}
    body.update(overrides)
    return body


async def create(platform, issuer, body: dict | None = None, sub: str | None = None, **headers):
    return await platform.client.post("/v1/bulletins", json=body or bulletin(),
                                      headers={**bearer(issuer, **MO, sub=sub), **headers})


async def test_ministry_circulates_and_provinces_acknowledge(platform, issuer):
    created = await create(platform, issuer)
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["acknowledged"] is False and item["severity"] == "fatal" and item["fatalities"] == 2
    url = f"/v1/bulletins/{item['id']}"

    beijing = bearer(issuer, tenant="110000", roles=("provincial_operator",))
    tianjin = bearer(issuer, tenant="120000", roles=("provincial_operator",))
    for headers in (beijing, tianjin):
        listed = await platform.client.get("/v1/bulletins", params={"page_size": 100}, headers=headers)
        assert listed.status_code == 200, listed.text
        mine = [b for b in listed.json()["bulletins"] if b["id"] == item["id"]]
        assert len(mine) == 1 and mine[0]["acknowledged"] is False

    first = await platform.client.post(f"{url}/acknowledge", headers=beijing)
    assert first.status_code == 200, first.text
    assert first.json()["acknowledged"] is True and first.json()["acknowledge_time"]
    again = await platform.client.post(f"{url}/acknowledge", headers=beijing)
    assert again.status_code == 200 and again.json() == first.json()

    assert (await platform.client.get(url, headers=beijing)).json()["acknowledged"] is True
    assert (await platform.client.get(url, headers=tianjin)).json()["acknowledged"] is False
    listed = (await platform.client.get("/v1/bulletins", params={"page_size": 100}, headers=beijing)).json()
    assert [b["acknowledged"] for b in listed["bulletins"] if b["id"] == item["id"]] == [True]

    pending = await platform.client.get(f"{url}/unacknowledged", headers=bearer(issuer, **MO))
    assert pending.status_code == 200, pending.text
    codes = pending.json()["province_codes"]
    assert "110000" not in codes and "120000" in codes
    assert len(codes) == PROVINCES - 1 and codes == sorted(codes)
    assert [a["province_code"] for a in pending.json()["acknowledgements"]] == ["110000"]


async def test_everyone_authenticated_reads_bulletins(platform, issuer):
    item = (await create(platform, issuer)).json()
    for who in ({"tenant": "110105", "roles": ("employer_officer",), "org": uuid.uuid4().hex},
                {"tenant": "440000", "roles": ("trainee",)}, MO):
        response = await platform.client.get(f"/v1/bulletins/{item['id']}", headers=bearer(issuer, **who))
        assert response.status_code == 200, response.text
        assert response.json()["acknowledged"] is False


async def test_roles_are_enforced(platform, issuer):
    item = (await create(platform, issuer)).json()
    po = bearer(issuer, tenant="110000", roles=("provincial_operator",))
    assert_problem(await platform.client.post("/v1/bulletins", json=bulletin(), headers=po), 403)
    eo = bearer(issuer, tenant="110000", roles=("employer_officer",), org=uuid.uuid4().hex)
    assert_problem(await platform.client.post(f"/v1/bulletins/{item['id']}/acknowledge", headers=eo), 403)
    assert_problem(await platform.client.get(f"/v1/bulletins/{item['id']}/unacknowledged", headers=po), 403)
    # A prefecture's operator does not acknowledge for its province.
    city = bearer(issuer, tenant="110100", roles=("provincial_operator",))
    assert_problem(await platform.client.post(f"/v1/bulletins/{item['id']}/acknowledge", headers=city), 403,
                   reason="NOT_A_PROVINCE")


async def test_unknown_bulletin_is_404(platform, issuer):
    unknown = uuid.uuid4().hex
    po = bearer(issuer, tenant="110000", roles=("provincial_operator",))
    assert_problem(await platform.client.get(f"/v1/bulletins/{unknown}", headers=po), 404)
    assert_problem(await platform.client.post(f"/v1/bulletins/{unknown}/acknowledge", headers=po), 404)
    assert_problem(await platform.client.get(f"/v1/bulletins/{unknown}/unacknowledged",
                                             headers=bearer(issuer, **MO)), 404)


async def test_create_is_idempotent_by_key(platform, issuer):
    key = uuid.uuid4().hex
    body = bulletin()
    sub = f"mo-{uuid.uuid4().hex}"  # keys are scoped per caller
    first = await create(platform, issuer, body, sub=sub, **{"Idempotency-Key": key})
    second = await create(platform, issuer, body, sub=sub, **{"Idempotency-Key": key})
    assert first.status_code == second.status_code == 201 and first.json()["id"] == second.json()["id"]
    assert_problem(await create(platform, issuer, bulletin(), sub=sub, **{"Idempotency-Key": key}), 422)


async def test_validation_errors_name_fields(platform, issuer):
    problem = assert_problem(await create(platform, issuer, bulletin(title="", region_code="999999",
                                                                     fatalities=-1)), 400)
    fields = {v["field"] for v in problem["violations"]}
    assert {"title", "region_code", "fatalities"} <= fields, problem
    # Rules only the service knows are reported with the field too.
    problem = assert_problem(await create(platform, issuer, bulletin(occurred_at="2999-01-01", industry_code="A4720",
                                                                     severity="minor", fatalities=1)), 400)
    fields = {v["field"] for v in problem["violations"]}
    assert {"bulletin.occurred_at", "bulletin.industry_code", "bulletin.severity"} <= fields, problem


async def test_list_pages_newest_first(platform, issuer):
    ids = [(await create(platform, issuer)).json()["id"] for _ in range(3)]
    headers = bearer(issuer, tenant="120000", roles=("provincial_operator",))
    first = (await platform.client.get("/v1/bulletins", params={"page_size": 2}, headers=headers)).json()
    assert len(first["bulletins"]) == 2 and first["next_page_token"]
    params = {"page_size": 2, "page_token": first["next_page_token"]}
    second = (await platform.client.get("/v1/bulletins", params=params, headers=headers)).json()
    seen = [b["id"] for b in first["bulletins"] + second["bulletins"]]
    assert seen[:3] == ids[::-1] and len(seen) == len(set(seen))
