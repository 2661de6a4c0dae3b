"""Prevention projects (SPEC AS-1): calls for applications, applications with their documents,
and the project's explicit state machine. Domain functions only.

State machine (TRANSITIONS is the single source; tests generate every illegal pair from it):

    submitted --start_review--> under_review --approve--> approved --start--> in_progress
    submitted --withdraw--> withdrawn (applicant)      under_review --reject--> rejected
    submitted --reject--> rejected
    in_progress --record_check--> in_progress (an in-progress check, findings in the reason)
    in_progress --request_acceptance--> acceptance --pass_acceptance--> completed
    in_progress --terminate--> failed                 acceptance --fail_acceptance--> failed

Every transition is stored (actor, time, reason). An action the current state does not allow is
FAILED_PRECONDITION naming the current state, and nothing changes. Approval carries the budget
and dates: duration at most two years, the pooling region's cap (budget.py), tender flag at
500,000 yuan or more.

Decisions:
- A project row belongs to the applicant's tenant (inside the call's province), so the province's
  operators see it and row-level security admits the applicant's insert.
- Applicants (service institutions, employers) see and withdraw their own organisation's projects;
  the province's operators do every other transition; experts read projects they were drawn for.
- Documents are object-store keys `<tenant>/assessment/project_document/<id>` of files uploaded
  beforehand (SPEC 7.5); all five kinds of SPEC AS-3 are required.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.assessment import budget, documents
from services.assessment.models_projects import Project, ProjectCall, ProjectTransition
from services.assessment.validation import ORGANISATION_NAME, add_years, fen, parse_date, raise_if, text
from services.common.clock import cst_date
from services.common.context import PROVINCIAL_OPERATOR, Caller
from services.common.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, PermissionDenied
from services.common.storage import ObjectStore
from services.common.tenancy import visible_to

TRANSITIONS: dict[str, dict[str, str]] = {
    "submitted": {"start_review": "under_review", "withdraw": "withdrawn", "reject": "rejected"},
    "under_review": {"approve": "approved", "reject": "rejected"},
    "approved": {"start": "in_progress"},
    "in_progress": {"record_check": "in_progress", "request_acceptance": "acceptance", "terminate": "failed"},
    "acceptance": {"pass_acceptance": "completed", "fail_acceptance": "failed"},
    "completed": {},
    "failed": {},
    "rejected": {},
    "withdrawn": {},
}
STATES = tuple(TRANSITIONS)
ACTIONS = tuple(sorted({a for moves in TRANSITIONS.values() for a in moves}))
APPLICANT_ACTIONS = frozenset({"withdraw"})
REASON_REQUIRED = frozenset({"withdraw", "reject", "terminate", "fail_acceptance", "record_check"})
DOCUMENT_KINDS = ("application_form", "feasibility_report", "implementation_plan", "cost_estimate", "qualification")
CATEGORIES = ("publicity", "training", "other")
MAX_MILESTONES = 50
MAX_REASON = 2000
_CALL_NAME = re.compile(r"^projectCalls/([0-9a-f]{32})$")
_PROJECT_NAME = re.compile(r"^projects/([0-9a-f]{32})$")


@dataclass(frozen=True)
class CallData:
    title: str
    year: int
    guideline_object: str
    template_form_object: str
    closes_on: str


@dataclass(frozen=True)
class ApplicationData:
    call: str
    title: str
    beneficiary_employer: str
    pooling_region: str
    category: str
    requested_budget_fen: int
    planned_start: str
    planned_end: str
    documents: tuple[tuple[str, str], ...]
    milestones: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Approval:
    budget_fen: int
    start_date: str
    end_date: str


@dataclass
class ProjectView:
    project: Project
    transitions: list[ProjectTransition] = field(default_factory=list)
    reviews: list = field(default_factory=list)


def parse_call_name(name: str, field_name: str = "name") -> str:
    match = _CALL_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field(field_name, "must be projectCalls/{id}")
    return match.group(1)


def parse_project_name(name: str, field_name: str = "name") -> str:
    match = _PROJECT_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field(field_name, "must be projects/{id}")
    return match.group(1)


def _object_key(value: str, tenant: str, kind: str, field_name: str, violations: list[FieldViolation]) -> str:
    pattern = re.compile(rf"^{tenant}/assessment/{kind}/[A-Za-z0-9._-]{{1,128}}$")
    if not pattern.match(value or ""):
        violations.append(FieldViolation(field_name, f"must be an object key {tenant}/assessment/{kind}/{{id}}"))
    return value


def _same_province(column, caller: Caller):
    return column.startswith(caller.tenant[:2]) if not caller.is_ministry else column.is_not(None)


# -- calls ---------------------------------------------------------------------------------------


async def create_call(*, session: AsyncSession, caller: Caller, data: CallData, now: datetime,
                      store: ObjectStore) -> ProjectCall:
    violations: list[FieldViolation] = []
    prefix = "project_call."
    title = text(data.title, f"{prefix}title", violations, maximum=200)
    if not 2000 <= data.year <= 2100:
        violations.append(FieldViolation(f"{prefix}year", "must be a year between 2000 and 2100"))
    _object_key(data.guideline_object, caller.tenant, "guideline", f"{prefix}guideline_object", violations)
    _object_key(data.template_form_object, caller.tenant, "template_form", f"{prefix}template_form_object",
                violations)
    closes_on = parse_date(data.closes_on, f"{prefix}closes_on", violations)
    raise_if(violations)
    await documents.require_uploaded(store, [(f"{prefix}guideline_object", data.guideline_object),
                                             (f"{prefix}template_form_object", data.template_form_object)])
    row = ProjectCall(id=uuid.uuid4().hex, tenant_code=caller.tenant, title=title, year=data.year,
                      guideline_object=data.guideline_object, template_form_object=data.template_form_object,
                      closes_on=closes_on, created_by=caller.subject, create_time=now)
    session.add(row)
    await session.flush()
    return row


async def get_call(*, session: AsyncSession, caller: Caller, call_id: str) -> ProjectCall:
    row = (await session.scalars(select(ProjectCall).where(ProjectCall.id == call_id,
                                                           _same_province(ProjectCall.tenant_code, caller)))).first()
    if row is None:
        raise NotFound(f"project call {call_id} not found")
    return row


async def list_calls(*, session: AsyncSession, caller: Caller, after: str | None,
                     limit: int) -> list[ProjectCall]:
    """The calls of the caller's province (every call for the ministry), newest first."""
    query = select(ProjectCall).where(_same_province(ProjectCall.tenant_code, caller))
    if after is not None:
        query = query.where(ProjectCall.id < after)
    query = query.order_by(ProjectCall.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


# -- applications --------------------------------------------------------------------------------


def _validate_application(data: ApplicationData, caller: Caller) -> tuple[dict, str]:
    prefix = "project."
    violations: list[FieldViolation] = []
    try:
        call_id = parse_call_name(data.call, f"{prefix}call")
    except InvalidArgument as error:
        violations.extend(error.violations)
        call_id = ""
    values: dict = {"title": text(data.title, f"{prefix}title", violations, maximum=200)}
    if data.beneficiary_employer and not ORGANISATION_NAME.match(data.beneficiary_employer):
        violations.append(FieldViolation(f"{prefix}beneficiary_employer", "must be organisations/{id}"))
    values["beneficiary_employer"] = data.beneficiary_employer
    region = data.pooling_region or caller.tenant[:2] + "0000"
    try:
        budget.check_region(region, caller if caller.tenant.endswith("0000") else
                            Caller(subject=caller.subject, tenant=caller.tenant[:2] + "0000"),
                            f"{prefix}pooling_region")
    except InvalidArgument as error:
        violations.extend(error.violations)
    values["pooling_region"] = region
    if data.category not in CATEGORIES:
        violations.append(FieldViolation(f"{prefix}category", f"must be one of {', '.join(CATEGORIES)}"))
    values["category"] = data.category
    values["requested_budget_fen"] = fen(data.requested_budget_fen, f"{prefix}requested_budget_fen", violations)
    start = parse_date(data.planned_start, f"{prefix}planned_start", violations)
    end = parse_date(data.planned_end, f"{prefix}planned_end", violations)
    if start and end:
        if end <= start:
            violations.append(FieldViolation(f"{prefix}planned_end", "must be after planned_start"))
        elif end > add_years(start, 2):
            violations.append(FieldViolation(f"{prefix}planned_end", "a project lasts at most 2 years"))
    values["planned_start"], values["planned_end"] = start, end
    documents = []
    kinds = set()
    for index, (kind, key) in enumerate(data.documents):
        at = f"{prefix}documents[{index}]"
        if kind not in DOCUMENT_KINDS:
            violations.append(FieldViolation(f"{at}.kind", f"must be one of {', '.join(DOCUMENT_KINDS)}"))
            continue
        kinds.add(kind)
        _object_key(key, caller.tenant, "project_document", f"{at}.object_key", violations)
        documents.append({"kind": kind, "object_key": key})
    missing = [k for k in DOCUMENT_KINDS if k not in kinds]
    if missing:
        violations.append(FieldViolation(f"{prefix}documents", f"missing required documents: {', '.join(missing)}"))
    values["documents"] = documents
    if len(data.milestones) > MAX_MILESTONES:
        violations.append(FieldViolation(f"{prefix}milestones", f"must be at most {MAX_MILESTONES}"))
    milestones = []
    for index, (title, due) in enumerate(data.milestones[:MAX_MILESTONES]):
        at = f"{prefix}milestones[{index}]"
        name = text(title, f"{at}.title", violations, maximum=200)
        due_date = parse_date(due, f"{at}.due_date", violations)
        milestones.append({"title": name, "due_date": due_date.isoformat() if due_date else ""})
    values["milestones"] = milestones
    raise_if(violations)
    return values, call_id


async def submit_application(*, session: AsyncSession, caller: Caller, data: ApplicationData,
                             now: datetime, store: ObjectStore) -> ProjectView:
    if not caller.organisation:
        raise FailedPrecondition("the caller's token names no organisation to apply for",
                                 reason="NO_ORGANISATION")
    values, call_id = _validate_application(data, caller)
    await documents.require_uploaded(store, [(f"project.documents[{i}].object_key", d["object_key"])
                                             for i, d in enumerate(values["documents"])])
    call = await get_call(session=session, caller=caller, call_id=call_id)
    if cst_date(now) > call.closes_on:
        raise FailedPrecondition(f"the call closed on {call.closes_on.isoformat()}", reason="CALL_CLOSED")
    row = Project(id=uuid.uuid4().hex, tenant_code=caller.tenant, call_id=call.id,
                  applicant_organisation=f"organisations/{caller.organisation}", state="submitted",
                  budget_year=call.year, tender_required=False, version=1, created_by=caller.subject,
                  create_time=now, **values)
    session.add(row)
    await session.flush()
    transition = _record(row, "", "submitted", "submit", caller, "", now, seq=1)
    session.add(transition)
    await session.flush()
    return ProjectView(row, [transition])


# -- reading -------------------------------------------------------------------------------------


async def _expert_project_ids(session: AsyncSession, caller: Caller) -> set[str]:
    from services.assessment.experts import projects_assigned_to

    return await projects_assigned_to(session=session, caller=caller)


async def _load(session: AsyncSession, caller: Caller, project_id: str, *, for_update: bool = False) -> Project:
    query = select(Project).where(Project.id == project_id, visible_to(Project.tenant_code, caller))
    row = (await session.scalars(query.with_for_update() if for_update else query)).first()
    if row is not None and not (caller.is_ministry or PROVINCIAL_OPERATOR in caller.roles):
        own = caller.organisation and row.applicant_organisation == f"organisations/{caller.organisation}"
        if not own and project_id not in await _expert_project_ids(session, caller):
            row = None
    if row is None:
        raise NotFound(f"project {project_id} not found")
    return row


async def _transitions(session: AsyncSession, project_id: str) -> list[ProjectTransition]:
    return list((await session.scalars(select(ProjectTransition).where(ProjectTransition.project_id == project_id)
                                       .order_by(ProjectTransition.seq))).all())


async def get_project(*, session: AsyncSession, caller: Caller, project_id: str) -> ProjectView:
    from services.assessment.experts import reviews_of

    row = await _load(session, caller, project_id)
    return ProjectView(row, await _transitions(session, row.id), await reviews_of(session, row.id))


async def list_projects(*, session: AsyncSession, caller: Caller, state: str, after: str | None,
                        limit: int) -> list[ProjectView]:
    if state and state not in STATES:
        raise InvalidArgument.field("state", f"must be one of {', '.join(STATES)}")
    query = select(Project).where(visible_to(Project.tenant_code, caller))
    if not (caller.is_ministry or PROVINCIAL_OPERATOR in caller.roles):
        assigned = await _expert_project_ids(session, caller)
        own = (Project.applicant_organisation == f"organisations/{caller.organisation}"
               if caller.organisation else Project.id.is_(None))
        query = query.where(or_(own, Project.id.in_(sorted(assigned))) if assigned else own)
    if state:
        query = query.where(Project.state == state)
    if after is not None:
        query = query.where(Project.id < after)
    rows = list((await session.scalars(query.order_by(Project.id.desc()).limit(limit))).all())
    return [ProjectView(r, await _transitions(session, r.id)) for r in rows]


# -- transitions ---------------------------------------------------------------------------------


def _record(row: Project, from_state: str, to_state: str, action: str, caller: Caller, reason: str,
            now: datetime, *, seq: int) -> ProjectTransition:
    return ProjectTransition(project_id=row.id, seq=seq, tenant_code=row.tenant_code, from_state=from_state,
                             to_state=to_state, action=action, actor=caller.subject, reason=reason, time=now)


def _validate_approval(approval: Approval | None) -> tuple[int, date, date]:
    violations: list[FieldViolation] = []
    if approval is None:
        raise InvalidArgument.field("approval", "is required to approve")
    amount = fen(approval.budget_fen, "approval.budget_fen", violations)
    start = parse_date(approval.start_date, "approval.start_date", violations)
    end = parse_date(approval.end_date, "approval.end_date", violations)
    if start and end:
        if end <= start:
            violations.append(FieldViolation("approval.end_date", "must be after start_date"))
        elif end > add_years(start, 2):
            violations.append(FieldViolation("approval.end_date", "a project lasts at most 2 years"))
    raise_if(violations)
    return amount, start, end


async def transition(*, session: AsyncSession, caller: Caller, project_id: str, action: str, reason: str,
                     approval: Approval | None, now: datetime) -> ProjectView:
    if action not in ACTIONS:
        raise InvalidArgument.field("action", f"must be one of {', '.join(ACTIONS)}")
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise InvalidArgument.field("reason", f"must be at most {MAX_REASON} characters")
    if action in REASON_REQUIRED and not reason:
        raise InvalidArgument.field("reason", f"is required to {action}")
    if action == "approve":
        amount, start, end = _validate_approval(approval)
    row = await _load(session, caller, project_id, for_update=True)
    operator = caller.is_ministry or PROVINCIAL_OPERATOR in caller.roles
    if not operator and action not in APPLICANT_ACTIONS:
        raise PermissionDenied(f"applicants may only {', '.join(sorted(APPLICANT_ACTIONS))}",
                               reason="APPLICANT_ACTION_ONLY")
    if operator and action in APPLICANT_ACTIONS:
        raise PermissionDenied("only the applicant may withdraw", reason="APPLICANT_ONLY")
    target = TRANSITIONS[row.state].get(action)
    if target is None:
        allowed = ", ".join(sorted(TRANSITIONS[row.state])) or "none (final state)"
        raise FailedPrecondition(f"project is {row.state}: cannot {action} (allowed: {allowed})",
                                 reason="ILLEGAL_TRANSITION", metadata={"state": row.state, "action": action})
    if action == "approve":
        await budget.reserve(session=session, region=row.pooling_region, year=row.budget_year, budget_fen=amount)
        row.approved_budget_fen, row.approved_start, row.approved_end = amount, start, end
        row.tender_required = amount >= budget.TENDER_THRESHOLD_FEN
    history = await _transitions(session, row.id)
    record = _record(row, row.state, target, action, caller, reason, now, seq=len(history) + 1)
    row.state = target
    row.version += 1
    session.add(record)
    await session.flush()
    return ProjectView(row, [*history, record])
