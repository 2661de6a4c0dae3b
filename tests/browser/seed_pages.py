"""Data for the console's analytics pages, seeded through the REST API as the provinces would
publish it: exposure (insured persons) and recognised injuries for the previous calendar year and
its plan's baseline year, in two key divisions and one other, with distinct figures per province
(so one province's numbers are recognisable on another's page); and a rectification notice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.browser.conftest_names import BEIJING, TIANJIN

# (division, year offset from the previous year's plan baseline or the year, insured, recognitions)
# "base" = the plan's baseline year, "year" = the previous calendar year (the analytics default).
ANALYTICS = {
    BEIJING: [("C26", "base", 50_000, 20), ("C26", "year", 60_000, 18), ("E47", "base", 100_000, 50),
              ("E47", "year", 100_000, 45), ("H61", "year", 20_000, 10)],
    TIANJIN: [("C26", "base", 40_000, 16), ("C26", "year", 40_000, 10), ("E47", "base", 60_000, 30),
              ("E47", "year", 60_000, 21)],
}
DIVISION_CODE = {"C26": "C2611", "E47": "E4710", "H61": "H6110"}


def baseline_of(year: int) -> int:
    return 2020 if year <= 2025 else 2025


async def seed_pages(p) -> None:
    year = datetime.now(UTC).year - 1  # tests never run at New Year's midnight (CST vs UTC)
    years = {"base": baseline_of(year), "year": year}
    for user, rows in ANALYTICS.items():
        headers = {"Authorization": f"Bearer {await p.token(user)}"}
        exposures = [{"industry_code": division, "year": years[when], "insured_persons": insured}
                     for division, when, insured, _ in rows]
        response = await p.client.put("/v1/exposure", json={"exposures": exposures}, headers=headers)
        assert response.status_code == 200, response.text
        for division, when, _, recognitions in rows:
            for _ in range(recognitions):
                body = {"publisher_record_id": f"rec-{uuid.uuid4().hex}", "injured_at": f"{years[when]}-02-01",
                        "recognised_at": f"{years[when]}-03-01", "employer": f"organisations/{uuid.uuid4().hex}",
                        "industry_code": DIVISION_CODE[division]}
                response = await p.client.post("/v1/recognitions", json=body, headers=headers)
                assert response.status_code == 201, response.text
    headers = {"Authorization": f"Bearer {await p.token(BEIJING)}"}
    deadline = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    response = await p.client.post("/v1/rectification-notices", headers=headers, json={
        "employer": f"organisations/{uuid.uuid4().hex}", "source": f"hazardReports/{uuid.uuid4().hex}",
        "source_type": "hazard_report", "required_action": "更换冲压设备防护罩", "deadline_date": deadline})
    assert response.status_code == 201, response.text


REGION = "110105"  # a Beijing pooling region: its projects' budget and its premium-rate run
SEEDED: dict[str, str] = {}
DOCUMENTS = ("application_form", "feasibility_report", "implementation_plan", "cost_estimate", "qualification")


async def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


async def seed_assessment(p) -> None:
    """Filings (Beijing's acknowledged, Tianjin's awaiting acknowledgement), a Beijing project
    approved against its region's cap and one submitted, and a finished premium-rate run."""
    from tests.isolation.resources import harness_uscc

    year = datetime.now(UTC).year
    beijing = {"Authorization": f"Bearer {await p.token(BEIJING)}"}
    tianjin = {"Authorization": f"Bearer {await p.token(TIANJIN)}"}
    ministry = {"Authorization": f"Bearer {await p.token('demo-ministry')}"}
    for headers, tenant in ((beijing, "110000"), (tianjin, "120000")):
        filing = await _ok(await p.client.post("/v1/filings", headers=headers, json={
            "kind": "implementation_plan", "document_object": f"{tenant}/assessment/filing/plan",
            "summary": "实施方案"}), 201)
        if tenant == "110000":
            await _ok(await p.client.post(f"/v1/{filing['name']}/review", headers=ministry,
                                          json={"decision": "acknowledge"}))

    # An employer officer of a Beijing employer applies; the province approves one project.
    employer = await _ok(await p.client.post("/v1/organisations", headers=beijing, json={
        "type": "employer", "display_name": f"浏览器测试企业 {uuid.uuid4().hex[:6]}",
        "employer": {"uscc": harness_uscc(), "industry_code": "C2611", "risk_class": 3, "headcount": 10,
                     "insured_headcount": 8, "pooling_region_code": "110000"}}), 201)
    username, password = f"browser-{uuid.uuid4().hex[:10]}", f"pw-{uuid.uuid4().hex}"
    await _ok(await p.client.post("/v1/users", headers=beijing, json={
        "username": username, "display_name": "Browser Applicant", "roles": ["employer_officer"],
        "password": password, "organisation": f"organisations/{employer['id']}"}), 201)
    token = await _ok(await p.client.post("/realms/prevention/protocol/openid-connect/token", data={
        "grant_type": "password", "client_id": "prevention-console", "username": username, "password": password}))
    applicant = {"Authorization": f"Bearer {token['access_token']}"}
    await _ok(await p.client.post("/v1/fund-incomes", headers=beijing, json={"rows": [
        {"pooling_region": REGION, "year": year - 1, "premium_income_fen": 10**12}]}))
    call = await _ok(await p.client.post("/v1/project-calls", headers=beijing, json={
        "title": "工伤预防项目", "year": year, "closes_on": "2099-12-31",
        "guideline_object": "110000/assessment/guideline/g1",
        "template_form_object": "110000/assessment/template_form/t1"}), 201)
    names = []
    for title in ("粉尘培训", "噪声宣传"):
        project = await _ok(await p.client.post("/v1/projects", headers=applicant, json={
            "call": call["name"], "title": title, "category": "training", "pooling_region": REGION,
            "requested_budget_fen": 100_000_00, "planned_start": f"{year}-03-01", "planned_end": f"{year + 1}-02-28",
            "documents": [{"kind": k, "object_key": f"110000/assessment/project_document/{k}"} for k in DOCUMENTS]}),
            201)
        names.append(project["name"])
    for step in ({"action": "start_review"},
                 {"action": "approve", "approval": {"budget_fen": 80_000_00, "start_date": f"{year}-03-01",
                                                    "end_date": f"{year + 1}-02-28"}}):
        await _ok(await p.client.post(f"/v1/{names[0]}/transitions", headers=beijing, json=step))

    # A premium-rate run over two employers in the region.
    rows = "".join(f"{harness_uscc()},{year - 1},5,1000000,{benefits},1,0\r\n" for benefits in (4000000, 100000))
    csv = "employer,year,risk_class,premiums_paid_fen,benefits_paid_fen,injuries,fatal_accidents\r\n" + rows
    imported = await _ok(await p.client.post("/v1/rate-inputs/import", headers=beijing, data={"pooling_region": REGION},
                                             files={"file": ("inputs.csv", csv.encode("utf-8"), "text/csv")}))
    assert imported["imported"] == 2, imported
    run = await _ok(await p.client.post("/v1/rate-runs", headers=beijing,
                                        json={"pooling_region": REGION, "cycle_end_year": year - 1}), 201)
    assert run["state"] == "completed", run
    SEEDED["rate_run"] = run["name"].removeprefix("rateRuns/")
