"""Harness samples for the assessment routes (issue 6): valid bodies, and objects in the caller's
own tenant (A) and in another (B). Imported by resources.py into SAMPLES."""

from __future__ import annotations

import uuid

from tests.isolation.resources import TENANT_A, TENANT_B, Params, Sample, fixed, harness_uscc

DOCUMENTS = ("application_form", "feasibility_report", "implementation_plan", "cost_estimate", "qualification")
NOT_FOR_MINISTRY = ("the ministry may not {what} (SPEC 7.3), so the ministry-200 leg does not apply; a foreign "
                    "id answering NOT_FOUND is tested in tests/assessment/")


async def rest(platform, issuer, tenant: str, role: str, method: str, path: str, json=None, **claims) -> dict:
    token = issuer.token(tenant=tenant, roles=[role], **claims)
    response = await platform.client.request(method, path, json=json, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 201), response.text
    return response.json()


def call_body(tenant: str = TENANT_A) -> dict:
    return {"title": f"harness call {uuid.uuid4().hex[:6]}", "year": 2026, "closes_on": "2099-12-31",
            "guideline_object": f"{tenant}/assessment/guideline/g1",
            "template_form_object": f"{tenant}/assessment/template_form/t1"}


def project_body(tenant: str = TENANT_A, call: str = "") -> dict:
    return {"call": call or f"projectCalls/{uuid.uuid4().hex}", "title": "harness project", "category": "training",
            "requested_budget_fen": 100_000_00, "planned_start": "2026-03-01", "planned_end": "2027-02-28",
            "documents": [{"kind": k, "object_key": f"{tenant}/assessment/project_document/{k}"} for k in DOCUMENTS]}


async def _project(platform, issuer, tenant: str) -> str:
    call = await rest(platform, issuer, tenant, "provincial_operator", "POST", "/v1/project-calls", call_body(tenant))
    project = await rest(platform, issuer, tenant, "service_institution", "POST", "/v1/projects",
                         project_body(tenant, call["name"]), org=uuid.uuid4().hex)
    return project["name"].removeprefix("projects/")


def call_in(tenant: str):
    async def make(platform, issuer) -> Params:
        call = await rest(platform, issuer, tenant, "provincial_operator", "POST", "/v1/project-calls",
                          call_body(tenant))
        return {"call_id": call["name"].removeprefix("projectCalls/"), "kind": "guideline"}
    return make


def project_document_in(tenant: str):
    async def make(platform, issuer) -> Params:
        return {"project_id": await _project(platform, issuer, tenant), "kind": "feasibility_report"}
    return make


def project_in(tenant: str):
    async def make(platform, issuer) -> Params:
        return {"project_id": await _project(platform, issuer, tenant)}
    return make


def expert_body(tenant: str = TENANT_A) -> dict:
    return {"display_name": "Harness Expert", "specialties": ["work_safety"], "region_code": tenant,
            "employer": f"organisations/{uuid.uuid4().hex}"}


def draw_in(tenant: str):
    async def make(platform, issuer) -> Params:
        await rest(platform, issuer, tenant, "provincial_operator", "POST", "/v1/experts", expert_body(tenant))
        project = await _project(platform, issuer, tenant)
        draw = await rest(platform, issuer, tenant, "provincial_operator", "POST",
                          f"/v1/projects/{project}/reviewer-draws", {"count": 1})
        return {"draw_id": draw["name"].removeprefix("reviewerDraws/")}
    return make


def rate_rows() -> dict:
    return {"rows": [{"pooling_region": TENANT_A, "employer": harness_uscc(), "year": 2025, "risk_class": 3,
                      "premiums_paid_fen": 1000, "benefits_paid_fen": 0}]}


def run_in(tenant: str):
    async def make(platform, issuer) -> Params:
        run = await rest(platform, issuer, tenant, "provincial_operator", "POST", "/v1/rate-runs",
                         {"pooling_region": tenant, "cycle_end_year": 2025})
        return {"run_id": run["name"].removeprefix("rateRuns/")}
    return make


def filing_body(tenant: str = TENANT_A) -> dict:
    return {"kind": "annual_report", "year": 2025, "document_object": f"{tenant}/assessment/filing/report-2025"}


def filing_in(tenant: str):
    """The province's 2025 annual report (a natural key: created once, then found)."""
    async def make(platform, issuer) -> Params:
        listed = await rest(platform, issuer, tenant, "provincial_operator", "GET", "/v1/filings?page_size=500")
        for item in listed["filings"]:
            if item["kind"] == "annual_report" and item["year"] == 2025:
                return {"filing_id": item["name"].removeprefix("filings/")}
        created = await rest(platform, issuer, tenant, "provincial_operator", "POST", "/v1/filings",
                             filing_body(tenant))
        return {"filing_id": created["name"].removeprefix("filings/")}
    return make


SCORECARD_CONFIG = {"indicators": [
    {"indicator": "key_industry_incidence_change", "floor": "0", "target": "-0.10", "weight": "0.4"},
    {"indicator": "training_coverage", "floor": "0.5", "target": "1.0", "weight": "0.2"},
    {"indicator": "rectification_closure_rate", "floor": "0.5", "target": "1.0", "weight": "0.2"},
    {"indicator": "on_time_filing_rate", "floor": "0", "target": "1", "weight": "0.1"},
    {"indicator": "project_acceptance_rate", "floor": "0", "target": "1", "weight": "0.1"}]}
NATIONAL_CONFIG = "scorecard configuration and computation are national, per year (SPEC AS-5)"
CSV = (b"employer,year,risk_class,premiums_paid_fen,benefits_paid_fen,injuries,fatal_accidents\r\n"
       b"91110000000000000X,2025,3,1000,0,0,0\r\n")

ASSESSMENT_SAMPLES: dict[str, Sample] = {
    "POST /v1/document-uploads": Sample(body=lambda: {"kind": "project_document", "content_type": "application/pdf"}),
    "GET /v1/project-calls/{call_id}/documents/{kind}": Sample(own=call_in(TENANT_A), foreign=call_in(TENANT_B)),
    "GET /v1/projects/{project_id}/documents/{kind}": Sample(own=project_document_in(TENANT_A),
                                                             foreign=project_document_in(TENANT_B)),
    "POST /v1/project-calls": Sample(body=call_body),
    "POST /v1/projects": Sample(body=project_body),
    "GET /v1/projects/{project_id}": Sample(own=project_in(TENANT_A), foreign=project_in(TENANT_B)),
    "POST /v1/projects/{project_id}/transitions": Sample(
        own=project_in(TENANT_A), not_tenant_data=NOT_FOR_MINISTRY.format(what="move projects"),
        body=lambda: {"action": "start_review"}),
    "POST /v1/projects/{project_id}/reviewer-draws": Sample(
        own=project_in(TENANT_A), not_tenant_data=NOT_FOR_MINISTRY.format(what="draw reviewers"),
        body=lambda: {"count": 1}),
    "POST /v1/projects/{project_id}/reviews": Sample(
        own=project_in(TENANT_A), not_tenant_data=NOT_FOR_MINISTRY.format(what="review projects"),
        body=lambda: {"score": 80, "recommendation": "approve", "opinion": "feasible"}),
    "GET /v1/reviewer-draws/{draw_id}/verification": Sample(own=draw_in(TENANT_A), foreign=draw_in(TENANT_B)),
    "POST /v1/fund-incomes": Sample(body=lambda: {"rows": [{"pooling_region": TENANT_A, "year": 2019,
                                                            "premium_income_fen": 1}]}),
    "GET /v1/budget-settings/{province}": Sample(own=fixed({"province": TENANT_A}),
                                                 foreign=fixed({"province": TENANT_B})),
    "PATCH /v1/budget-settings/{province}": Sample(own=fixed({"province": TENANT_A}),
                                                   foreign=fixed({"province": TENANT_B}),
                                                   body=lambda: {"cap_rate": "0.03"}),
    "POST /v1/experts": Sample(body=expert_body),
    "POST /v1/rate-inputs": Sample(body=rate_rows),
    "POST /v1/rate-inputs/import": Sample(body=lambda: {"pooling_region": TENANT_A},
                                          files=lambda: {"file": ("inputs.csv", CSV, "text/csv")}),
    "POST /v1/rate-rule-sets": Sample(body=lambda: {"pooling_region": TENANT_A, "parameters": {}}),
    "GET /v1/rate-rule-sets/{pooling_region}": Sample(own=fixed({"pooling_region": TENANT_A}),
                                                      foreign=fixed({"pooling_region": TENANT_B})),
    "POST /v1/rate-runs": Sample(body=lambda: {"pooling_region": TENANT_A, "cycle_end_year": 2025}),
    "POST /v1/rate-runs/{run_id}/resume": Sample(
        own=run_in(TENANT_A), not_tenant_data=NOT_FOR_MINISTRY.format(what="run rates"), body=lambda: {}),
    "GET /v1/rate-runs/{run_id}": Sample(own=run_in(TENANT_A), foreign=run_in(TENANT_B)),
    "GET /v1/rate-runs/{run_id}/results": Sample(own=run_in(TENANT_A), foreign=run_in(TENANT_B)),
    "GET /v1/rate-runs/{run_id}/export": Sample(own=run_in(TENANT_A), foreign=run_in(TENANT_B)),
    "POST /v1/filings": Sample(body=filing_body),
    "POST /v1/filings/{filing_id}/review": Sample(
        own=filing_in(TENANT_A), body=lambda: {"decision": "acknowledge"},
        not_tenant_data="only the ministry reviews filings; it sees every province, so there is no foreign id"),
    "GET /v1/scorecard-configs/{year}": Sample(own=fixed({"year": "2026"}), not_tenant_data=NATIONAL_CONFIG),
    "PUT /v1/scorecard-configs/{year}": Sample(own=fixed({"year": "2026"}), not_tenant_data=NATIONAL_CONFIG,
                                               body=lambda: SCORECARD_CONFIG),
    "POST /v1/scorecards/{year}/compute": Sample(own=fixed({"year": "2026"}), not_tenant_data=NATIONAL_CONFIG,
                                                 body=lambda: {}),
    "POST /v1/good-practice-cases": Sample(body=lambda: {"title": "harness case", "summary": "what worked",
                                                         "year": 2025}),
    "POST /v1/reward-penalty-records": Sample(body=lambda: {
        "organisation": f"organisations/{uuid.uuid4().hex}", "kind": "reward", "reason": "no accidents",
        "decided_on": "2025-06-01"}),
}
