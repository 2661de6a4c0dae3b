"""Analytics (SPEC SH-8, 7.7): incidence per tenant x industry x year, served only from rollups.

Decisions:
- Rollups (``analytics_rollups``) hold counts per tenant x GB/T 4754 *division* (``C2611`` ->
  ``C26``) x year. They are maintained by ``apply_changes``, which ``changes.record_changed``
  calls in the writer's transaction on every publish, correction and void: a change subtracts
  what its ``before`` snapshot contributed and adds what its ``after`` contributes, so a
  correction moves counts between buckets and a void removes them. Deltas commute, so the order
  of application does not matter; each change id is applied once (the ``analytics_applied``
  inbox, RELIABILITY D4), so redelivering a change changes nothing. The same function rebuilds
  the rollups in bulk from the ``record_changes`` outbox (``rebuild``) and loads the benchmark.
- What each record type contributes, to the year of its date field:
  accidents (``occurred_at``): accidents 1, fatalities, persons injured as reported;
  recognitions (``recognised_at``): injured persons 1 (incidence counts recognised work injuries,
  not accidents, SPEC 7.7); disease cases (``diagnosed_at``): cases ``persons`` (default 1), and
  pneumoconiosis separately. Voided records contribute nothing.
- Rates: injured persons per 100,000 insured, per 200,000 hours worked (only where every bucket
  summed has hours), disease cases per 100,000 insured. Denominators come from ``exposure``.
- The plan whose period holds the year asked for gives the baseline year and the target for the
  key-industry incidence (copied from the assessment service's reference plans, which this
  service must not call): 2021-2025 baseline 2020, -20 %; 2026-2030 baseline 2025, -10 %.
- Key industries: the national five plus the additions of the tenant and its ancestors, by
  division prefix match (``KeyIndustry.divisions``).
- Scope (SPEC 7.3 analytics): ministry all; provincial operator its subtree; department liaison
  its own tenant's aggregates (its subtree, which for a liaison is its tenant).
- Rankings: regions (the tenants as published, e.g. provinces) and industries (divisions), by
  incidence per 100,000 insured, highest first; buckets without exposure are not ranked.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.clock import cst_date
from services.common.context import NATIONAL_TENANT, Caller, in_subtree
from services.common.errors import InvalidArgument
from services.common.tenancy import visible_to
from services.sharing.models import AnalyticsApplied, AnalyticsRollup, Exposure, KeyIndustry

COUNTS = ("accidents", "fatalities", "accident_persons_injured", "injured_persons", "disease_cases",
          "pneumoconiosis_cases")
_CHUNK = 5000
MIN_YEAR, MAX_YEAR = 2000, 2100


@dataclass(frozen=True)
class Plan:
    id: str
    first_year: int
    last_year: int
    baseline_year: int
    target_change_pct: float  # key-industry incidence change vs the baseline year


# Copied from services/assessment/reference.py (the plans' key_industry_incidence_change targets).
PLANS = (
    Plan("2021-2025", 2021, 2025, 2020, -20.0),
    Plan("2026-2030", 2026, 2030, 2025, -10.0),
)


def plan_for(year: int) -> Plan | None:
    return next((p for p in PLANS if p.first_year <= year <= p.last_year), None)


@dataclass(frozen=True)
class Change:
    """One change as the applier consumes it (a ``record_changes`` row)."""

    id: int
    record_type: str
    before: dict | None
    after: dict | None


_DATE_FIELD = {"accidents": "occurred_at", "recognitions": "recognised_at", "disease_cases": "diagnosed_at"}


def contribution(record_type: str, snapshot: dict | None) -> tuple[tuple[str, str, int], dict[str, int]] | None:
    """(bucket, counts) a record snapshot adds to the rollups; None when it adds nothing."""
    if not snapshot or snapshot.get("status", "active") != "active" or record_type not in _DATE_FIELD:
        return None
    day, industry, tenant = snapshot.get(_DATE_FIELD[record_type]), snapshot.get("industry_code"), \
        snapshot.get("tenant_code")
    if not day or not industry or not tenant:
        return None
    bucket = (tenant, str(industry)[:3].upper(), int(str(day)[:4]))
    if record_type == "accidents":
        counts = {"accidents": 1, "fatalities": int(snapshot.get("fatalities") or 0),
                  "accident_persons_injured": int(snapshot.get("persons_injured") or 0)}
    elif record_type == "recognitions":
        counts = {"injured_persons": 1}
    else:
        persons = int(snapshot.get("persons") or 1)
        counts = {"disease_cases": persons,
                  "pneumoconiosis_cases": persons if snapshot.get("category") == "pneumoconiosis" else 0}
    return bucket, counts


def _insert(session: AsyncSession):
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)


async def apply_changes(session: AsyncSession, changes: list[Change]) -> int:
    """Apply each change not applied before to the rollups, in the session's transaction. Returns
    how many were new. Idempotent and order-independent (see the module docstring)."""
    insert = _insert(session)
    # One cached statement each, run as executemany (batched into multi-row statements by the
    # driver layer), rather than a freshly compiled multi-VALUES statement per chunk.
    inbox = insert(AnalyticsApplied).on_conflict_do_nothing().returning(AnalyticsApplied.change_id)
    ids = sorted({c.id for c in changes})
    fresh: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        result = await session.execute(inbox, [{"change_id": i} for i in ids[start:start + _CHUNK]])
        fresh.update(result.scalars().all())
    deltas: dict[tuple[str, str, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    seen: set[int] = set()
    for change in changes:
        if change.id not in fresh or change.id in seen:
            continue
        seen.add(change.id)
        for sign, snap in ((-1, change.before), (1, change.after)):
            part = contribution(change.record_type, snap)
            if part is not None:
                bucket, counts = part
                for name, value in counts.items():
                    deltas[bucket][name] += sign * value
    rows = [{"tenant_code": t, "industry_code": i, "year": y, **counts}
            for (t, i, y), counts in sorted(deltas.items()) if any(counts.values())]
    if rows:
        table = AnalyticsRollup.__table__
        upsert = insert(table)
        upsert = upsert.on_conflict_do_update(
            index_elements=["tenant_code", "industry_code", "year"],
            set_={name: table.c[name] + upsert.excluded[name] for name in COUNTS})
        await session.execute(upsert, rows)
    return len(seen)


# -- queries ----------------------------------------------------------------------------------------


@dataclass
class Figures:
    """Counts and denominators of one bucket or group of buckets."""

    accidents: int = 0
    fatalities: int = 0
    accident_persons_injured: int = 0
    injured_persons: int = 0
    disease_cases: int = 0
    pneumoconiosis_cases: int = 0
    insured_persons: int = 0
    hours_worked: int | None = 0
    has_exposure: bool = False

    def add_counts(self, counts) -> None:
        """``counts``: the rollup's counts in ``COUNTS`` order."""
        a, f, api, ip, dc, pc = counts
        self.accidents += a
        self.fatalities += f
        self.accident_persons_injured += api
        self.injured_persons += ip
        self.disease_cases += dc
        self.pneumoconiosis_cases += pc

    def add_exposure(self, insured: int, hours: int | None) -> None:
        self.has_exposure = True
        self.insured_persons += insured
        self.hours_worked = None if hours is None or self.hours_worked is None else self.hours_worked + hours

    def merge(self, other: Figures) -> None:
        self.add_counts((other.accidents, other.fatalities, other.accident_persons_injured, other.injured_persons,
                         other.disease_cases, other.pneumoconiosis_cases))
        if other.has_exposure:
            self.add_exposure(other.insured_persons, other.hours_worked)

    @property
    def incidence_per_100k(self) -> float | None:
        return self.injured_persons / self.insured_persons * 100_000 if self.insured_persons else None

    @property
    def incidence_per_200k_hours(self) -> float | None:
        return self.injured_persons / self.hours_worked * 200_000 if self.has_exposure and self.hours_worked else None

    @property
    def disease_incidence_per_100k(self) -> float | None:
        return self.disease_cases / self.insured_persons * 100_000 if self.insured_persons else None


def change_pct(current: float | None, baseline: float | None) -> float | None:
    if current is None or not baseline:
        return None
    return (current - baseline) / baseline * 100


@dataclass
class Row:
    tenant_code: str
    industry_code: str
    key_industry: bool
    figures: Figures
    baseline: Figures | None


@dataclass
class KeyIndustrySummary:
    tenant_code: str
    figures: Figures
    baseline: Figures
    plan: Plan | None

    @property
    def change_pct(self) -> float | None:
        return change_pct(self.figures.incidence_per_100k, self.baseline.incidence_per_100k)

    @property
    def target_met(self) -> bool | None:
        change = self.change_pct
        return None if change is None or self.plan is None else change <= self.plan.target_change_pct


@dataclass
class Ranked:
    key: str
    incidence_per_100k: float
    injured_persons: int
    insured_persons: int


@dataclass
class Incidence:
    year: int
    plan: Plan | None
    rows: list[Row] = field(default_factory=list)
    key_industries: list[KeyIndustrySummary] = field(default_factory=list)
    region_ranking: list[Ranked] = field(default_factory=list)
    industry_ranking: list[Ranked] = field(default_factory=list)


def validate_year(year: int, name: str = "year") -> int:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidArgument.field(name, f"must be a year between {MIN_YEAR} and {MAX_YEAR}")
    return year


async def key_divisions(session: AsyncSession, caller: Caller) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The national key divisions and the tenants' additions the caller may see."""
    rows = (await session.scalars(select(KeyIndustry).where(
        or_(KeyIndustry.tenant_code == NATIONAL_TENANT, visible_to(KeyIndustry.tenant_code, caller))))).all()
    national = [d for r in rows if r.tenant_code == NATIONAL_TENANT for d in r.divisions]
    local = [(r.tenant_code, list(r.divisions)) for r in rows if r.tenant_code != NATIONAL_TENANT]
    return national, local


def _key_prefixes(tenant: str, national: list[str], local: list[tuple[str, list[str]]]) -> tuple[str, ...]:
    return tuple(national) + tuple(d for owner, divs in local if in_subtree(tenant, owner) for d in divs)


async def incidence(*, session: AsyncSession, caller: Caller, year: int, industry_prefix: str = "") -> Incidence:
    """Rows per tenant x division for ``year`` (0: the previous calendar year in CST; with the
    plan's baseline year alongside), the key-industry summary per tenant, and the rankings. Reads
    rollups and exposure only."""
    year = validate_year(year or cst_date(datetime.now(UTC)).year - 1)
    prefix = industry_prefix.upper()
    if prefix and not re.fullmatch(r"[A-T][0-9]{0,2}", prefix):
        raise InvalidArgument.field("industry_prefix", "must be a GB/T 4754-2017 section or division, e.g. C or C26")
    plan = plan_for(year)
    years = {year} | ({plan.baseline_year} if plan else set())
    figures: dict[tuple[str, str, int], Figures] = defaultdict(Figures)
    rollups = select(AnalyticsRollup.tenant_code, AnalyticsRollup.industry_code, AnalyticsRollup.year,
                     *(AnalyticsRollup.__table__.c[name] for name in COUNTS)).where(
        visible_to(AnalyticsRollup.tenant_code, caller), AnalyticsRollup.year.in_(years))
    exposure = select(Exposure.tenant_code, Exposure.industry_code, Exposure.year, Exposure.insured_persons,
                      Exposure.hours_worked).where(visible_to(Exposure.tenant_code, caller), Exposure.year.in_(years))
    if prefix:
        rollups = rollups.where(AnalyticsRollup.industry_code.startswith(prefix, autoescape=True))
        exposure = exposure.where(Exposure.industry_code.startswith(prefix, autoescape=True))
    for tenant, division, bucket_year, *counts in (await session.execute(rollups)).all():
        figures[(tenant, division, bucket_year)].add_counts(counts)
    for tenant, division, bucket_year, insured, hours in (await session.execute(exposure)).all():
        figures[(tenant, division, bucket_year)].add_exposure(insured, hours)
    national, local = await key_divisions(session, caller)
    result = Incidence(year=year, plan=plan)
    summaries: dict[str, KeyIndustrySummary] = {}
    regions: dict[str, Figures] = defaultdict(Figures)
    industries: dict[str, Figures] = defaultdict(Figures)
    key_prefixes: dict[str, tuple[str, ...]] = {}
    for (tenant, division, bucket_year), current in sorted(figures.items()):
        if tenant not in key_prefixes:
            key_prefixes[tenant] = _key_prefixes(tenant, national, local)
        is_key = division.startswith(key_prefixes[tenant])
        if is_key:
            summary = summaries.setdefault(tenant, KeyIndustrySummary(tenant, Figures(), Figures(), plan))
            (summary.figures if bucket_year == year else summary.baseline).merge(current)
        if bucket_year != year:
            continue
        baseline = figures.get((tenant, division, plan.baseline_year)) if plan else None
        result.rows.append(Row(tenant, division, is_key, current, baseline))
        regions[tenant].merge(current)
        industries[division].merge(current)
    result.key_industries = [summaries[t] for t in sorted(summaries)]
    result.region_ranking = _rank(regions)
    result.industry_ranking = _rank(industries)
    return result


def _rank(groups: dict[str, Figures]) -> list[Ranked]:
    ranked = [Ranked(key, f.incidence_per_100k, f.injured_persons, f.insured_persons)
              for key, f in groups.items() if f.incidence_per_100k is not None]
    return sorted(ranked, key=lambda r: (-r.incidence_per_100k, r.key))
