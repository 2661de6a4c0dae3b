"""`prevention seed` for identity: the tenant tree (idempotent)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.models import Tenant
from services.identity.reference import NATIONAL, PROVINCES


async def seed(session: AsyncSession, *, demo: bool = False) -> dict[str, int]:
    code, name, name_en = NATIONAL
    rows = [Tenant(code=code, parent_code=None, level="national", display_name=name, display_name_en=name_en)]
    rows += [
        Tenant(code=c, parent_code=NATIONAL[0], level="province", display_name=n, display_name_en=e)
        for c, n, e in PROVINCES
    ]
    for row in rows:
        await session.merge(row)
    await session.commit()
    return {"tenants": len(rows)}
