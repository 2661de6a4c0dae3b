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

from gateway.schemas.sharing import RECORD_FIELDS
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
        # Granted fields must be fields of the agreement's record type.
        allowed = RECORD_FIELDS.get(body.get("record_type"), ())
        if isinstance(body.get("granted_fields"), list):
            body["granted_fields"] = [f for f in body["granted_fields"] if f in allowed] or ["industry_code"]
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


# -- the other SH-1 record types, file import and export (gateway/routers/records.py) ---------------

_RECORD_DATES = {"disease-cases": ("diagnosed_at",), "recognitions": ("injured_at", "recognised_at"),
                 "hazard-reports": ("reported_at",), "measurements": ("measured_at",)}


def record_rules(body: dict, dates: tuple[str, ...]) -> dict:
    """Dates real and not in the future (a recognition not before its injury), the division in
    its section, a fresh publisher_record_id, a non-blank description and unit."""
    body = dict(body)
    for name in dates:
        if name in body:
            body[name] = _real_date(body[name], latest=date(2025, 1, 1))
    if "recognised_at" in body and "injured_at" in body:
        body["recognised_at"] = max(body["recognised_at"], body["injured_at"])
    if isinstance(body.get("industry_code"), str):
        body["industry_code"] = _industry(body["industry_code"])
    if "publisher_record_id" in body:
        body["publisher_record_id"] = f"st-{uuid.uuid4().hex}"
    for name in ("description", "unit"):
        if isinstance(body.get(name), str) and not body[name].strip():
            body[name] = "x"
    return body


def _record_hook(path: str, dates: tuple[str, ...]) -> None:
    @schemathesis.hook.apply_to(method="POST", path=path)
    def map_case(context, case):
        if _positive(case) and isinstance(case.body, dict):
            case.body = record_rules(case.body, dates)
        return case

    @schemathesis.hook.apply_to(method="POST", path=path + "/{record_id}/correct")
    def map_case(context, case):  # noqa: F811 - one hook per operation
        if _positive(case) and isinstance(case.body, dict):
            case.body = record_rules(case.body, dates)
        return case

    @schemathesis.hook.apply_to(method="GET", path=path)
    def map_case(context, case):  # noqa: F811
        if _positive(case) and case.query:
            for name, value in list(case.query.items()):
                if name.endswith(("_from", "_to")) and value:
                    case.query[name] = _real_date(value)
        return case


for _segment, _dates in _RECORD_DATES.items():
    _record_hook(f"/v1/{_segment}", _dates)


def _file_hooks(path: str) -> None:
    @schemathesis.hook.apply_to(method="GET", path=path + ":export")
    def map_case(context, case):
        """`reason` is required by the service (400 without it), not by the schema: the role check
        must come first (the permission matrix)."""
        if _positive(case):
            case.query = {**(case.query or {}), "reason": "schemathesis"}
        return case

    @schemathesis.hook.apply_to(method="POST", path=path + ":import")
    def filter_case(context, case):
        """An arbitrary file is not a record file: its positive cases are refused with 400 naming
        the file or its header, which the import tests cover. Negative cases stay."""
        return not _positive(case)


for _segment in ("accidents", *_RECORD_DATES):
    _file_hooks(f"/v1/{_segment}")
