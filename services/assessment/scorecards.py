"""Provincial scorecards (SPEC AS-5, 7.7): each indicator scored 0-100 by linear interpolation
between a floor (0) and a target (100), clamped; weights sum to 1; total = Σ weight × score; rank
per year (ties share a rank); every score keeps its inputs.

Indicators:
- own data (computed here): ``on_time_filing_rate`` (filings due in the year first submitted by
  their due date / filings due in the year) and ``project_acceptance_rate`` (projects of the
  year's budget that completed / completed + failed);
- from peers, through ONE seam, ``IndicatorSource``: ``key_industry_incidence_change`` (vs the
  plan's baseline) and ``rectification_closure_rate`` from sharing, ``training_coverage`` from
  training. The gRPC implementation is the integrator's once those RPCs exist; until then the
  service runs with ``NoExternalIndicators`` (those indicators show "no data" and score 0).

An indicator without data scores 0 and says so in its inputs (a missing report costs points
rather than silently re-weighting the others). All arithmetic is Decimal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.assessment import filings
from services.assessment.models import ActionPlan
from services.assessment.models_filings import Filing, ScorecardConfigRow, ScorecardRow
from services.assessment.models_projects import Project
from services.assessment.reference import PROVINCES
from services.common.context import Caller
from services.common.errors import FieldViolation, InvalidArgument
from services.common.tenancy import visible_to

INDICATORS = ("key_industry_incidence_change", "rectification_closure_rate", "training_coverage",
              "on_time_filing_rate", "project_acceptance_rate")
# Defaults when a year has no stored configuration; targets of the plan's own indicators come
# from the active plan (AS-8) where it has one.
DEFAULT_CONFIG = (
    ("key_industry_incidence_change", "0", "-0.20", "0.30"),
    ("training_coverage", "0.50", "1.00", "0.20"),
    ("on_time_filing_rate", "0.50", "1.00", "0.15"),
    ("project_acceptance_rate", "0.50", "1.00", "0.15"),
    ("rectification_closure_rate", "0.50", "1.00", "0.20"),
)
PLAN_TARGETS = {"key_industry_incidence_change": "key_industry_incidence_change",
                "training_coverage": "key_position_training_coverage"}
HUNDRED = Decimal(100)
_CONFIG_NAME = re.compile(r"^scorecardConfigs/([0-9]{4})$")


@dataclass(frozen=True)
class IndicatorValue:
    value: Decimal
    inputs: dict[str, str] = field(default_factory=dict)


class IndicatorSource(Protocol):
    """The seam for indicators other services own. One method per indicator; ``None`` = no data."""

    async def incidence_change(self, *, tenant_code: str, year: int, baseline_year: int) -> IndicatorValue | None: ...

    async def rectification_closure(self, *, tenant_code: str, year: int) -> IndicatorValue | None: ...

    async def training_coverage(self, *, tenant_code: str, year: int) -> IndicatorValue | None: ...


class NoExternalIndicators:
    """Until the gRPC IndicatorSource is wired: every external indicator has no data."""

    async def incidence_change(self, **_) -> IndicatorValue | None:
        return None

    async def rectification_closure(self, **_) -> IndicatorValue | None:
        return None

    async def training_coverage(self, **_) -> IndicatorValue | None:
        return None


@dataclass(frozen=True)
class Config:
    indicator: str
    floor: Decimal
    target: Decimal
    weight: Decimal


def parse_config_name(name: str) -> int:
    match = _CONFIG_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field("name", "must be scorecardConfigs/{year}")
    return int(match.group(1))


def validate_config(year: int, items: list[tuple[str, str, str, str]]) -> list[Config]:
    prefix = "scorecard_config.indicators"
    violations: list[FieldViolation] = []
    if not 2000 <= year <= 2100:
        violations.append(FieldViolation("scorecard_config.year", "must be a year between 2000 and 2100"))
    configs, seen = [], set()
    for index, (indicator, *numbers) in enumerate(items):
        at = f"{prefix}[{index}]"
        if indicator not in INDICATORS:
            violations.append(FieldViolation(f"{at}.indicator", f"must be one of {', '.join(INDICATORS)}"))
            continue
        if indicator in seen:
            violations.append(FieldViolation(f"{at}.indicator", "is listed twice"))
        seen.add(indicator)
        parsed = []
        for name, raw in zip(("floor", "target", "weight"), numbers, strict=True):
            try:
                number = Decimal(raw)
                if not number.is_finite():
                    raise InvalidOperation
                parsed.append(number)
            except (InvalidOperation, TypeError):
                violations.append(FieldViolation(f"{at}.{name}", "must be a decimal number"))
        if len(parsed) != 3:
            continue
        floor, target, weight = parsed
        if floor == target:
            violations.append(FieldViolation(f"{at}.target", "must differ from floor"))
        if not 0 <= weight <= 1:
            violations.append(FieldViolation(f"{at}.weight", "must be between 0 and 1"))
        configs.append(Config(indicator, floor, target, weight))
    if not items:
        violations.append(FieldViolation(prefix, "must list at least one indicator"))
    elif not violations and sum(c.weight for c in configs) != 1:
        total = sum(c.weight for c in configs)
        violations.append(FieldViolation(prefix, f"weights must sum to 1 (they sum to {total})"))
    if violations:
        raise InvalidArgument(violations)
    return configs


async def _plan_for_year(session: AsyncSession, year: int) -> ActionPlan | None:
    return await filings.plan_on(session, date(year, 12, 31))


async def get_config(session: AsyncSession, year: int) -> list[Config]:
    row = await session.get(ScorecardConfigRow, year)
    if row is not None:
        return [Config(i["indicator"], Decimal(i["floor"]), Decimal(i["target"]), Decimal(i["weight"]))
                for i in row.indicators]
    plan = await _plan_for_year(session, year)
    targets = {t["indicator"]: t["value"] for t in (plan.targets if plan else [])}
    return [Config(name, Decimal(floor), Decimal(targets.get(PLAN_TARGETS.get(name, ""), target)), Decimal(weight))
            for name, floor, target, weight in DEFAULT_CONFIG]


async def set_config(*, session: AsyncSession, caller: Caller, year: int, configs: list[Config],
                     now: datetime) -> None:
    values = [{"indicator": c.indicator, "floor": str(c.floor), "target": str(c.target), "weight": str(c.weight)}
              for c in configs]
    row = await session.get(ScorecardConfigRow, year)
    if row is None:
        session.add(ScorecardConfigRow(year=year, indicators=values, updated_by=caller.subject, update_time=now))
    else:
        row.indicators, row.updated_by, row.update_time = values, caller.subject, now
    await session.flush()


def score(value: Decimal, floor: Decimal, target: Decimal) -> Decimal:
    """0 at the floor, 100 at the target, linear between, clamped (works for falling targets too)."""
    raw = (value - floor) / (target - floor) * HUNDRED
    return min(max(raw, Decimal(0)), HUNDRED).quantize(Decimal("0.01"))


async def on_time_filing_rate(session: AsyncSession, tenant: str, year: int) -> IndicatorValue | None:
    plan = await _plan_for_year(session, year)
    if plan is None:
        return None
    expected = [("annual_report", year)]
    if plan.implementation_plan_due.year == year:
        expected.append(("implementation_plan", plan.start_date.year))
    rows = (await session.scalars(select(Filing).where(Filing.tenant_code == tenant, Filing.plan_id == plan.id))).all()
    filed = {(r.kind, r.year): r for r in rows}
    timely = sum(1 for key in expected if key in filed and filings.on_time(filed[key]))
    return IndicatorValue(Decimal(timely) / Decimal(len(expected)),
                          {"filings_due": str(len(expected)), "filed_on_time": str(timely)})


async def project_acceptance_rate(session: AsyncSession, tenant: str, year: int) -> IndicatorValue | None:
    counts = dict((await session.execute(
        select(Project.state, func.count()).where(Project.tenant_code.startswith(tenant[:2]),
                                                  Project.budget_year == year,
                                                  Project.state.in_(("completed", "failed")))
        .group_by(Project.state))).all())
    completed, failed = int(counts.get("completed", 0)), int(counts.get("failed", 0))
    if completed + failed == 0:
        return None
    return IndicatorValue(Decimal(completed) / Decimal(completed + failed),
                          {"completed": str(completed), "failed": str(failed)})


async def _value(session, source: IndicatorSource, indicator: str, tenant: str, year: int) -> IndicatorValue | None:
    if indicator == "on_time_filing_rate":
        return await on_time_filing_rate(session, tenant, year)
    if indicator == "project_acceptance_rate":
        return await project_acceptance_rate(session, tenant, year)
    if indicator == "key_industry_incidence_change":
        plan = await _plan_for_year(session, year)
        return await source.incidence_change(tenant_code=tenant, year=year,
                                             baseline_year=plan.baseline_year if plan else year - 1)
    if indicator == "rectification_closure_rate":
        return await source.rectification_closure(tenant_code=tenant, year=year)
    return await source.training_coverage(tenant_code=tenant, year=year)


async def compute(*, session: AsyncSession, source: IndicatorSource, year: int, now: datetime,
                  provinces: tuple[str, ...] = PROVINCES) -> list[ScorecardRow]:
    """Scores and ranks every province for ``year`` and stores the result (replacing the year's)."""
    if not 2000 <= year <= 2100:
        raise InvalidArgument.field("year", "must be a year between 2000 and 2100")
    configs = await get_config(session, year)
    cards = []
    for tenant in provinces:
        items, total = [], Decimal(0)
        for c in configs:
            got = await _value(session, source, c.indicator, tenant, year)
            points = score(got.value, c.floor, c.target) if got is not None else Decimal("0.00")
            weighted = (points * c.weight).quantize(Decimal("0.0001"))
            total += weighted
            items.append({"indicator": c.indicator, "value": "" if got is None else str(got.value),
                          "floor": str(c.floor), "target": str(c.target), "weight": str(c.weight),
                          "score": str(points), "weighted_score": str(weighted),
                          "inputs": dict(got.inputs) if got is not None else {"status": "no data"}})
        cards.append((tenant, total.quantize(Decimal("0.01")), items))
    cards.sort(key=lambda card: (-card[1], card[0]))
    await session.execute(delete(ScorecardRow).where(ScorecardRow.year == year))
    rows, rank = [], 0
    for position, (tenant, total, items) in enumerate(cards, start=1):
        if position == 1 or total != cards[position - 2][1]:
            rank = position
        rows.append(ScorecardRow(year=year, tenant_code=tenant, total=str(total), rank=rank, indicators=items,
                                 compute_time=now))
    session.add_all(rows)
    await session.flush()
    return rows


async def list_scorecards(*, session: AsyncSession, caller: Caller, year: int) -> list[ScorecardRow]:
    return list((await session.scalars(select(ScorecardRow).where(
        ScorecardRow.year == year, visible_to(ScorecardRow.tenant_code, caller)).order_by(
        ScorecardRow.rank, ScorecardRow.tenant_code))).all())
