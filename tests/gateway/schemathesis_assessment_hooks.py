"""Assessment rules a JSON Schema cannot state, for schemathesis' positive cases (RELIABILITY S15).
Enumerations, name patterns and bounds the service checks are in the schema itself
(gateway/schemas/assessment_work.py); what is left depends on the caller or relates fields:
object keys start with the caller's tenant (110000/assessment/<kind>/<id>); pooling and expert
regions lie in the caller's province; dates are real calendar dates, a project ends after it
starts and within two years, a reward/penalty decision is not in the future; an application
carries each of the five required documents; some transitions need a reason, `approve` an
approval; a scorecard lists each indicator once with weights summing to 1 and target != floor;
rule-set parameters are the known ones; an arbitrary upload is no rate-input file.
Negative cases are untouched."""

from __future__ import annotations

from datetime import date, timedelta

import schemathesis

from tests.gateway.schemathesis_sharing_hooks import _positive, _real_date

TENANT = "110000"  # test_schemathesis calls as a provincial operator of Beijing
DOCUMENT_KINDS = ("application_form", "feasibility_report", "implementation_plan", "cost_estimate", "qualification")
REASON_REQUIRED = {"withdraw", "reject", "terminate", "fail_acceptance", "record_check"}


def _key(kind: str) -> str:
    """A document every test platform holds (tests/support/platform.py uploads them)."""
    return f"{TENANT}/assessment/{kind}/" + {"guideline": "g1", "template_form": "t1"}.get(kind, "application_form")


def _region(code) -> str:
    """A region of the caller's province with the generated code's tail."""
    code = code if isinstance(code, str) and len(code) == 6 and code.isdigit() else "000000"
    return TENANT[:2] + code[2:]


def _span(start, end, *, start_field: str, end_field: str, body: dict) -> dict:
    """Real dates, end after start and at most two years later (the service's project duration)."""
    first = date.fromisoformat(_real_date(start, latest=date(2090, 1, 1)))
    last = date.fromisoformat(_real_date(end))
    if not first < last <= first + timedelta(days=365):
        last = first + timedelta(days=30)
    return {**body, start_field: first.isoformat(), end_field: last.isoformat()}


def _hook(method: str, path: str):
    def register(rule):
        @schemathesis.hook.apply_to(method=method, path=path)
        def map_case(context, case):
            if _positive(case) and isinstance(case.body, dict):
                case.body = rule(dict(case.body))
            return case
        return rule
    return register


@_hook("POST", "/v1/project-calls")
def _project_call(body: dict) -> dict:
    return {**body, "guideline_object": _key("guideline"), "template_form_object": _key("template_form"),
            "closes_on": _real_date(body.get("closes_on"))}


@_hook("POST", "/v1/projects")
def _project(body: dict) -> dict:
    body = _span(body.get("planned_start"), body.get("planned_end"), start_field="planned_start",
                 end_field="planned_end", body=body)
    body["documents"] = [{"kind": kind, "object_key": _key("project_document")} for kind in DOCUMENT_KINDS]
    body["pooling_region"] = _region(body["pooling_region"]) if body.get("pooling_region") else ""
    body["milestones"] = [{**m, "due_date": _real_date(m.get("due_date"))} for m in body.get("milestones", [])
                          if isinstance(m, dict)]
    return body


@_hook("POST", "/v1/projects/{project_id}/transitions")
def _transition(body: dict) -> dict:
    if body.get("action") in REASON_REQUIRED and not str(body.get("reason", "")).strip():
        body["reason"] = "schemathesis"
    if body.get("action") == "approve" and not isinstance(body.get("approval"), dict):
        body["approval"] = {"budget_fen": 100, "start_date": "2026-01-01", "end_date": "2026-12-31"}
    if isinstance(body.get("approval"), dict):
        approval = body["approval"]
        body["approval"] = _span(approval.get("start_date"), approval.get("end_date"), start_field="start_date",
                                 end_field="end_date", body=approval)
    return body


@_hook("POST", "/v1/experts")
def _expert(body: dict) -> dict:
    return {**body, "region_code": _region(body.get("region_code"))}


@_hook("POST", "/v1/rate-rule-sets")
def _rule_set(body: dict) -> dict:
    return {**body, "pooling_region": _region(body.get("pooling_region")), "parameters": {}}


@_hook("POST", "/v1/rate-runs")
def _rate_run(body: dict) -> dict:
    return {**body, "pooling_region": _region(body.get("pooling_region"))}


@_hook("POST", "/v1/filings")
def _filing(body: dict) -> dict:
    body = {**body, "document_object": _key("filing")}
    if body.get("kind") == "annual_report":
        body["year"] = min(max(body.get("year", 2024), 2000), 2024)
    return body


@_hook("PUT", "/v1/scorecard-configs/{year}")
def _scorecard_config(body: dict) -> dict:
    indicators, seen = [], set()
    for item in body.get("indicators", []):
        if isinstance(item, dict) and item.get("indicator") not in seen:
            seen.add(item.get("indicator"))
            target = item.get("target") if item.get("target") != item.get("floor") else f"{item.get('floor')}1"
            indicators.append({**item, "target": target, "weight": "0"})
    if indicators:
        indicators[0]["weight"] = "1"
    return {**body, "indicators": indicators}


@_hook("POST", "/v1/reward-penalty-records")
def _reward_penalty(body: dict) -> dict:
    return {**body, "decided_on": _real_date(body.get("decided_on"), latest=date(2025, 1, 1))}


@schemathesis.hook.apply_to(method="GET", path="/v1/budget-status")
def map_case(context, case):
    """Region and year are required by the service, not the schema."""
    if _positive(case):
        query = dict(case.query or {})
        case.query = {**query, "pooling_region": _region(query.get("pooling_region")),
                      "year": query.get("year") or 2025}
    return case


@schemathesis.hook.apply_to(method="POST", path="/v1/rate-inputs/import")
def filter_case(context, case):
    """An arbitrary file is not a rate-input file: its positive cases are refused with 400 naming
    the file or its header (tests/assessment cover the import). Negative cases stay."""
    return not _positive(case)
