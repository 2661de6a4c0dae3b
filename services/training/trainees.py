"""Trainees, programmes, enrolment and offline sessions (SPEC TR-2).

Who sees a trainee (SPEC 7.3 "programmes, enrolments"): ministry operators all, provincial
operators their tenant subtree, employer officers their own employer's people (the trainee's
``employer_id`` is the employer's organisation id), a trainee themself (the identity user linked
as ``user_id``). Names and citizen IDs are encrypted at rest and masked for everyone but those SPEC
7.3 lets see personal data.

Offline attendance counts as trained: an attended session of a course is recorded as a completion
of that course (verb completed) for the trainee — SPEC TR-2 lists offline sessions as part of the
programme and 7.7 counts a completion of a course's activity; attendance is the classroom form of
that completion, recorded by the operator instead of a player.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import MINISTRY_OPERATOR, PROVINCIAL_OPERATOR, Caller
from services.common.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound
from services.common.pagination import newest_first
from services.common.pii import PiiKeyring
from services.common.tenancy import visible_to
from services.common.validators import mask_citizen_id, validate_citizen_id, validate_industry_code
from services.training import completions
from services.training.core_models import (
    Attendance,
    Completion,
    Enrolment,
    OfflineSession,
    Programme,
    Trainee,
    TraineeAccount,
)
from services.training.models import Course
from services.training.platforms import check_public_url
from services.training.reference import KEY_POSITIONS, is_blank

NAME = "training.trainees.name"
CITIZEN_ID = "training.trainees.citizen_id"
EMPLOYER_OFFICER = "employer_officer"
_ID = r"([0-9a-f]{32})"


def parse_name(kind: str, name: str, field_name: str = "name") -> str:
    match = re.match(rf"^{kind}/{_ID}$", name or "")
    if not match:
        raise InvalidArgument.field(field_name, f"must be {kind}/{{id}}")
    return match.group(1)


def mask_name(name: str) -> str:
    """``张三丰`` → ``张**``: the first character and one star per further character."""
    name = name.strip()
    return name[:1] + "*" * (len(name) - 1) if name else ""


def trainee_scope(caller: Caller) -> ColumnElement[bool]:
    """The trainees the caller may see (see module doc)."""
    if caller.roles & {MINISTRY_OPERATOR, PROVINCIAL_OPERATOR}:
        return visible_to(Trainee.tenant_code, caller)
    if EMPLOYER_OFFICER in caller.roles and caller.organisation:
        return and_(visible_to(Trainee.tenant_code, caller), Trainee.employer_id == caller.organisation)
    if "trainee" in caller.roles and caller.subject:
        return Trainee.user_id == caller.subject
    return false()


@dataclass(frozen=True)
class Account:
    home_page: str
    name: str


@dataclass(frozen=True)
class NewTrainee:
    name: str
    citizen_id: str
    employer_id: str
    employer_name: str
    industry_code: str
    key_position: str
    user_id: str = ""
    accounts: list[Account] = field(default_factory=list)


def _validate(new: NewTrainee, caller: Caller) -> tuple[str, str, list[Account]]:
    violations: list[FieldViolation] = []

    def check(call):
        try:
            return call()
        except InvalidArgument as error:
            violations.extend(error.violations)
            return ""

    if is_blank(new.name) or len(new.name) > 100:
        violations.append(FieldViolation("trainee.display_name", "is required, at most 100 characters"))
    citizen_id = check(lambda: validate_citizen_id(new.citizen_id, "trainee.citizen_id")) if new.citizen_id else ""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", new.employer_id or ""):
        violations.append(FieldViolation("trainee.employer_id", "is required: the employer's organisation id"))
    elif EMPLOYER_OFFICER in caller.roles and not caller.roles & {MINISTRY_OPERATOR, PROVINCIAL_OPERATOR} \
            and new.employer_id != caller.organisation:
        violations.append(FieldViolation("trainee.employer_id", "an employer officer enrols own employees only"))
    if len(new.employer_name) > 200:
        violations.append(FieldViolation("trainee.employer_name", "must be at most 200 characters"))
    industry = check(lambda: validate_industry_code(new.industry_code, "trainee.industry_code"))
    if new.key_position not in KEY_POSITIONS:
        violations.append(FieldViolation("trainee.key_position", f"must be one of {', '.join(KEY_POSITIONS)}"))
    if len(new.user_id) > 64:
        violations.append(FieldViolation("trainee.user_id", "must be at most 64 characters"))
    accounts: list[Account] = []
    if len(new.accounts) > 20:
        violations.append(FieldViolation("trainee.accounts", "at most 20"))
    for i, account in enumerate(new.accounts[:20]):
        home = check(lambda a=account, i=i: check_public_url(a.home_page, f"trainee.accounts[{i}].home_page"))
        if not account.name or len(account.name) > 255:
            violations.append(FieldViolation(f"trainee.accounts[{i}].name", "is required, at most 255 characters"))
        accounts.append(Account(home, account.name))
    if violations:
        raise InvalidArgument(violations)
    return citizen_id, industry, accounts


async def create_trainee(*, session: AsyncSession, keyring: PiiKeyring, caller: Caller, new: NewTrainee,
                         now: datetime) -> Trainee:
    citizen_id, industry, accounts = _validate(new, caller)
    row = Trainee(
        id=uuid.uuid4().hex, tenant_code=caller.tenant, name_enc=keyring.encrypt(new.name.strip(), context=NAME),
        citizen_id_enc=keyring.encrypt(citizen_id, context=CITIZEN_ID) if citizen_id else None,
        citizen_id_hash=keyring.lookup_hash(citizen_id, context=CITIZEN_ID) if citizen_id else None,
        employer_id=new.employer_id, employer_name=new.employer_name.strip(), industry_code=industry,
        key_position=new.key_position, user_id=new.user_id, create_time=now, created_by=caller.subject,
    )
    session.add(row)
    try:
        await session.flush()
        for account in accounts:
            session.add(TraineeAccount(tenant_code=row.tenant_code, trainee_id=row.id, home_page=account.home_page,
                                       account_name=account.name))
        await session.flush()
    except IntegrityError:
        raise AlreadyExists("this person or one of the xAPI accounts is already a trainee of the tenant",
                            reason="TRAINEE_EXISTS") from None
    return row


async def get_trainee(*, session: AsyncSession, caller: Caller, trainee_id: str) -> Trainee:
    row = (await session.scalars(select(Trainee).where(Trainee.id == trainee_id, trainee_scope(caller)))).first()
    if row is None:
        raise NotFound(f"trainee {trainee_id} not found")
    return row


async def list_trainees(*, session: AsyncSession, caller: Caller, after: tuple[str, str] | None,
                        limit: int) -> list[Trainee]:
    query = select(Trainee).where(trainee_scope(caller))
    query = newest_first(query, Trainee.create_time, Trainee.id, after, limit)
    return list((await session.scalars(query)).all())


async def accounts_of(session: AsyncSession, trainee_id: str) -> list[Account]:
    rows = (await session.scalars(select(TraineeAccount).where(TraineeAccount.trainee_id == trainee_id)
                                  .order_by(TraineeAccount.id))).all()
    return [Account(r.home_page, r.account_name) for r in rows]


def personal_view(keyring: PiiKeyring, caller: Caller, row: Trainee) -> dict[str, str]:
    name = keyring.decrypt(row.name_enc, context=NAME)
    citizen_id = keyring.decrypt(row.citizen_id_enc, context=CITIZEN_ID) if row.citizen_id_enc else ""
    if caller.may_see_personal(row.tenant_code) or (row.user_id and row.user_id == caller.subject):
        return {"name": name, "citizen_id": citizen_id}
    return {"name": mask_name(name), "citizen_id": mask_citizen_id(citizen_id) if citizen_id else ""}


# -- programmes and enrolment -------------------------------------------------------------------


@dataclass(frozen=True)
class NewProgramme:
    title: str
    year: int
    course_ids: list[str]


async def _visible_course(session: AsyncSession, course_id: str) -> Course | None:
    return await session.get(Course, course_id)


async def create_programme(*, session: AsyncSession, caller: Caller, new: NewProgramme, now: datetime) -> Programme:
    violations: list[FieldViolation] = []
    if is_blank(new.title) or len(new.title) > 200:
        violations.append(FieldViolation("programme.title", "is required, at most 200 characters"))
    if not 2000 <= new.year <= 2100:
        violations.append(FieldViolation("programme.year", "must be a year between 2000 and 2100"))
    ids = []
    for i, name in enumerate(new.course_ids[:100]):
        match = re.match(rf"^courses/{_ID}$", name)
        if not match:
            violations.append(FieldViolation(f"programme.courses[{i}]", "must be courses/{id}"))
            continue
        course = await _visible_course(session, match.group(1))
        if course is None or not (course.tenant_code == "100000" or caller.sees_tenant(course.tenant_code)):
            violations.append(FieldViolation(f"programme.courses[{i}]", "no such course"))
        ids.append(match.group(1))
    if len(new.course_ids) > 100:
        violations.append(FieldViolation("programme.courses", "at most 100"))
    if violations:
        raise InvalidArgument(violations)
    row = Programme(id=uuid.uuid4().hex, tenant_code=caller.tenant, title=new.title.strip(), year=new.year,
                    course_ids=ids, create_time=now, created_by=caller.subject)
    session.add(row)
    await session.flush()
    return row


def programme_scope(caller: Caller) -> ColumnElement[bool]:
    if caller.roles & {MINISTRY_OPERATOR, PROVINCIAL_OPERATOR, EMPLOYER_OFFICER}:
        return visible_to(Programme.tenant_code, caller)
    return Programme.tenant_code == caller.tenant if caller.tenant else false()


async def get_programme(*, session: AsyncSession, caller: Caller, programme_id: str) -> Programme:
    row = (await session.scalars(select(Programme).where(Programme.id == programme_id,
                                                        programme_scope(caller)))).first()
    if row is None:
        raise NotFound(f"programme {programme_id} not found")
    return row


async def list_programmes(*, session: AsyncSession, caller: Caller, after: tuple[str, str] | None,
                          limit: int) -> list[Programme]:
    query = select(Programme).where(programme_scope(caller))
    query = newest_first(query, Programme.create_time, Programme.id, after, limit)
    return list((await session.scalars(query)).all())


async def enrol(*, session: AsyncSession, caller: Caller, programme_id: str, trainee_id: str,
                now: datetime) -> Enrolment:
    """Enrols a trainee the caller may see in a programme of the trainee's tenant; enrolling twice
    answers the existing enrolment (a retry changes nothing)."""
    programme = await get_programme(session=session, caller=caller, programme_id=programme_id)
    trainee = await get_trainee(session=session, caller=caller, trainee_id=trainee_id)
    if trainee.tenant_code != programme.tenant_code:
        raise InvalidArgument.field("trainee", "must belong to the programme's tenant")
    existing = (await session.scalars(select(Enrolment).where(Enrolment.programme_id == programme.id,
                                                             Enrolment.trainee_id == trainee.id))).first()
    if existing is not None:
        return existing
    row = Enrolment(id=uuid.uuid4().hex, tenant_code=programme.tenant_code, programme_id=programme.id,
                    trainee_id=trainee.id, create_time=now)
    session.add(row)
    await session.flush()
    return row


# -- offline sessions and attendance ------------------------------------------------------------


async def create_offline_session(*, session: AsyncSession, caller: Caller, programme_id: str, course_id: str,
                                 title: str, location: str, start_time: datetime | None,
                                 now: datetime) -> OfflineSession:
    programme = await get_programme(session=session, caller=caller, programme_id=programme_id)
    violations: list[FieldViolation] = []
    if is_blank(title) or len(title) > 200:
        violations.append(FieldViolation("offline_session.title", "is required, at most 200 characters"))
    if len(location) > 200:
        violations.append(FieldViolation("offline_session.location", "must be at most 200 characters"))
    if start_time is None:
        violations.append(FieldViolation("offline_session.start_time", "is required"))
    if course_id not in programme.course_ids:
        violations.append(FieldViolation("offline_session.course", "must be one of the programme's courses"))
    if violations:
        raise InvalidArgument(violations)
    row = OfflineSession(id=uuid.uuid4().hex, tenant_code=programme.tenant_code, programme_id=programme.id,
                         course_id=course_id, title=title.strip(), location=location.strip(), start_time=start_time,
                         create_time=now)
    session.add(row)
    await session.flush()
    return row


async def record_attendance(*, session: AsyncSession, caller: Caller, session_id: str, trainee_ids: list[str],
                            now: datetime) -> int:
    """Marks enrolled trainees present; each attendance is a completion of the session's course.
    Recording the same person twice changes nothing. Returns how many attend in total."""
    offline = (await session.scalars(select(OfflineSession).where(
        OfflineSession.id == session_id, visible_to(OfflineSession.tenant_code, caller)))).first()
    if offline is None:
        raise NotFound(f"offline session {session_id} not found")
    enrolled = set((await session.scalars(select(Enrolment.trainee_id).where(
        Enrolment.programme_id == offline.programme_id))).all())
    strangers = [i for i, t in enumerate(trainee_ids) if t not in enrolled]
    if strangers:
        raise InvalidArgument([FieldViolation(f"trainees[{i}]", "is not enrolled in the session's programme")
                               for i in strangers])
    present = set((await session.scalars(select(Attendance.trainee_id).where(
        Attendance.session_id == offline.id))).all())
    for trainee_id in dict.fromkeys(trainee_ids):
        if trainee_id in present:
            continue
        session.add(Attendance(tenant_code=offline.tenant_code, session_id=offline.id, trainee_id=trainee_id,
                               record_time=now))
        await completions.record_trainee_completion(
            session, tenant_code=offline.tenant_code, source="attendance", course_id=offline.course_id,
            trainee_id=trainee_id, time=offline.start_time,
            statement_id=completions.own_statement_id("attendance", offline.id, trainee_id))
        present.add(trainee_id)
    await session.flush()
    return len(present)


# -- NF-8: a trainee's own learning data ----------------------------------------------------------


async def export_own(*, session: AsyncSession, keyring: PiiKeyring, caller: Caller) -> dict:
    """Everything the training service holds about the calling trainee (SPEC NF-8), as a JSON-able
    dict. The trainee is found by the identity user id in the token (``sub``), never by a parameter."""
    people = list((await session.scalars(select(Trainee).where(Trainee.user_id == caller.subject))).all()
                  ) if caller.subject else []
    result = {"subject": caller.subject, "trainees": []}
    for person in people:
        view = personal_view(keyring, caller, person)
        accounts = await accounts_of(session, person.id)
        programmes = (await session.execute(select(Programme.id, Programme.title, Programme.year, Enrolment.create_time)
                                            .join(Enrolment, Enrolment.programme_id == Programme.id)
                                            .where(Enrolment.trainee_id == person.id))).all()
        attended = (await session.execute(select(OfflineSession.id, OfflineSession.title, OfflineSession.start_time)
                                          .join(Attendance, Attendance.session_id == OfflineSession.id)
                                          .where(Attendance.trainee_id == person.id))).all()
        done = await person_completions(session, person)
        result["trainees"].append({
            "id": person.id, "tenant_code": person.tenant_code, "name": view["name"],
            "citizen_id": view["citizen_id"], "employer_id": person.employer_id,
            "employer_name": person.employer_name, "industry_code": person.industry_code,
            "key_position": person.key_position,
            "xapi_accounts": [{"homePage": a.home_page, "name": a.name} for a in accounts],
            "enrolments": [{"programme": f"programmes/{p.id}", "title": p.title, "year": p.year,
                            "enrol_time": p.create_time.isoformat()} for p in programmes],
            "attendance": [{"session": f"offlineSessions/{a.id}", "title": a.title,
                            "start_time": a.start_time.isoformat()} for a in attended],
            "completions": [{"statement_id": c.statement_id, "course": f"courses/{c.course_id}", "source": c.source,
                             "verb": c.verb, "time": c.time.isoformat(), "voided": c.voided} for c in done],
        })
    return result


async def person_completions(session: AsyncSession, person: Trainee) -> list[Completion]:
    accounts = await accounts_of(session, person.id)
    conditions = [Completion.trainee_id == person.id]
    conditions += [and_(Completion.home_page == a.home_page, Completion.account_name == a.name) for a in accounts]
    return list((await session.scalars(select(Completion).where(
        Completion.tenant_code == person.tenant_code, or_(*conditions)).order_by(Completion.time))).all())
