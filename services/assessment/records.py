"""Good-practice cases and reward/penalty records (SPEC AS-7), and the retention purge of
assessment records (SPEC NF-8; RELIABILITY A4). Domain functions only.

Decisions:
- Records belong to the caller's tenant (MO: the national tenant, visible to every tenant);
  everyone in a tenant reads its subtree's records and the national ones.
- Retention per record type (RETENTION, overridable per call): reward/penalty records 5 years
  after the decision; premium-rate inputs 10 years after their year; rate runs with their results
  10 years after the run. Each purge writes one PurgeAudit row per record type, in the same
  transaction as the deletes; the purge audit itself is never purged (security logs are kept).
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.assessment.models_filings import GoodPracticeCase, PurgeAudit, RewardPenaltyRecord
from services.assessment.models_rates import RateInput, RateResultRow, RateRun
from services.assessment.validation import ORGANISATION_NAME, fen, parse_date, raise_if, text
from services.common.clock import cst_date
from services.common.context import NATIONAL_TENANT, Caller
from services.common.errors import FieldViolation
from services.common.tenancy import visible_to

log = logging.getLogger("prevention.assessment.retention")
RETENTION: dict[str, timedelta] = {
    "reward_penalty_records": timedelta(days=5 * 365),
    "rate_inputs": timedelta(days=10 * 365),
    "rate_runs": timedelta(days=10 * 365),
}
_INDUSTRY = re.compile(r"^([A-T]([0-9]{2,4})?)?$")


@dataclass(frozen=True)
class CaseData:
    title: str
    summary: str
    industry_code: str
    year: int


@dataclass(frozen=True)
class RewardPenaltyData:
    organisation: str
    kind: str
    reason: str
    amount_fen: int
    decided_on: str


def _readable(column, caller: Caller):
    return or_(visible_to(column, caller), column == NATIONAL_TENANT)


async def create_case(*, session: AsyncSession, caller: Caller, data: CaseData, now: datetime) -> GoodPracticeCase:
    prefix = "good_practice_case."
    violations: list[FieldViolation] = []
    title = text(data.title, f"{prefix}title", violations, maximum=200)
    summary = text(data.summary, f"{prefix}summary", violations, maximum=20_000)
    if not _INDUSTRY.match(data.industry_code or ""):
        violations.append(FieldViolation(f"{prefix}industry_code", "must be a GB/T 4754-2017 code such as C26"))
    if not 2000 <= data.year <= 2100:
        violations.append(FieldViolation(f"{prefix}year", "must be a year between 2000 and 2100"))
    raise_if(violations)
    row = GoodPracticeCase(id=uuid.uuid4().hex, tenant_code=caller.tenant, title=title, summary=summary,
                           industry_code=data.industry_code, year=data.year, created_by=caller.subject,
                           create_time=now)
    session.add(row)
    await session.flush()
    return row


async def list_cases(*, session: AsyncSession, caller: Caller, after: str | None, limit: int) -> list[GoodPracticeCase]:
    query = select(GoodPracticeCase).where(_readable(GoodPracticeCase.tenant_code, caller))
    if after is not None:
        query = query.where(GoodPracticeCase.id > after)
    return list((await session.scalars(query.order_by(GoodPracticeCase.id).limit(limit))).all())


async def create_reward_penalty(*, session: AsyncSession, caller: Caller, data: RewardPenaltyData,
                                now: datetime) -> RewardPenaltyRecord:
    prefix = "reward_penalty_record."
    violations: list[FieldViolation] = []
    if not ORGANISATION_NAME.match(data.organisation or ""):
        violations.append(FieldViolation(f"{prefix}organisation", "must be organisations/{id}"))
    if data.kind not in ("reward", "penalty"):
        violations.append(FieldViolation(f"{prefix}kind", "must be reward or penalty"))
    reason = text(data.reason, f"{prefix}reason", violations, maximum=5000)
    amount = fen(data.amount_fen, f"{prefix}amount_fen", violations, positive=False)
    decided = parse_date(data.decided_on, f"{prefix}decided_on", violations)
    if decided and decided > cst_date(now):
        violations.append(FieldViolation(f"{prefix}decided_on", "must not be in the future"))
    raise_if(violations)
    row = RewardPenaltyRecord(id=uuid.uuid4().hex, tenant_code=caller.tenant, organisation=data.organisation,
                              kind=data.kind, reason=reason, amount_fen=amount, decided_on=decided,
                              created_by=caller.subject, create_time=now)
    session.add(row)
    await session.flush()
    return row


async def list_reward_penalty(*, session: AsyncSession, caller: Caller, after: str | None,
                              limit: int) -> list[RewardPenaltyRecord]:
    query = select(RewardPenaltyRecord).where(_readable(RewardPenaltyRecord.tenant_code, caller))
    if after is not None:
        query = query.where(RewardPenaltyRecord.id > after)
    return list((await session.scalars(query.order_by(RewardPenaltyRecord.id).limit(limit))).all())


# -- retention purge -----------------------------------------------------------------------------


async def purge_expired(*, sessionmaker, now: datetime,
                        retention: dict[str, timedelta] | None = None) -> dict[str, int]:
    """Deletes what is past its retention at ``now``; audits every record type, even at 0."""
    keep = {**RETENTION, **(retention or {})}
    counts: dict[str, int] = {}
    async with sessionmaker() as session:
        cutoffs = {name: now - period for name, period in keep.items()}
        result = await session.execute(delete(RewardPenaltyRecord).where(
            RewardPenaltyRecord.decided_on < cst_date(cutoffs["reward_penalty_records"])))
        counts["reward_penalty_records"] = result.rowcount or 0
        # An input's year ends on 31 December; it expires once that end is older than the cutoff.
        last_year = cst_date(cutoffs["rate_inputs"]).year - 1
        result = await session.execute(delete(RateInput).where(RateInput.year <= last_year))
        counts["rate_inputs"] = result.rowcount or 0
        old_runs = select(RateRun.id).where(RateRun.create_time < cutoffs["rate_runs"])
        await session.execute(delete(RateResultRow).where(RateResultRow.run_id.in_(old_runs)))
        result = await session.execute(delete(RateRun).where(RateRun.create_time < cutoffs["rate_runs"]))
        counts["rate_runs"] = result.rowcount or 0
        for name, purged in counts.items():
            session.add(PurgeAudit(record_type=name, cutoff=cutoffs[name], purged=purged,
                                   details={"retention_days": str(keep[name].days)}, run_time=now))
        await session.commit()
    log.info("retention purge", extra={"purged": sum(counts.values())})
    return counts


async def purge_audit(*, session: AsyncSession) -> list[PurgeAudit]:
    return list((await session.scalars(select(PurgeAudit).order_by(PurgeAudit.id))).all())


def purge_background(*, sessionmaker, clock, lock, interval: timedelta = timedelta(days=1), tick: float = 60.0):
    """The daily retention purge; one runner holds ``lock`` (SPEC OPS-3)."""
    from services.common.scheduler import Job, Scheduler

    async def run(now: datetime) -> None:
        await purge_expired(sessionmaker=sessionmaker, now=now)

    scheduler = Scheduler([Job("assessment-retention-purge", interval, run)], lock=lock, clock=clock)

    async def background(stop) -> None:
        await scheduler.run_forever(stop, tick=tick)

    return background
