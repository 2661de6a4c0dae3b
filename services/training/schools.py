"""Technical-school prevention courses and warning-education bases (SPEC TR-7).

A provincial operator records, for its tenant, the prevention courses technical schools declare
(with the mandatory content categories each covers) and the warning-education bases; everyone
authenticated in the tenant subtree reads them. A base's website is a stored URL: it gets the
same S11 check as every URL field (services.training.platforms.check_public_url)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import Caller
from services.common.errors import FieldViolation, InvalidArgument
from services.common.pagination import newest_first
from services.common.tenancy import visible_to
from services.common.validators import validate_industry_code
from services.training.core_models import TechnicalSchoolCourse, WarningEducationBase
from services.training.platforms import check_public_url
from services.training.reference import is_blank
from services.training.service import CONTENT_CATEGORIES


def _text(violations, field: str, value: str, limit: int, required: bool = True) -> None:
    if (required and is_blank(value)) or len(value) > limit:
        violations.append(FieldViolation(field, f"{'is required, ' if required else ''}at most {limit} characters"))


async def create_school_course(*, session: AsyncSession, caller: Caller, school_name: str, course_title: str,
                               content_categories: list[str], academic_year: int,
                               now: datetime) -> TechnicalSchoolCourse:
    violations: list[FieldViolation] = []
    _text(violations, "technical_school_course.school_name", school_name, 200)
    _text(violations, "technical_school_course.course_title", course_title, 200)
    if not content_categories or any(c not in CONTENT_CATEGORIES for c in content_categories):
        violations.append(FieldViolation("technical_school_course.content_categories",
                                         f"give one or more of {', '.join(CONTENT_CATEGORIES)}"))
    if not 2000 <= academic_year <= 2100:
        violations.append(FieldViolation("technical_school_course.academic_year", "must be a year 2000-2100"))
    if violations:
        raise InvalidArgument(violations)
    row = TechnicalSchoolCourse(id=uuid.uuid4().hex, tenant_code=caller.tenant, school_name=school_name.strip(),
                                course_title=course_title.strip(),
                                content_categories=[c for c in CONTENT_CATEGORIES if c in set(content_categories)],
                                academic_year=academic_year, create_time=now, created_by=caller.subject)
    session.add(row)
    await session.flush()
    return row


async def create_base(*, session: AsyncSession, caller: Caller, name: str, address: str, industries: list[str],
                      website: str, now: datetime) -> WarningEducationBase:
    violations: list[FieldViolation] = []
    _text(violations, "warning_education_base.name", name, 200)
    _text(violations, "warning_education_base.address", address, 300, required=False)
    codes = []
    for i, code in enumerate(industries[:50]):
        try:
            codes.append(validate_industry_code(code, f"warning_education_base.industries[{i}]"))
        except InvalidArgument as error:
            violations.extend(error.violations)
    url = ""
    if website:
        try:
            url = check_public_url(website, "warning_education_base.website")
        except InvalidArgument as error:
            violations.extend(error.violations)
    if violations:
        raise InvalidArgument(violations)
    row = WarningEducationBase(id=uuid.uuid4().hex, tenant_code=caller.tenant, name=name.strip(),
                               address=address.strip(), industries=sorted(set(codes)), website=url, create_time=now,
                               created_by=caller.subject)
    session.add(row)
    await session.flush()
    return row


async def list_rows(model, *, session: AsyncSession, caller: Caller, after: tuple[str, str] | None, limit: int):
    query = select(model).where(visible_to(model.tenant_code, caller))
    query = newest_first(query, model.create_time, model.id, after, limit)
    return list((await session.scalars(query)).all())
