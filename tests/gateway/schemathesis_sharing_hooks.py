"""Sharing rules a JSON Schema cannot state, for schemathesis' positive cases (RELIABILITY S15):
an accident did not occur in the future (CST); a GB/T 4754 division belongs to its section;
severity `fatal` exactly when fatalities >= 1; a publisher_record_id reused with other content is
409 (so each positive case gets a fresh one); dates are real calendar dates; an agreement's
validity does not end before it starts and its parties differ. Negative cases are untouched."""

from __future__ import annotations

import uuid
from datetime import date

import schemathesis
from schemathesis.generation.modes import GenerationMode

from services.common.validators import INDUSTRY_SECTIONS


def _positive(case) -> bool:
    return case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE


def _real_date(value: str, latest: date | None = None) -> str:
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        day = date(2024, 1, 1)
    if latest is not None and day > latest:
        day = latest
    return day.isoformat()


def _industry(code: str) -> str:
    section = code[:1]
    if section not in INDUSTRY_SECTIONS:
        return "C2611"
    low, _ = INDUSTRY_SECTIONS[section]
    division = int(code[1:3]) if code[1:3].isdigit() else low
    if not INDUSTRY_SECTIONS[section][0] <= division <= INDUSTRY_SECTIONS[section][1]:
        division = low
    return f"{section}{division:02d}{code[3:]}"


def accident_rules(body: dict) -> dict:
    body = dict(body)
    if "occurred_at" in body:
        body["occurred_at"] = _real_date(body["occurred_at"], latest=date(2025, 1, 1))
    if isinstance(body.get("industry_code"), str):
        body["industry_code"] = _industry(body["industry_code"])
    if body.get("severity") == "fatal":
        body["fatalities"] = max(1, body.get("fatalities", 0))
    else:
        body["fatalities"] = 0
    if "publisher_record_id" in body:
        body["publisher_record_id"] = f"st-{uuid.uuid4().hex}"
    return body


@schemathesis.hook.apply_to(method="POST", path="/v1/accidents")
def map_case(context, case):
    if _positive(case) and isinstance(case.body, dict):
        case.body = accident_rules(case.body)
    return case


@schemathesis.hook.apply_to(method="POST", path="/v1/accidents/{accident_id}/correct")
def map_case(context, case):  # noqa: F811 - one hook per operation
    if _positive(case) and isinstance(case.body, dict):
        case.body = accident_rules(case.body)
    return case


@schemathesis.hook.apply_to(method="GET", path="/v1/accidents")
def map_case(context, case):  # noqa: F811
    if _positive(case) and case.query:
        for name in ("occurred_from", "occurred_to"):
            if case.query.get(name):
                case.query[name] = _real_date(case.query[name])
    return case


@schemathesis.hook.apply_to(method="POST", path="/v1/sharing-agreements")
def map_case(context, case):  # noqa: F811
    if _positive(case) and isinstance(case.body, dict):
        body = dict(case.body)
        body["valid_from"] = _real_date(body.get("valid_from", ""))
        body["valid_until"] = max(_real_date(body.get("valid_until", "")), body["valid_from"])
        if body.get("provider_organisation") == body.get("consumer_organisation"):
            body["consumer_organisation"] = f"organisations/{uuid.uuid4().hex}"
        body["tenant_code"] = ""  # must lie in the caller's subtree
        case.body = body
    return case


@schemathesis.hook.apply_to(method="POST", path="/v1/bulletins")
def map_case(context, case):  # noqa: F811 - a bulletin summarises an accident: the same rules
    if _positive(case) and isinstance(case.body, dict):
        case.body = accident_rules(case.body)
    return case


def _meeting_dates(body: dict) -> dict:
    body = dict(body)
    if "meeting_date" in body:
        body["meeting_date"] = _real_date(body["meeting_date"])
    if isinstance(body.get("action_items"), list):
        body["action_items"] = [{**item, "due_date": _real_date(item.get("due_date", ""))}
                                if isinstance(item, dict) else item for item in body["action_items"]]
    return body


@schemathesis.hook.apply_to(method="POST", path="/v1/joint-meetings")
def map_case(context, case):  # noqa: F811 - dates are real calendar dates
    if _positive(case) and isinstance(case.body, dict):
        case.body = _meeting_dates(case.body)
    return case


@schemathesis.hook.apply_to(method="POST", path="/v1/joint-meetings/{meeting_id}/minutes")
def map_case(context, case):  # noqa: F811
    if _positive(case) and isinstance(case.body, dict):
        case.body = _meeting_dates(case.body)
    return case
