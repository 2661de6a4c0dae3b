"""Demo rectification notices for `prevention seed --demo` (embedded mode): per demo province, one
notice in each state of the workflow, with its transitions. Ids are derived from names (uuid5), so
seeding twice adds nothing. The employers are named by deterministic demo organisation ids; the
sharing service does not read identity's organisations (services never import each other)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.clock import cst_date, cst_end_of_day
from services.sharing import rectification as r
from services.sharing.rectification_models import RectificationNotice, RectificationTransition

DEMO_TENANTS = ("110000", "120000")
_NAMESPACE = uuid.UUID("6f1c3a52-9d7e-4b1e-8a44-0c2f5e7d9b31")
# (state, path of transitions after "issued", source type, days from today to the deadline)
_DEMO = (
    (r.ISSUED, (), r.HAZARD_REPORT, 20),
    (r.RESPONDED, (r.RESPONDED,), r.MEASUREMENT_EXCEEDANCE, 10),
    (r.RETURNED, (r.RESPONDED, r.RETURNED), r.HAZARD_REPORT, 5),
    (r.CLOSED, (r.RESPONDED, r.CLOSED), r.MEASUREMENT_EXCEEDANCE, -10),
    (r.ESCALATED, (r.ESCALATED,), r.HAZARD_REPORT, -3),
)
_ACTIONS = {r.HAZARD_REPORT: "Fit guardrails to every open edge of the mezzanine.",
            r.MEASUREMENT_EXCEEDANCE: "Bring silica dust below the occupational exposure limit; repair extraction."}
_REASONS = {r.RESPONDED: "Response with photographs", r.RETURNED: "The photographs do not show the east edge.",
            r.CLOSED: "Verified on site.", r.ESCALATED: "Overdue; referred for enforcement."}


def _id(*parts: str) -> str:
    return uuid.uuid5(_NAMESPACE, "/".join(parts)).hex


async def seed_demo_notices(session: AsyncSession, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    created = 0
    for tenant in DEMO_TENANTS:
        for index, (state, path, source_type, days) in enumerate(_DEMO):
            notice_id = _id("notice", tenant, state)
            if await session.get(RectificationNotice, notice_id) is not None:
                continue
            deadline = cst_date(now) + timedelta(days=days)
            issued_at = now - timedelta(days=30)
            source = ("hazardReports/" if source_type == r.HAZARD_REPORT else "measurements/") + _id("source", tenant,
                                                                                                   state)
            row = RectificationNotice(
                id=notice_id, tenant_code=tenant, employer=f"organisations/{_id('employer', tenant, str(index))}",
                source=source, source_type=source_type, required_action=_ACTIONS[source_type],
                deadline_date=deadline, due_time=cst_end_of_day(deadline), law=r.DEFAULT_LAW[source_type],
                state=r.ISSUED, issuing_organisation="", issued_by="demo-seed", create_time=issued_at,
                update_time=issued_at, response="Guardrails fitted; photographs attached." if path else "",
                enforcement_referral="")
            session.add(row)
            session.add(RectificationTransition(id=_id("transition", notice_id, "issued"), notice_id=notice_id,
                                                tenant_code=tenant, from_state="", to_state=r.ISSUED,
                                                actor="demo-seed", time=issued_at, reason=f"raised from {source}"))
            for step, target in enumerate(path, start=1):
                when = issued_at + timedelta(days=step)
                if target == r.ESCALATED:
                    row.enforcement_referral = r.referral_text(row)
                session.add(RectificationTransition(id=_id("transition", notice_id, target), notice_id=notice_id,
                                                    tenant_code=tenant, from_state=row.state, to_state=target,
                                                    actor="demo-seed", time=when, reason=_REASONS[target]))
                row.state, row.update_time = target, when
            created += 1
    return created
