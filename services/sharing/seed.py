"""`prevention seed` for sharing: the national key industries (idempotent, editable afterwards);
with --demo, demo records of every SH-1 type (services/sharing/demo.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import NATIONAL_TENANT
from services.sharing.models import KeyIndustry
from services.sharing.reference import NATIONAL_KEY_INDUSTRIES


async def seed(session: AsyncSession, *, demo: bool = False, settings=None) -> dict[str, int]:
    for code, name, name_en, divisions in NATIONAL_KEY_INDUSTRIES:
        existing = await session.get(KeyIndustry, (NATIONAL_TENANT, code))
        if existing is None:  # operators may have edited the seeded rows: never overwrite
            session.add(KeyIndustry(tenant_code=NATIONAL_TENANT, code=code, display_name=name,
                                    display_name_en=name_en, divisions=divisions))
    counts = {"key_industries": len(NATIONAL_KEY_INDUSTRIES)}
    if demo:  # two years of exposure, the denominators of the demo analytics (SPEC 7.6)
        from services.sharing import exposure
        from services.sharing.records import today_cst
        counts["exposure"] = await exposure.seed_demo(session, last_year=today_cst().year - 1)
    if demo:
        from services.sharing.rectification_seed import seed_demo_notices
        counts["rectification_notices"] = await seed_demo_notices(session)
    await session.commit()
    if demo:  # SH-1 demo records for charts (services/sharing/demo.py): deterministic, idempotent
        from services.sharing.demo import seed_demo

        counts.update(await seed_demo(session))
        await session.commit()
    return counts
