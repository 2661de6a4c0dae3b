"""`prevention seed` for training. Reference data lives in code (services/training/reference.py);
``--demo`` (embedded mode, SPEC 7.6) adds: the demo training platform (API client
``demo-training-platform``, created by the identity seed) recommended on Beijing's list, a national
and a Beijing course with a module, and for Beijing and Tianjin a programme of the current year
with one trainee per key position in two key industries, enrolled, some of them trained.
Idempotent: a second run adds nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.pii import PiiKeyring
from services.training import completions
from services.training.core_models import (
    CourseModule,
    Enrolment,
    Programme,
    Trainee,
    TraineeAccount,
    TrainingPlatform,
    TrainingPlatformClient,
    TrainingPlatformTransition,
)
from services.training.models import Course
from services.training.reference import KEY_POSITIONS
from services.training.trainees import NAME

DEMO_CLIENT = "demo-training-platform"  # the identity seed's API client (SPEC 7.6)
DEMO_PLATFORM_URL = "https://learn.demo-platform.example.com"
DEMO_NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊")
DEMO_INDUSTRIES = (("B0610", "Demo Coal Mining Co."), ("E4710", "Demo Construction Group"))


async def seed(session: AsyncSession, *, demo: bool = False, settings=None) -> dict[str, int]:
    if not demo:
        return {}
    existing = (await session.scalars(select(TrainingPlatform).where(
        TrainingPlatform.base_url == DEMO_PLATFORM_URL))).first()
    if existing is not None:
        return {"platforms": 0, "courses": 0, "trainees": 0}
    keyring = PiiKeyring.from_settings(settings)
    now = datetime.now(UTC)
    platform = TrainingPlatform(id=uuid.uuid4().hex, tenant_code="110000", display_name="Demo training platform",
                                kind="platform", base_url=DEMO_PLATFORM_URL,
                                qualifications=["Demo: provincial training institution licence"],
                                state="recommended", create_time=now, update_time=now, created_by="seed")
    session.add(platform)
    await session.flush()
    session.add(TrainingPlatformClient(tenant_code="110000", platform_id=platform.id, client_id=DEMO_CLIENT))
    session.add(TrainingPlatformTransition(tenant_code="110000", platform_id=platform.id, seq=1, from_state="",
                                           to_state="recommended", reason="demo data", actor="seed", time=now))
    courses = []
    for tenant, title, category in (("100000", "Work-injury prevention policy (national)", "policy_regulation"),
                                    ("110000", "Accident prevention for team leaders", "accident_prevention")):
        course = Course(id=uuid.uuid4().hex, tenant_code=tenant, title=title, description="Demo course",
                        content_category=category, contact_phone="", create_time=now, created_by="seed")
        session.add(course)
        await session.flush()
        session.add(CourseModule(id=uuid.uuid4().hex, tenant_code=tenant, course_id=course.id, title="Module 1",
                                 position=1, create_time=now))
        courses.append(course)
    trainees = 0
    for tenant in ("110000", "120000"):
        programme = Programme(id=uuid.uuid4().hex, tenant_code=tenant, title=f"Key positions {now.year}",
                              year=now.year, course_ids=[c.id for c in courses], create_time=now, created_by="seed")
        session.add(programme)
        await session.flush()
        names = iter(DEMO_NAMES)
        for industry, employer in DEMO_INDUSTRIES:
            for position in KEY_POSITIONS:
                person = Trainee(id=uuid.uuid4().hex, tenant_code=tenant,
                                 name_enc=keyring.encrypt(next(names), context=NAME), employer_id=uuid.uuid4().hex,
                                 employer_name=employer, industry_code=industry, key_position=position, user_id="",
                                 create_time=now, created_by="seed")
                session.add(person)
                await session.flush()
                account = f"demo-{person.id[:8]}"
                session.add(TraineeAccount(tenant_code=tenant, trainee_id=person.id, home_page=DEMO_PLATFORM_URL,
                                           account_name=account))
                session.add(Enrolment(id=uuid.uuid4().hex, tenant_code=tenant, programme_id=programme.id,
                                      trainee_id=person.id, create_time=now))
                trainees += 1
                if position != "front_line_team_leader":  # leave some people uncovered to follow up
                    await completions.record_statement(
                        session, tenant_code=tenant, statement_id=str(uuid.uuid4()), verb=completions.TRAINED_VERBS[0],
                        activity_id=completions.course_activity_id(DEMO_PLATFORM_URL, courses[-1].id),
                        account_home_page=DEMO_PLATFORM_URL, account_name=account, timestamp=now)
    await session.commit()
    return {"platforms": 1, "courses": len(courses), "trainees": trainees}
