"""Sharing domain functions (no gRPC here)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import NATIONAL_TENANT, Caller
from services.common.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound, PermissionDenied
from services.common.tenancy import visible_to
from services.common.validators import validate_industry_code
from services.sharing.models import KeyIndustry


async def list_key_industries(
    *, session: AsyncSession, caller: Caller, after: tuple[str, str] | None, limit: int
) -> list[KeyIndustry]:
    """The national five plus the additions of tenants in the caller's subtree."""
    query = (
        select(KeyIndustry)
        .where(or_(KeyIndustry.tenant_code == NATIONAL_TENANT, visible_to(KeyIndustry.tenant_code, caller)))
        .order_by(KeyIndustry.tenant_code, KeyIndustry.code)
        .limit(limit)
    )
    if after is not None:
        query = query.where(tuple_(KeyIndustry.tenant_code, KeyIndustry.code) > tuple_(*after))
    return list((await session.scalars(query)).all())


KEY_INDUSTRY_CODE = re.compile(r"[a-z][a-z0-9_]{1,63}")
MAX_KEY_DIVISIONS = 30


@dataclass(frozen=True)
class KeyIndustryData:
    code: str
    display_name: str
    display_name_en: str
    divisions: list[str]


def validate_key_industry(data: KeyIndustryData, prefix: str = "key_industry") -> KeyIndustryData:
    """Every problem of a local key industry as a field violation (nothing is stored on any)."""
    problems: list[FieldViolation] = []
    if not KEY_INDUSTRY_CODE.fullmatch(data.code or ""):
        problems.append(FieldViolation(f"{prefix}.code", "must be 2-64 characters: a lower-case letter, then "
                                                         "lower-case letters, digits or _ (e.g. water_conservancy)"))
    name = (data.display_name or "").strip()
    if not name or len(name) > 64:
        problems.append(FieldViolation(f"{prefix}.display_name", "is required, at most 64 characters"))
    name_en = (data.display_name_en or "").strip()
    if len(name_en) > 128:
        problems.append(FieldViolation(f"{prefix}.display_name_en", "must be at most 128 characters"))
    divisions: list[str] = []
    if not data.divisions:
        problems.append(FieldViolation(f"{prefix}.divisions", "must list at least one GB/T 4754-2017 division"))
    elif len(data.divisions) > MAX_KEY_DIVISIONS:
        problems.append(FieldViolation(f"{prefix}.divisions", f"must list at most {MAX_KEY_DIVISIONS} divisions"))
    for index, value in enumerate(data.divisions[:MAX_KEY_DIVISIONS]):
        field = f"{prefix}.divisions[{index}]"
        try:
            code = validate_industry_code(value, field)
        except InvalidArgument as error:
            problems.extend(error.violations)
            continue
        if len(code) != 3:
            problems.append(FieldViolation(field, "must be a division: a section letter and 2 digits (e.g. N76)"))
        elif code in divisions:
            problems.append(FieldViolation(field, f"repeats {code}"))
        else:
            divisions.append(code)
    if problems:
        raise InvalidArgument(problems)
    return KeyIndustryData(data.code, name, name_en, divisions)


async def create_key_industry(*, session: AsyncSession, caller: Caller,
                              data: KeyIndustryData) -> tuple[KeyIndustry, bool]:
    """Adds a local key industry to the caller's tenant. The code is the client's id: the same
    content again replays (``False``); other content under it, or a code of the national five, is
    ALREADY_EXISTS."""
    data = validate_key_industry(data)
    if caller.tenant == NATIONAL_TENANT:
        raise PermissionDenied("the national key industries are seed data; tenants add local ones")
    if await session.get(KeyIndustry, (NATIONAL_TENANT, data.code)):
        raise AlreadyExists(f"key industry {data.code} is one of the national key industries",
                            reason="KEY_INDUSTRY_EXISTS")
    existing = await session.get(KeyIndustry, (caller.tenant, data.code))
    if existing is not None:
        if (existing.display_name, existing.display_name_en, list(existing.divisions)) == (
                data.display_name, data.display_name_en, data.divisions):
            return existing, False
        raise AlreadyExists(f"key industry {data.code} already exists with other content",
                            reason="KEY_INDUSTRY_EXISTS")
    row = KeyIndustry(tenant_code=caller.tenant, code=data.code, display_name=data.display_name,
                      display_name_en=data.display_name_en, divisions=data.divisions)
    session.add(row)
    await session.flush()
    return row, True


def parse_key_industry_name(name: str) -> str:
    code = (name or "").removeprefix("keyIndustries/")
    if code == name or not KEY_INDUSTRY_CODE.fullmatch(code):
        raise InvalidArgument.field("name", "must be keyIndustries/{code}")
    return code


async def delete_key_industry(*, session: AsyncSession, caller: Caller, code: str) -> None:
    """Removes a local key industry the caller's tenant added."""
    if caller.tenant == NATIONAL_TENANT:
        raise PermissionDenied("the national key industries are seed data; tenants remove only their own")
    row = await session.get(KeyIndustry, (caller.tenant, code), with_for_update=True)
    if row is None:
        raise NotFound(f"key industry {code} of tenant {caller.tenant} not found")
    await session.delete(row)
    await session.flush()
