"""Identity domain functions (no gRPC here)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import Caller
from services.common.errors import InvalidArgument, NotFound
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
