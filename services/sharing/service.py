"""Sharing domain functions (no gRPC here)."""

from __future__ import annotations

from sqlalchemy import or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import NATIONAL_TENANT, Caller
from services.common.tenancy import visible_to
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
