"""The assessment REST routes end to end over the gateway (SPEC GW-1, 7.4): a project through its
state machine with an illegal step answering 409 problem+json naming the state, validation 400s
naming fields, and a rate run exported as CSV."""

from __future__ import annotations

import uuid

import pytest

from tests.assessment.helpers import unique_region
from tests.gateway.helpers import assert_problem, bearer
from tests.isolation.resources import harness_uscc

pytestmark = pytest.mark.db
TENANT = "340000"  # Anhui: no other test writes here
DOCUMENTS = ("application_form", "feasibility_report", "implementation_plan", "cost_estimate", "qualification")


def call_body() -> dict:
    return {"title": "Prevention projects 2026", "year": 2026, "closes_on": "2099-12-31",
            "guideline_object": f"{TENANT}/assessment/guideline/g1",
            "template_form_object": f"{TENANT}/assessment/template_form/t1"}


def project_body(call: str, region: str) -> dict:
    return {"call": call, "title": "Dust training", "category": "training", "pooling_region": region,
            "requested_budget_fen": 100_000_00, "planned_start": "2026-03-01", "planned_end": "2027-02-28",
            "documents": [{"kind": k, "object_key": f"{TENANT}/assessment/project_document/{k}"} for k in DOCUMENTS]}


async def test_project_over_rest(platform, issuer):
    po = bearer(issuer, tenant=TENANT)
    applicant = bearer(issuer, tenant=TENANT, roles=("employer_officer",), org=uuid.uuid4().hex)
    region = unique_region(TENANT)
    client = platform.client
    assert (await client.post("/v1/fund-incomes", headers=po, json={"rows": [
        {"pooling_region": region, "year": 2025, "premium_income_fen": 10**12}]})).json()["imported"] == 1
    call = (await client.post("/v1/project-calls", headers=po, json=call_body())).json()
    body = project_body(call["name"], region)
    created = await client.post("/v1/projects", headers=applicant, json=body)
    assert created.status_code == 201, created.text
    project_id = created.json()["name"].removeprefix("projects/")
    url = f"/v1/projects/{project_id}"

    problem = assert_problem(await client.post(f"{url}/transitions", headers=po, json={"action": "start"}), 409)
    assert "project is submitted" in problem["detail"]
    for step in ({"action": "start_review"},
                 {"action": "approve", "approval": {"budget_fen": 600_000_00, "start_date": "2026-03-01",
                                                    "end_date": "2027-02-28"}}):
        response = await client.post(f"{url}/transitions", headers=po, json=step)
        assert response.status_code == 200, response.text
    project = (await client.get(url, headers=applicant)).json()
    assert (project["state"], project["tender_required"], project["approved_budget_fen"]) == (
        "approved", True, "60000000")
    assert [t["action"] for t in project["transitions"]] == ["submit", "start_review", "approve"]

    problem = assert_problem(await client.post("/v1/projects", headers=applicant, json={**body, "documents": []}),
                             400)
    assert "project.documents" in {v["field"] for v in problem["violations"]}
    # Enumerations and numbers are the contract's (RELIABILITY S15): an unknown category, or `false`
    # for an amount, is refused by the gateway naming the field, not coerced to 0.
    for field, value in (("category", "x"), ("requested_budget_fen", False), ("requested_budget_fen", "100")):
        problem = assert_problem(await client.post("/v1/projects", headers=applicant, json={**body, field: value}),
                                 400)
        assert any(field in v["field"] for v in problem["violations"]), problem
    assert_problem(await client.get(url, headers=bearer(issuer, tenant="110000")), 404)


async def test_rate_run_export_over_rest(platform, issuer):
    po = bearer(issuer, tenant=TENANT)
    region = unique_region(TENANT)
    uscc = harness_uscc()
    csv = ("employer,year,risk_class,premiums_paid_fen,benefits_paid_fen,injuries,fatal_accidents\r\n"
           f"{uscc},2025,5,1000000,4000000,1,0\r\n")
    imported = await platform.client.post("/v1/rate-inputs/import", headers=po, data={"pooling_region": region},
                                          files={"file": ("inputs.csv", csv.encode("gb18030"), "text/csv")})
    assert imported.status_code == 200 and imported.json()["imported"] == 1, imported.text
    run = (await platform.client.post("/v1/rate-runs", headers=po,
                                      json={"pooling_region": region, "cycle_end_year": 2025})).json()
    assert run["state"] == "completed"
    run_id = run["name"].removeprefix("rateRuns/")
    listed = await platform.client.get("/v1/rate-runs", headers=po, params={"pooling_region": region})
    assert listed.status_code == 200, listed.text
    assert run["name"] in [r["name"] for r in listed.json()["rate_runs"]]
    problem = assert_problem(await platform.client.get("/v1/rate-runs", headers=po,
                                                       params={"pooling_region": "32x"}), 400)
    assert any("pooling_region" in v["field"] for v in problem["violations"]), problem
    results = (await platform.client.get(f"/v1/rate-runs/{run_id}/results", headers=po)).json()["rate_results"]
    assert [(r["employer"], r["tier"], r["rate"]) for r in results] == [(uscc, "150%", "0.01650")]
    exported = await platform.client.get(f"/v1/rate-runs/{run_id}/export", headers=po)
    assert exported.headers["content-type"].startswith("text/csv")
    assert uscc in exported.content.decode("utf-8-sig")
