"""Training domain functions (no gRPC here)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import NATIONAL_TENANT, Caller
from services.common.errors import FieldViolation, InvalidArgument, NotFound
from services.common.pagination import newest_first
from services.common.tenancy import visible_to
from services.common.validators import validate_phone
from services.training.models import Course

CONTENT_CATEGORIES = ("policy_regulation", "accident_prevention", "warning_education")
_COURSE_NAME = re.compile(r"^courses/([0-9a-f]{32})$")


@dataclass(frozen=True)
class NewCourse:
    title: str
    description: str
    content_category: str
    contact_phone: str


def validate_new_course(course: NewCourse) -> None:
    violations: list[FieldViolation] = []
    if not course.title.strip():
        violations.append(FieldViolation("course.title", "is required"))
    elif len(course.title) > 200:
        violations.append(FieldViolation("course.title", "must be at most 200 characters"))
    if len(course.description) > 10_000:
        violations.append(FieldViolation("course.description", "must be at most 10000 characters"))
    if course.content_category not in CONTENT_CATEGORIES:
        violations.append(
            FieldViolation("course.content_category", f"must be one of {', '.join(CONTENT_CATEGORIES)}")
        )
    if course.contact_phone:
        try:  # the value is personal data: the message names the field only
            validate_phone(course.contact_phone, "course.contact_phone")
        except InvalidArgument as error:
            violations.extend(error.violations)
    if violations:
        raise InvalidArgument(violations)


def parse_course_name(name: str) -> str:
    match = _COURSE_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field("name", "must be courses/{id}")
    return match.group(1)


async def create_course(*, session: AsyncSession, caller: Caller, course: NewCourse) -> Course:
    validate_new_course(course)
    row = Course(
        id=uuid.uuid4().hex,
        tenant_code=NATIONAL_TENANT if caller.is_ministry else caller.tenant,
        title=course.title.strip(),
        description=course.description,
        content_category=course.content_category,
        contact_phone=course.contact_phone,
        create_time=datetime.now(UTC),
        created_by=caller.subject,
    )
    session.add(row)
    await session.flush()
    return row


def _visible(caller: Caller):
    return or_(Course.tenant_code == NATIONAL_TENANT, visible_to(Course.tenant_code, caller))


async def get_course(*, session: AsyncSession, caller: Caller, course_id: str) -> Course:
    row = (await session.scalars(select(Course).where(Course.id == course_id, _visible(caller)))).first()
    if row is None:
        raise NotFound(f"course {course_id} not found")
    return row


async def list_courses(
    *, session: AsyncSession, caller: Caller, after: tuple[str, str] | None, limit: int
) -> list[Course]:
    query = newest_first(select(Course).where(_visible(caller)), Course.create_time, Course.id, after, limit)
    return list((await session.scalars(query)).all())
