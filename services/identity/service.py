"""Identity domain functions (no gRPC here)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import NATIONAL_TENANT, Caller
from services.common.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound
from services.common.tenancy import visible_to
from services.identity.models import Tenant

_TENANT_NAME = re.compile(r"^tenants/(\d{6})$")


def parse_tenant_name(name: str, field: str = "name") -> str:
    match = _TENANT_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field(field, "must be tenants/{code} with a six-digit GB/T 2260 code")
    return match.group(1)


async def get_tenant(*, session: AsyncSession, caller: Caller, code: str) -> Tenant:
    tenant = await session.get(Tenant, code)
    # A tenant outside the caller's subtree is reported exactly like a missing one (SPEC 3).
    if tenant is None or not caller.sees_tenant(code):
        raise NotFound(f"tenant {code} not found")
    return tenant


async def list_tenants(
    *, session: AsyncSession, caller: Caller, parent_code: str | None, after: str | None, limit: int
) -> list[Tenant]:
    query = select(Tenant).where(visible_to(Tenant.code, caller)).order_by(Tenant.code).limit(limit)
    if parent_code is not None:
        query = query.where(Tenant.parent_code == parent_code)
    if after is not None:
        query = query.where(Tenant.code > after)
    return list((await session.scalars(query)).all())


def validate_pooling_region(*, code: str, parent_code: str, display_name: str, display_name_en: str) -> None:
    violations = []
    if not re.fullmatch(r"\d{4}00", code or "") or code.endswith("0000"):
        violations.append(FieldViolation("tenant.code", "must be a prefecture-level GB/T 2260 code (XXYY00)"))
    if not re.fullmatch(r"\d{2}0000", parent_code or "") or parent_code == NATIONAL_TENANT:
        violations.append(FieldViolation("tenant.parent_code", "must be a province (XX0000)"))
    elif code and code[:2] != parent_code[:2]:
        violations.append(FieldViolation("tenant.code", "must lie in the parent province (same first two digits)"))
    if not display_name.strip() or len(display_name) > 64:
        violations.append(FieldViolation("tenant.display_name", "is required, at most 64 characters"))
    if len(display_name_en) > 64:
        violations.append(FieldViolation("tenant.display_name_en", "must be at most 64 characters"))
    if violations:
        raise InvalidArgument(violations)


async def create_pooling_region(*, session: AsyncSession, code: str, parent_code: str, display_name: str,
                                display_name_en: str) -> Tenant:
    """A pooling region (统筹地区) under a province; a province without regions is its own."""
    validate_pooling_region(code=code, parent_code=parent_code, display_name=display_name,
                            display_name_en=display_name_en)
    if await session.get(Tenant, parent_code) is None:
        raise InvalidArgument.field("tenant.parent_code", "is not a known province")
    if await session.get(Tenant, code) is not None:
        raise AlreadyExists(f"tenant {code} exists", reason="TENANT_EXISTS")
    tenant = Tenant(code=code, parent_code=parent_code, level="pooling_region", display_name=display_name.strip(),
                    display_name_en=display_name_en.strip())
    session.add(tenant)
    await session.flush()
    return tenant
