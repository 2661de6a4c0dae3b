"""Rectification workflow (SPEC SH-5): notices to employers with a CST deadline, the employer's
response with evidence files, verification, return for rework, and escalation of overdue notices
to an enforcement referral citing the law. Domain functions only (no grpc, no *_pb2).

State machine (every transition stored with actor, time and reason)::

    issued --respond--> responded --verify--> closed
                         responded --return--> returned --respond--> responded ...
    issued / returned, past the deadline --escalate--> escalated (enforcement referral)

An illegal transition raises FAILED_PRECONDITION naming the current state and changes nothing.

Visibility (SPEC 7.3 "the issuing department, PO own, EO own employer"): provincial operators
see their tenant subtree; a department liaison sees the notices its department issued; an
employer officer sees its own employer's notices. Anything else is NOT_FOUND.

``raise_notice`` is the entry point for other code (hazard reports, measurement exceedances,
inspection findings) inside its own transaction: one notice per (tenant, source, employer), so
raising twice from the same source returns the first notice.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import and_, case, false, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.clock import as_utc, cst_date, cst_end_of_day, is_overdue
from services.common.context import PROVINCIAL_OPERATOR, Caller
from services.common.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from services.common.pagination import newest_first
from services.common.storage import ObjectStore, object_key
from services.common.tenancy import visible_to
from services.sharing.records import ORGANISATION_NAME, organisation_name, parse_date
from services.sharing.rectification_models import (
    RectificationEvidence,
    RectificationNotice,
    RectificationTransition,
)

DEPARTMENT_LIAISON = "department_liaison"
EMPLOYER_OFFICER = "employer_officer"

ISSUED, RESPONDED, RETURNED, CLOSED, ESCALATED = "issued", "responded", "returned", "closed", "escalated"
STATES = (ISSUED, RESPONDED, RETURNED, CLOSED, ESCALATED)
OPEN_STATES = (ISSUED, RETURNED)  # the employer still has to act; the deadline runs

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "respond": ((ISSUED, RETURNED), RESPONDED),
    "verify": ((RESPONDED,), CLOSED),
    "return": ((RESPONDED,), RETURNED),
    "escalate": ((ISSUED, RETURNED), ESCALATED),
}

HAZARD_REPORT, MEASUREMENT_EXCEEDANCE, INSPECTION_FINDING = (
    "hazard_report", "measurement_exceedance", "inspection_finding")
SOURCE_TYPES = (HAZARD_REPORT, MEASUREMENT_EXCEEDANCE, INSPECTION_FINDING)
WORK_SAFETY_LAW = "work_safety_law"
OCCUPATIONAL_DISEASE_PREVENTION_LAW = "occupational_disease_prevention_law"
LAWS = (WORK_SAFETY_LAW, OCCUPATIONAL_DISEASE_PREVENTION_LAW)
# Hazards are work-safety matters; hazard-factor exceedances are occupational-disease matters.
# Inspection findings can be either, so they name their law.
DEFAULT_LAW = {HAZARD_REPORT: WORK_SAFETY_LAW, MEASUREMENT_EXCEEDANCE: OCCUPATIONAL_DISEASE_PREVENTION_LAW}
LAW_TITLES = {
    WORK_SAFETY_LAW: "Work Safety Law of the People's Republic of China (安全生产法)",
    OCCUPATIONAL_DISEASE_PREVENTION_LAW: "Law of the People's Republic of China on the Prevention and Control "
                                         "of Occupational Diseases (职业病防治法)",
}

# A resource name: `collection/id`, optionally nested once (`jointInspections/{id}/findings/{id}`).
_SEGMENTS = r"[a-zA-Z][a-zA-Z0-9]{0,47}/[A-Za-z0-9_-]{1,64}"
SOURCE_NAME = re.compile(rf"^{_SEGMENTS}(/{_SEGMENTS})?$")
_NOTICE_NAME = re.compile(r"^rectificationNotices/([0-9a-f]{32})$")
_EVIDENCE_NAME = re.compile(r"^rectificationNotices/([0-9a-f]{32})/evidence/([0-9a-f]{32})$")
_FILE_NAME = re.compile(r"^[^/\\\x00-\x1f\x7f]{1,255}$")
MAX_ACTION = 5000
MAX_RESPONSE = 10_000
MAX_REASON = 2000
MAX_EVIDENCE = 20
EVIDENCE_KIND = "rectification-evidence"
# What evidence may be: documents, photographs, video, spreadsheets.
EVIDENCE_CONTENT_TYPES = ("application/pdf", "image/png", "image/jpeg", "video/mp4",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@dataclass(frozen=True)
class NoticeData:
    employer: str
    source: str
    source_type: str
    required_action: str
    deadline_date: str
    law: str = ""


def parse_notice_name(name: str, field: str = "name") -> str:
    match = _NOTICE_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field(field, "must be rectificationNotices/{id}")
    return match.group(1)


def parse_evidence_name(name: str, field: str = "name") -> tuple[str, str]:
    match = _EVIDENCE_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field(field, "must be rectificationNotices/{id}/evidence/{id}")
    return match.group(1), match.group(2)


def validate_notice(data: NoticeData, now: datetime, prefix: str = "rectification_notice.") -> dict:
    violations: list[FieldViolation] = []
    values: dict = {}
    if not ORGANISATION_NAME.match(data.employer or ""):
        violations.append(FieldViolation(f"{prefix}employer", "must be organisations/{id}"))
    values["employer"] = data.employer
    if data.source_type not in SOURCE_TYPES:
        violations.append(FieldViolation(f"{prefix}source_type", f"must be one of {', '.join(SOURCE_TYPES)}"))
    values["source_type"] = data.source_type
    if not SOURCE_NAME.match(data.source or ""):
        violations.append(FieldViolation(f"{prefix}source", "must be a resource name such as hazardReports/{id}"))
    values["source"] = data.source
    action = (data.required_action or "").strip()
    if not action:
        violations.append(FieldViolation(f"{prefix}required_action", "is required"))
    elif len(action) > MAX_ACTION:
        violations.append(FieldViolation(f"{prefix}required_action", f"must be at most {MAX_ACTION} characters"))
    values["required_action"] = action
    try:
        deadline = parse_date(data.deadline_date or "", f"{prefix}deadline_date")
        if deadline < cst_date(now):
            violations.append(FieldViolation(f"{prefix}deadline_date", "must not be before today (CST)"))
        values["deadline_date"] = deadline
        values["due_time"] = cst_end_of_day(deadline)
    except InvalidArgument as error:
        violations.extend(error.violations)
    law = data.law or DEFAULT_LAW.get(data.source_type, "")
    if data.law and data.law not in LAWS:
        violations.append(FieldViolation(f"{prefix}law", f"must be one of {', '.join(LAWS)}"))
    elif not law and data.source_type in SOURCE_TYPES:
        violations.append(FieldViolation(f"{prefix}law", "is required for inspection findings"))
    values["law"] = law
    if violations:
        raise InvalidArgument(violations)
    return values


def _visibility(caller: Caller):
    """SQL condition for the notices ``caller`` may see (SPEC 7.3)."""
    in_tenant = visible_to(RectificationNotice.tenant_code, caller)
    if PROVINCIAL_OPERATOR in caller.roles:
        return in_tenant
    org = organisation_name(caller.organisation)
    if not org:
        return false()
    conditions = []
    if DEPARTMENT_LIAISON in caller.roles:
        conditions.append(RectificationNotice.issuing_organisation == org)
    if EMPLOYER_OFFICER in caller.roles:
        conditions.append(RectificationNotice.employer == org)
    if not conditions:
        return false()
    return and_(in_tenant, conditions[0] if len(conditions) == 1 else (conditions[0] | conditions[1]))


def _is_issuer_side(caller: Caller) -> bool:
    return bool({PROVINCIAL_OPERATOR, DEPARTMENT_LIAISON} & caller.roles)


def record_transition(session: AsyncSession, row: RectificationNotice, to_state: str, *, actor: str, now: datetime,
                      reason: str = "") -> None:
    session.add(RectificationTransition(id=uuid.uuid4().hex, notice_id=row.id, tenant_code=row.tenant_code,
                                        from_state=row.state, to_state=to_state, actor=actor, time=now,
                                        reason=reason))
    row.state, row.update_time = to_state, now


def check_transition(row: RectificationNotice, action: str) -> str:
    allowed, target = TRANSITIONS[action]
    if row.state not in allowed:
        raise FailedPrecondition(
            f"rectification notice is {row.state}; {action} needs it to be {' or '.join(allowed)}",
            reason="RECTIFICATION_STATE", metadata={"current_state": row.state, "action": action})
    return target


def referral_text(row: RectificationNotice) -> str:
    return (f"Referred for enforcement under the {LAW_TITLES[row.law]}: the rectification required of "
            f"{row.employer} by {row.deadline_date.isoformat()} (CST) was not completed.")


def escalate(session: AsyncSession, row: RectificationNotice, *, actor: str, now: datetime, reason: str) -> None:
    """issued/returned -> escalated with the enforcement referral; the caller has checked the state."""
    row.enforcement_referral = referral_text(row)
    record_transition(session, row, ESCALATED, actor=actor, now=now, reason=reason)


async def raise_notice(session: AsyncSession, caller: Caller, *, source: str, source_type: str, employer: str,
                       required_action: str, deadline_date: str | date, now: datetime, law: str = "",
                       field_prefix: str = "rectification_notice.") -> tuple[RectificationNotice, bool]:
    """Issues a notice in ``caller``'s tenant inside the session's transaction (not committed).

    Returns ``(notice, created)``; an existing notice for the same source and employer is returned
    unchanged (``created`` False). Raises InvalidArgument naming the bad fields."""
    if isinstance(deadline_date, date):
        deadline_date = deadline_date.isoformat()
    values = validate_notice(NoticeData(employer=employer, source=source, source_type=source_type,
                                        required_action=required_action, deadline_date=deadline_date, law=law),
                             now, field_prefix)
    existing = await _by_source(session, caller.tenant, source, employer)
    if existing is not None:
        return existing, False
    row = RectificationNotice(id=uuid.uuid4().hex, tenant_code=caller.tenant, state=ISSUED,
                              issuing_organisation=organisation_name(caller.organisation), issued_by=caller.subject,
                              response="", enforcement_referral="", create_time=now, update_time=now, **values)
    try:
        async with session.begin_nested():
            session.add(row)
            session.add(RectificationTransition(id=uuid.uuid4().hex, notice_id=row.id, tenant_code=row.tenant_code,
                                                from_state="", to_state=ISSUED, actor=caller.subject, time=now,
                                                reason=f"raised from {source}"))
    except IntegrityError:  # a concurrent raise from the same source won
        existing = await _by_source(session, caller.tenant, source, employer)
        if existing is None:
            raise
        return existing, False
    return row, True


async def _by_source(session: AsyncSession, tenant: str, source: str, employer: str) -> RectificationNotice | None:
    return (await session.scalars(select(RectificationNotice).where(
        RectificationNotice.tenant_code == tenant, RectificationNotice.source == source,
        RectificationNotice.employer == employer))).first()


async def get_notice(*, session: AsyncSession, caller: Caller, notice_id: str,
                     for_update: bool = False) -> RectificationNotice:
    query = select(RectificationNotice).where(RectificationNotice.id == notice_id, _visibility(caller))
    row = (await session.scalars(query.with_for_update() if for_update else query)).first()
    if row is None:
        raise NotFound(f"rectification notice {notice_id} not found")
    return row


async def list_notices(*, session: AsyncSession, caller: Caller, state: str, after: tuple[str, str] | None,
                       limit: int) -> list[RectificationNotice]:
    """Newest first, keyset on (create_time, id)."""
    query = select(RectificationNotice).where(_visibility(caller))
    if state:
        query = query.where(RectificationNotice.state == state)
    query = newest_first(query, RectificationNotice.create_time, RectificationNotice.id, after, limit)
    return list((await session.scalars(query)).all())


async def history(session: AsyncSession, notice_id: str) -> tuple[list[RectificationTransition],
                                                                   list[RectificationEvidence]]:
    transitions = (await session.scalars(select(RectificationTransition).where(
        RectificationTransition.notice_id == notice_id).order_by(RectificationTransition.time,
                                                                   RectificationTransition.id))).all()
    evidence = (await session.scalars(select(RectificationEvidence).where(
        RectificationEvidence.notice_id == notice_id).order_by(RectificationEvidence.create_time,
                                                                 RectificationEvidence.id))).all()
    # Transitions made in the same instant keep their causal order: issued first.
    order = {state: i for i, state in enumerate(("", *STATES))}
    return sorted(transitions, key=lambda t: (as_utc(t.time), order.get(t.from_state, 9))), list(evidence)


def _reason(reason: str, *, required: bool) -> str:
    text = (reason or "").strip()
    if required and not text:
        raise InvalidArgument.field("reason", "is required")
    if len(text) > MAX_REASON:
        raise InvalidArgument.field("reason", f"must be at most {MAX_REASON} characters")
    return text


async def transition(*, session: AsyncSession, caller: Caller, notice_id: str, action: str, reason: str,
                     now: datetime) -> RectificationNotice:
    """verify, return or escalate, by the issuing side (the policy admits PO and DL only)."""
    text = _reason(reason, required=action == "return")
    row = await get_notice(session=session, caller=caller, notice_id=notice_id, for_update=True)
    target = check_transition(row, action)
    if action == "escalate":
        if not is_overdue(row.deadline_date, now):
            raise FailedPrecondition(
                f"rectification notice is {row.state} and due at the end of {row.deadline_date.isoformat()} (CST): "
                "not yet overdue",
                reason="RECTIFICATION_NOT_OVERDUE", metadata={"current_state": row.state})
        escalate(session, row, actor=caller.subject, now=now, reason=text or "overdue")
    else:
        record_transition(session, row, target, actor=caller.subject, now=now, reason=text)
    await session.flush()
    return row


def _check_file_name(file_name: str) -> str:
    name = (file_name or "").strip()
    if not _FILE_NAME.match(name):
        raise InvalidArgument.field("file_name", "is required: 1-255 characters, no slashes or control characters")
    return name


async def create_evidence_upload(*, session: AsyncSession, caller: Caller, store: ObjectStore, notice_id: str,
                                 file_name: str, content_type: str, now: datetime) -> tuple[RectificationEvidence, str]:
    """A presigned PUT for one evidence file (the employer's officers, while the notice awaits a response)."""
    name = _check_file_name(file_name)
    if (content_type or "").strip() not in EVIDENCE_CONTENT_TYPES:
        raise InvalidArgument.field("content_type", f"must be one of {', '.join(EVIDENCE_CONTENT_TYPES)}")
    row = await get_notice(session=session, caller=caller, notice_id=notice_id)
    check_transition(row, "respond")
    evidence_id = uuid.uuid4().hex
    key = object_key(row.tenant_code, "sharing", EVIDENCE_KIND, evidence_id)
    try:
        url = store.presign_put(key, content_type=content_type, now=now)
    except InvalidArgument as error:
        raise InvalidArgument([FieldViolation("content_type", v.description) for v in error.violations]) from None
    evidence = RectificationEvidence(id=evidence_id, notice_id=row.id, tenant_code=row.tenant_code, object_key=key,
                                     file_name=name, content_type=content_type.strip(), size_bytes=0, sha256="",
                                     attached=False, uploaded_by=caller.subject, create_time=now)
    session.add(evidence)
    await session.flush()
    return evidence, url


async def evidence_download(*, session: AsyncSession, caller: Caller, store: ObjectStore, notice_id: str,
                            evidence_id: str, now: datetime) -> tuple[RectificationEvidence, str]:
    await get_notice(session=session, caller=caller, notice_id=notice_id)  # NOT_FOUND across tenants
    evidence = await session.get(RectificationEvidence, evidence_id)
    if evidence is None or evidence.notice_id != notice_id:
        raise NotFound(f"evidence {evidence_id} not found")
    return evidence, store.presign_get(evidence.object_key, now=now)


async def respond(*, session: AsyncSession, caller: Caller, store: ObjectStore, notice_id: str, response: str,
                  evidence_names: list[str], now: datetime) -> RectificationNotice:
    """The employer's response: issued/returned -> responded, attaching uploaded evidence whose
    size and SHA-256 are read from the object store."""
    text = (response or "").strip()
    violations: list[FieldViolation] = []
    if not text:
        violations.append(FieldViolation("response", "is required"))
    elif len(text) > MAX_RESPONSE:
        violations.append(FieldViolation("response", f"must be at most {MAX_RESPONSE} characters"))
    if len(evidence_names) > MAX_EVIDENCE:
        violations.append(FieldViolation("evidence", f"must be at most {MAX_EVIDENCE} files"))
    ids: list[str] = []
    for index, name in enumerate(evidence_names[:MAX_EVIDENCE]):
        try:
            notice_of, evidence_id = parse_evidence_name(name, f"evidence[{index}]")
        except InvalidArgument as error:
            violations.extend(error.violations)
            continue
        if notice_of != notice_id:
            violations.append(FieldViolation(f"evidence[{index}]", "belongs to another notice"))
        ids.append(evidence_id)
    if violations:
        raise InvalidArgument(violations)
    row = await get_notice(session=session, caller=caller, notice_id=notice_id, for_update=True)
    check_transition(row, "respond")
    for index, evidence_id in enumerate(ids):
        evidence = await session.get(RectificationEvidence, evidence_id)
        if evidence is None or evidence.notice_id != notice_id:
            violations.append(FieldViolation(f"evidence[{index}]", "is unknown"))
            continue
        try:
            info = await store.stat(evidence.object_key)
        except NotFound:
            violations.append(FieldViolation(f"evidence[{index}]", "the file has not been uploaded"))
            continue
        evidence.size_bytes, evidence.sha256, evidence.attached = info.size, info.sha256, True
    if violations:
        raise InvalidArgument(violations)
    row.response = text
    record_transition(session, row, RESPONDED, actor=caller.subject, now=now,
                      reason=f"response with {len(ids)} evidence file(s)")
    await session.flush()
    return row


def is_issuer_side(caller: Caller) -> bool:
    return _is_issuer_side(caller)


def current_year() -> int:
    return cst_date(datetime.now(UTC)).year


async def closure_by_tenant(*, session: AsyncSession, caller: Caller, year: int) -> list[tuple[str, int, int]]:
    """(tenant, notices due in ``year``, of them closed) for the tenants the caller sees: the
    rectification closure rate of the provincial scorecards (SPEC AS-5)."""
    if not 2000 <= year <= 2100:
        raise InvalidArgument.field("year", "must be a calendar year between 2000 and 2100")
    closed = func.sum(case((RectificationNotice.state == CLOSED, 1), else_=0))
    rows = (await session.execute(
        select(RectificationNotice.tenant_code, func.count(), closed)
        .where(visible_to(RectificationNotice.tenant_code, caller),
               RectificationNotice.deadline_date.between(date(year, 1, 1), date(year, 12, 31)))
        .group_by(RectificationNotice.tenant_code).order_by(RectificationNotice.tenant_code))).all()
    return [(tenant, int(due), int(done or 0)) for tenant, due, done in rows]
