"""Expert pool and reviewer draws (SPEC AS-2). Domain functions only.

A draw is reproducible by construction: the eligible candidate set (sorted ids) and a 63-bit seed
are stored; the reviewers are the ``count`` candidates with the smallest SHA-256(seed:id). That
order does not depend on Python's ``random`` implementation, so a stored draw re-runs to the same
reviewers on any version, and anyone holding the seed and candidate list can check it.

Conflicts of interest: an expert whose employer is the applicant organisation, or the employer
the project is carried out at, is never a candidate; the excluded experts are stored with why.
Candidates are the province's experts plus the national pool (tenant 100000).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.assessment.models_projects import Expert, ExpertReviewRow, Project, ReviewerDraw
from services.assessment.validation import ORGANISATION_NAME, raise_if, text
from services.common.context import NATIONAL_TENANT, PROVINCIAL_OPERATOR, Caller
from services.common.errors import AlreadyExists, FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from services.common.tenancy import visible_to

SPECIALTIES = ("work_injury_prevention", "work_safety", "occupational_health")
DRAWABLE_STATES = ("submitted", "under_review")
MAX_REVIEWERS = 25
_EXPERT_NAME = re.compile(r"^experts/([0-9a-f]{32})$")
_DRAW_NAME = re.compile(r"^reviewerDraws/([0-9a-f]{32})$")
_REGION = re.compile(r"^[1-9][0-9]{5}$")


@dataclass(frozen=True)
class ExpertData:
    display_name: str
    specialties: tuple[str, ...]
    region_code: str
    employer: str
    user_subject: str


def parse_draw_name(name: str) -> str:
    match = _DRAW_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field("name", "must be reviewerDraws/{id}")
    return match.group(1)


def draw_order(seed: str, candidates: list[str], count: int) -> list[str]:
    """The reviewers a seed picks from a candidate set (deterministic, version-independent)."""
    ranked = sorted(candidates, key=lambda c: (hashlib.sha256(f"{seed}:{c}".encode()).digest(), c))
    return sorted(ranked[:count])


def conflicts(expert: Expert, project: Project) -> str:
    if expert.employer == project.applicant_organisation:
        return "employed by the applicant organisation"
    if project.beneficiary_employer and expert.employer == project.beneficiary_employer:
        return "employed by the project's employer"
    return ""


async def create_expert(*, session: AsyncSession, caller: Caller, data: ExpertData, now: datetime) -> Expert:
    prefix = "expert."
    violations: list[FieldViolation] = []
    name = text(data.display_name, f"{prefix}display_name", violations, maximum=100)
    specialties = sorted(set(data.specialties))
    if not specialties:
        violations.append(FieldViolation(f"{prefix}specialties", "must name at least one specialty"))
    elif any(s not in SPECIALTIES for s in specialties):
        violations.append(FieldViolation(f"{prefix}specialties", f"each must be one of {', '.join(SPECIALTIES)}"))
    if not _REGION.match(data.region_code or "") or not caller.sees_tenant(data.region_code):
        violations.append(FieldViolation(f"{prefix}region_code", "must be a region code in the caller's tenant"))
    if not ORGANISATION_NAME.match(data.employer or ""):
        violations.append(FieldViolation(f"{prefix}employer", "must be organisations/{id}"))
    subject = text(data.user_subject, f"{prefix}user_subject", violations, maximum=128, required=False)
    raise_if(violations)
    row = Expert(id=uuid.uuid4().hex, tenant_code=caller.tenant, display_name=name, specialties=specialties,
                 region_code=data.region_code, employer=data.employer, user_subject=subject, create_time=now)
    session.add(row)
    await session.flush()
    return row


async def list_experts(*, session: AsyncSession, caller: Caller, after: str | None, limit: int) -> list[Expert]:
    """Operators: their tenant's experts and the national pool; experts: themselves."""
    if caller.is_ministry or PROVINCIAL_OPERATOR in caller.roles:
        query = select(Expert).where(or_(visible_to(Expert.tenant_code, caller), Expert.tenant_code == NATIONAL_TENANT))
    else:
        query = select(Expert).where(Expert.user_subject == caller.subject, Expert.user_subject != "")
    if after is not None:
        query = query.where(Expert.id > after)
    return list((await session.scalars(query.order_by(Expert.id).limit(limit))).all())


async def _candidates(session: AsyncSession, project: Project, specialty: str) -> tuple[list[str], list[dict]]:
    province = project.tenant_code[:2]
    rows = (await session.scalars(select(Expert).where(
        or_(Expert.tenant_code.startswith(province), Expert.tenant_code == NATIONAL_TENANT)))).all()
    candidates, excluded = [], []
    for expert in rows:
        if specialty and specialty not in expert.specialties:
            continue
        reason = conflicts(expert, project)
        if reason:
            excluded.append({"expert": f"experts/{expert.id}", "reason": reason})
        else:
            candidates.append(f"experts/{expert.id}")
    return sorted(candidates), sorted(excluded, key=lambda e: e["expert"])


async def draw_reviewers(*, session: AsyncSession, caller: Caller, project_id: str, count: int, specialty: str,
                         now: datetime, seed: str | None = None) -> ReviewerDraw:
    if not 1 <= count <= MAX_REVIEWERS:
        raise InvalidArgument.field("count", f"must be between 1 and {MAX_REVIEWERS}")
    if specialty and specialty not in SPECIALTIES:
        raise InvalidArgument.field("specialty", f"must be one of {', '.join(SPECIALTIES)}")
    project = (await session.scalars(select(Project).where(Project.id == project_id,
                                                           visible_to(Project.tenant_code, caller)))).first()
    if project is None:
        raise NotFound(f"project {project_id} not found")
    if project.state not in DRAWABLE_STATES:
        raise FailedPrecondition(f"project is {project.state}: reviewers are drawn while submitted or under_review",
                                 reason="ILLEGAL_STATE", metadata={"state": project.state})
    candidates, excluded = await _candidates(session, project, specialty)
    if len(candidates) < count:
        raise FailedPrecondition(f"only {len(candidates)} eligible experts (after {len(excluded)} conflicts of "
                                 f"interest); {count} needed", reason="TOO_FEW_EXPERTS",
                                 metadata={"eligible": str(len(candidates)), "needed": str(count)})
    seed = seed if seed is not None else str(secrets.randbits(63))
    row = ReviewerDraw(id=uuid.uuid4().hex, tenant_code=project.tenant_code, project_id=project.id, count=count,
                       specialty=specialty, seed=seed, candidates=candidates, excluded=excluded,
                       reviewers=draw_order(seed, candidates, count), drawn_by=caller.subject, create_time=now)
    session.add(row)
    await session.flush()
    return row


async def get_draw(*, session: AsyncSession, caller: Caller, draw_id: str) -> ReviewerDraw:
    row = (await session.scalars(select(ReviewerDraw).where(ReviewerDraw.id == draw_id,
                                                            visible_to(ReviewerDraw.tenant_code, caller)))).first()
    if row is None:
        raise NotFound(f"reviewer draw {draw_id} not found")
    return row


async def projects_assigned_to(*, session: AsyncSession, caller: Caller) -> set[str]:
    """Projects for which a draw chose one of the caller's expert records."""
    mine = {f"experts/{i}" for i in (await session.scalars(
        select(Expert.id).where(Expert.user_subject == caller.subject, Expert.user_subject != ""))).all()}
    if not mine:
        return set()
    draws = (await session.execute(select(ReviewerDraw.project_id, ReviewerDraw.reviewers).where(
        visible_to(ReviewerDraw.tenant_code, caller)))).all()
    return {project_id for project_id, reviewers in draws if mine & set(reviewers)}


async def submit_review(*, session: AsyncSession, caller: Caller, project_id: str, score: int, recommendation: str,
                        opinion: str, now: datetime) -> ExpertReviewRow:
    """A drawn expert's review; other experts get NOT_FOUND (they may not know the project)."""
    violations: list[FieldViolation] = []
    if not 0 <= score <= 100:
        violations.append(FieldViolation("score", "must be between 0 and 100"))
    if recommendation not in ("approve", "reject"):
        violations.append(FieldViolation("recommendation", "must be approve or reject"))
    opinion = text(opinion, "opinion", violations, maximum=5000)
    raise_if(violations)
    mine = {f"experts/{i}": i for i in (await session.scalars(
        select(Expert.id).where(Expert.user_subject == caller.subject, Expert.user_subject != ""))).all()}
    project = (await session.scalars(select(Project).where(Project.id == project_id,
                                                           visible_to(Project.tenant_code, caller)))).first()
    draws = [] if project is None or not mine else (await session.scalars(
        select(ReviewerDraw.reviewers).where(ReviewerDraw.project_id == project_id))).all()
    assigned = sorted({mine[r] for reviewers in draws for r in reviewers if r in mine})
    if project is None or not assigned:
        raise NotFound(f"project {project_id} not found")
    if project.state != "under_review":
        raise FailedPrecondition(f"project is {project.state}: reviews are submitted while under_review",
                                 reason="ILLEGAL_STATE", metadata={"state": project.state})
    expert_id = assigned[0]
    if await session.get(ExpertReviewRow, (project_id, expert_id)) is not None:
        raise AlreadyExists("this expert has already reviewed the project", reason="REVIEW_EXISTS")
    row = ExpertReviewRow(project_id=project_id, expert_id=expert_id, tenant_code=project.tenant_code, score=score,
                          recommendation=recommendation, opinion=opinion, create_time=now)
    session.add(row)
    await session.flush()
    return row


async def reviews_of(session: AsyncSession, project_id: str) -> list[ExpertReviewRow]:
    return list((await session.scalars(select(ExpertReviewRow).where(ExpertReviewRow.project_id == project_id)
                                       .order_by(ExpertReviewRow.create_time, ExpertReviewRow.expert_id))).all())
