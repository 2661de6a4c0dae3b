"""Assessment domain functions (no gRPC here)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.assessment.models import ActionPlan
from services.common.clock import Clock, cst_date
from services.common.errors import InvalidArgument, NotFound

ACTIVE = "active"
_PLAN_NAME = re.compile(r"^actionPlans/([0-9a-z-]{1,32})$")


def parse_plan_name(name: str) -> str:
    match = _PLAN_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field("name", "must be actionPlans/{id} or actionPlans/active")
    return match.group(1)


async def list_plans(*, session: AsyncSession, after: str | None, limit: int) -> list[ActionPlan]:
    query = select(ActionPlan).order_by(ActionPlan.start_date, ActionPlan.id).limit(limit)
    if after is not None:
        query = query.where(ActionPlan.id > after)
    return list((await session.scalars(query)).all())


async def get_plan(*, session: AsyncSession, plan_id: str, clock: Clock) -> ActionPlan:
    """A plan by id; ``active`` is the plan whose period holds today's date in CST."""
    if plan_id == ACTIVE:
        today = cst_date(clock.now())
        plan = (
            await session.scalars(
                select(ActionPlan).where(ActionPlan.start_date <= today, ActionPlan.end_date >= today).limit(1)
            )
        ).first()
        if plan is None:
            raise NotFound(f"no action plan is active on {today.isoformat()}")
        return plan
    plan = await session.get(ActionPlan, plan_id)
    if plan is None:
        raise NotFound(f"action plan {plan_id} not found")
    return plan
