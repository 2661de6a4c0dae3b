"""Joint inspections (SPEC SH-6): departments of a tenant inspect employers together and record
findings; a finding can raise a rectification notice (services.sharing.rectification.raise_notice).
Domain functions only.

Decisions:
- Like joint meetings, an inspection belongs to the caller's tenant; its PO and DL read and write
  it (SPEC 7.3 "PO, DL own"); the ministry does not.
- Findings carry stable ids. An update replaces the inspection's fields and findings as a whole;
  a finding is kept by repeating its name, and a finding that already raised a notice can be
  neither dropped nor changed (the notice cites it).
- A finding's employer must be one of the inspected employers.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import Caller
from services.common.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from services.common.tenancy import visible_to
from services.sharing import rectification
from services.sharing.records import ORGANISATION_NAME, parse_date
from services.sharing.rectification_models import JointInspection, RectificationNotice

MAX_TITLE = 200
MAX_TEXT = 5000
MAX_PARTICIPANTS = 50
MAX_EMPLOYERS = 200
MAX_FINDINGS = 200
_INSPECTION_NAME = re.compile(r"^jointInspections/([0-9a-f]{32})$")
_FINDING_NAME = re.compile(r"^jointInspections/([0-9a-f]{32})/findings/([0-9a-f]{32})$")


@dataclass(frozen=True)
class FindingData:
    name: str
    employer: str
    description: str
    required_action: str
    law: str


@dataclass(frozen=True)
class InspectionData:
    title: str
    inspection_date: str
    participants: tuple[str, ...]
    employers: tuple[str, ...]
    findings: tuple[FindingData, ...]


def parse_inspection_name(name: str) -> str:
    match = _INSPECTION_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field("name", "must be jointInspections/{id}")
    return match.group(1)


def parse_finding_name(name: str) -> tuple[str, str]:
    match = _FINDING_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field("name", "must be jointInspections/{id}/findings/{id}")
    return match.group(1), match.group(2)


def _organisations(values: tuple[str, ...], field: str, maximum: int, violations: list[FieldViolation]) -> list[str]:
    if not values:
        violations.append(FieldViolation(field, "must name at least one organisation"))
    elif len(values) > maximum:
        violations.append(FieldViolation(field, f"must be at most {maximum}"))
    elif not all(ORGANISATION_NAME.match(v or "") for v in values):
        violations.append(FieldViolation(field, "each must be organisations/{id}"))
    return sorted(set(values))


def validate_inspection(data: InspectionData, inspection_id: str, previous: list[dict] | None = None) -> dict:
    prefix = "joint_inspection."
    violations: list[FieldViolation] = []
    values: dict = {}
    title = data.title.strip()
    if not title:
        violations.append(FieldViolation(f"{prefix}title", "is required"))
    elif len(title) > MAX_TITLE:
        violations.append(FieldViolation(f"{prefix}title", f"must be at most {MAX_TITLE} characters"))
    values["title"] = title
    try:
        values["inspection_date"] = parse_date(data.inspection_date or "", f"{prefix}inspection_date")
    except InvalidArgument as error:
        violations.extend(error.violations)
    values["participants"] = _organisations(data.participants, f"{prefix}participants", MAX_PARTICIPANTS, violations)
    values["employers"] = _organisations(data.employers, f"{prefix}employers", MAX_EMPLOYERS, violations)
    if len(data.findings) > MAX_FINDINGS:
        violations.append(FieldViolation(f"{prefix}findings", f"must be at most {MAX_FINDINGS}"))
    old = {f["id"]: f for f in (previous or [])}
    findings, kept = [], set()
    for index, finding in enumerate(data.findings[:MAX_FINDINGS]):
        at = f"{prefix}findings[{index}]"
        finding_id = uuid.uuid4().hex
        if finding.name:
            match = _FINDING_NAME.match(finding.name)
            if not match or match.group(1) != inspection_id or match.group(2) not in old:
                violations.append(FieldViolation(f"{at}.name", "must name a finding of this inspection (or be empty)"))
            else:
                finding_id = match.group(2)
                kept.add(finding_id)
        if finding.employer not in values["employers"]:
            violations.append(FieldViolation(f"{at}.employer", "must be one of the inspected employers"))
        description = finding.description.strip()
        if not description or len(description) > MAX_TEXT:
            violations.append(FieldViolation(f"{at}.description", f"is required, at most {MAX_TEXT} characters"))
        action = finding.required_action.strip()
        if len(action) > MAX_TEXT:
            violations.append(FieldViolation(f"{at}.required_action", f"must be at most {MAX_TEXT} characters"))
        if finding.law and finding.law not in rectification.LAWS:
            violations.append(FieldViolation(f"{at}.law", f"must be one of {', '.join(rectification.LAWS)}"))
        entry = {"id": finding_id, "employer": finding.employer, "description": description,
                 "required_action": action, "law": finding.law,
                 "rectification_notice": old.get(finding_id, {}).get("rectification_notice", "")}
        before = old.get(finding_id)
        if before and before.get("rectification_notice") and any(
                before[k] != entry[k] for k in ("employer", "description", "required_action", "law")):
            violations.append(FieldViolation(at, "raised a rectification notice and cannot change"))
        findings.append(entry)
    for finding_id, before in old.items():
        if finding_id not in kept and before.get("rectification_notice"):
            violations.append(FieldViolation(f"{prefix}findings",
                                             f"finding {finding_id} raised a rectification notice and must be kept"))
    values["findings"] = findings
    if violations:
        raise InvalidArgument(violations)
    return values


async def create_inspection(*, session: AsyncSession, caller: Caller, data: InspectionData,
                            now: datetime) -> JointInspection:
    inspection_id = uuid.uuid4().hex
    values = validate_inspection(data, inspection_id)
    row = JointInspection(id=inspection_id, tenant_code=caller.tenant, create_time=now, update_time=now,
                          created_by=caller.subject, **values)
    session.add(row)
    await session.flush()
    return row


async def get_inspection(*, session: AsyncSession, caller: Caller, inspection_id: str,
                         for_update: bool = False) -> JointInspection:
    query = select(JointInspection).where(JointInspection.id == inspection_id,
                                          visible_to(JointInspection.tenant_code, caller))
    row = (await session.scalars(query.with_for_update() if for_update else query)).first()
    if row is None:
        raise NotFound(f"joint inspection {inspection_id} not found")
    return row


async def list_inspections(*, session: AsyncSession, caller: Caller, after: tuple[str, str] | None,
                           limit: int) -> list[JointInspection]:
    query = select(JointInspection).where(visible_to(JointInspection.tenant_code, caller))
    if after is not None:
        after_date = parse_date(after[0], "page_token")
        query = query.where(tuple_(JointInspection.inspection_date, JointInspection.id) < tuple_(after_date, after[1]))
    query = query.order_by(JointInspection.inspection_date.desc(), JointInspection.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def update_inspection(*, session: AsyncSession, caller: Caller, inspection_id: str, data: InspectionData,
                            now: datetime) -> JointInspection:
    row = await get_inspection(session=session, caller=caller, inspection_id=inspection_id, for_update=True)
    values = validate_inspection(data, inspection_id, list(row.findings))
    for key, value in values.items():
        setattr(row, key, value)
    row.update_time = now
    await session.flush()
    return row


async def delete_inspection(*, session: AsyncSession, caller: Caller, inspection_id: str) -> None:
    row = await get_inspection(session=session, caller=caller, inspection_id=inspection_id, for_update=True)
    if any(f.get("rectification_notice") for f in row.findings):
        raise FailedPrecondition("the inspection's findings raised rectification notices; it cannot be deleted",
                                 reason="INSPECTION_HAS_NOTICES")
    await session.delete(row)
    await session.flush()


async def raise_finding_notice(*, session: AsyncSession, caller: Caller, finding_name: str, deadline_date: str,
                               now: datetime) -> RectificationNotice:
    """Raises (once) the rectification notice of a finding, through rectification.raise_notice."""
    inspection_id, finding_id = parse_finding_name(finding_name)
    row = await get_inspection(session=session, caller=caller, inspection_id=inspection_id, for_update=True)
    finding = next((f for f in row.findings if f["id"] == finding_id), None)
    if finding is None:
        raise NotFound(f"finding {finding_id} not found")
    if not finding["required_action"]:
        raise FailedPrecondition("the finding states no required action; update the inspection first",
                                 reason="FINDING_WITHOUT_ACTION")
    notice, _ = await rectification.raise_notice(
        session, caller, source=finding_name, source_type=rectification.INSPECTION_FINDING,
        employer=finding["employer"], required_action=finding["required_action"], deadline_date=deadline_date,
        law=finding["law"], now=now, field_prefix="")
    if finding.get("rectification_notice") != f"rectificationNotices/{notice.id}":
        row.findings = [{**f, "rectification_notice": f"rectificationNotices/{notice.id}"} if f["id"] == finding_id
                        else f for f in row.findings]
        row.update_time = now
    await session.flush()
    return notice
