"""`prevention seed` for assessment: the action-plan cycles (idempotent; never overwrites edits)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.assessment.models import ActionPlan
from services.assessment.reference import ACTION_PLANS


async def seed(session: AsyncSession, *, demo: bool = False, settings=None) -> dict[str, int]:
    for plan in ACTION_PLANS:
        if await session.get(ActionPlan, plan["id"]) is None:
            session.add(ActionPlan(**plan))
    result: dict[str, int] = {"action_plans": len(ACTION_PLANS)}
    if demo:  # embedded mode only (SPEC 7.6)
        from services.assessment.demo import seed_demo

        result.update(await seed_demo(session))
        if settings is not None:
            from services.assessment.demo import upload_demo_documents
            from services.common.storage import object_store

            result["documents"] = await upload_demo_documents(object_store(settings))
    await session.commit()
    return result
