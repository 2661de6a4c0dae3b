"""What raises a rectification notice by itself (SPEC SH-5): publishing a hazard report, or a
hazard-factor measurement over its limit, issues one notice to the employer in the same
transaction, citing the law of its source type; a measurement within its limit raises none, and
a replayed publish raises no second notice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.common.clock import cst_date
from services.sharing.records import RECTIFICATION_DAYS
from tests.gateway.helpers import bearer

PO = {"tenant": "110000", "roles": ("provincial_operator",)}


async def notices_of(platform, issuer, employer_id: str) -> list[dict]:
    response = await platform.client.get("/v1/rectification-notices", headers=bearer(
        issuer, tenant="110000", roles=("employer_officer",), org=employer_id))
    assert response.status_code == 200, response.text
    return response.json()["rectification_notices"]


async def test_a_hazard_report_raises_one_notice_to_its_employer(platform, issuer):
    employer = uuid.uuid4().hex
    report = {"publisher_record_id": f"hz-{uuid.uuid4().hex}", "reported_at": "2025-06-01",
              "employer": f"organisations/{employer}", "industry_code": "E4720", "level": "major",
              "category": "material", "description": "scaffold guardrail missing"}
    created = await platform.client.post("/v1/hazard-reports", json=report, headers=bearer(issuer, **PO))
    assert created.status_code == 201, created.text
    replay = await platform.client.post("/v1/hazard-reports", json=report, headers=bearer(issuer, **PO))
    assert replay.status_code in (200, 201), replay.text

    [notice] = await notices_of(platform, issuer, employer)
    assert notice["source"] == f"hazardReports/{created.json()['id']}"
    assert (notice["source_type"], notice["law"], notice["state"]) == ("hazard_report", "work_safety_law", "issued")
    assert notice["deadline_date"] == (cst_date(datetime.now(UTC)) + timedelta(days=RECTIFICATION_DAYS)).isoformat()


async def test_only_a_measurement_over_its_limit_raises_a_notice(platform, issuer):
    employer = uuid.uuid4().hex

    def measurement(value: float) -> dict:
        return {"publisher_record_id": f"m-{uuid.uuid4().hex}", "measured_at": "2025-06-01",
                "employer": f"organisations/{employer}", "industry_code": "B0610", "factor": "silica_dust",
                "value": value, "unit": "mg/m3", "limit_value": 1.0}

    within = await platform.client.post("/v1/measurements", json=measurement(1.0), headers=bearer(issuer, **PO))
    assert within.status_code == 201, within.text
    assert await notices_of(platform, issuer, employer) == []

    over = await platform.client.post("/v1/measurements", json=measurement(1.6), headers=bearer(issuer, **PO))
    [notice] = await notices_of(platform, issuer, employer)
    assert notice["source"] == f"measurements/{over.json()['id']}"
    assert (notice["source_type"], notice["law"]) == ("measurement_exceedance", "occupational_disease_prevention_law")


async def test_closure_per_tenant_counts_notices_due_in_the_year(platform, issuer):
    """GET /v1/rectification-closure: the scorecards' closure rate input (AS-5). Counted as a
    difference, since other tests issue notices on the same shared platform."""
    from tests.sharing.rectification_support import TENANT, dl, eo, notice_body, org, po

    year = 2031

    async def closure(headers) -> dict[str, tuple[int, int]]:
        response = await platform.client.get(f"/v1/rectification-closure?year={year}", headers=headers)
        assert response.status_code == 200, response.text
        return {t["tenant_code"]: (t["due"], t["closed"]) for t in response.json()["tenants"]}

    ministry = bearer(issuer, tenant="100000", roles=("ministry_operator",))
    before = (await closure(ministry)).get(TENANT, (0, 0))
    department, employer = org(), org()
    ids = []
    for day in ("2031-03-01", "2031-11-30"):
        created = await platform.client.post("/v1/rectification-notices", json=notice_body(
            employer, deadline_date=day), headers=dl(issuer, department))
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    responded = await platform.client.post(f"/v1/rectification-notices/{ids[0]}/respond",
                                           json={"response": "Done.", "evidence": []}, headers=eo(issuer, employer))
    assert responded.status_code == 200, responded.text
    verified = await platform.client.post(f"/v1/rectification-notices/{ids[0]}/verify", json={"reason": "Seen."},
                                          headers=po(issuer))
    assert verified.status_code == 200, verified.text

    after = (await closure(ministry))[TENANT]
    assert (after[0] - before[0], after[1] - before[1]) == (2, 1)
    assert (await closure(po(issuer)))[TENANT] == after
    assert TENANT not in await closure(po(issuer, tenant="120000"))
    refused = await platform.client.get("/v1/rectification-closure?year=1999", headers=ministry)  # no year = this year
    assert refused.status_code == 422 or refused.status_code == 400
