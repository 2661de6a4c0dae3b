"""Rectification and joint-inspection rules a JSON Schema cannot state, for schemathesis' positive
cases (RELIABILITY S15): a notice's deadline is a real date not before today (CST); an inspection's
date is a real date; a finding concerns one of the inspected employers and a new finding carries no
id. Negative cases are untouched."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import schemathesis
from schemathesis.generation.modes import GenerationMode

from services.common.clock import cst_date


def _positive(case) -> bool:
    return case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE


def _deadline(value) -> str:
    today = cst_date(datetime.now(UTC))
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        day = today
    return max(day, today + timedelta(days=1)).isoformat()


def _inspection(body: dict) -> dict:
    body = dict(body)
    try:
        body["inspection_date"] = date.fromisoformat(body.get("inspection_date", "")).isoformat()
    except (TypeError, ValueError):
        body["inspection_date"] = "2026-11-20"
    employers = body.get("employers") or []
    if isinstance(body.get("findings"), list) and employers:
        body["findings"] = [{**f, "employer": employers[0], "id": ""} if isinstance(f, dict) else f
                            for f in body["findings"]]
    return body


@schemathesis.hook.apply_to(method="POST", path="/v1/rectification-notices")
def map_case(context, case):
    if _positive(case) and isinstance(case.body, dict):
        case.body = {**case.body, "deadline_date": _deadline(case.body.get("deadline_date"))}
        if case.body.get("source_type") == "inspection_finding" and not case.body.get("law"):
            case.body["law"] = "work_safety_law"
    return case


RAISE = "/v1/joint-inspections/{inspection_id}/findings/{finding_id}/raise-notice"


@schemathesis.hook.apply_to(method="POST", path=RAISE)
def map_case(context, case):  # noqa: F811 - one hook per operation
    if _positive(case) and isinstance(case.body, dict):
        case.body = {**case.body, "deadline_date": _deadline(case.body.get("deadline_date"))}
    return case


@schemathesis.hook.apply_to(method="POST", path="/v1/joint-inspections")
def map_case(context, case):  # noqa: F811
    if _positive(case) and isinstance(case.body, dict):
        case.body = _inspection(case.body)
    return case


@schemathesis.hook.apply_to(method="PUT", path="/v1/joint-inspections/{inspection_id}")
def map_case(context, case):  # noqa: F811
    if _positive(case) and isinstance(case.body, dict):
        case.body = _inspection(case.body)
    return case
