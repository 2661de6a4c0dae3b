"""Premium-rate floating (SPEC AS-6) with storage: cycle inputs imported per employer (rows or a
CSV/XLSX file, per-row errors), versioned rule sets per pooling region, and batch runs over every
employer of a region as tracked, resumable jobs whose results list their deciding factors.

Decisions:
- Employers are identified by their USCC (what the fund's spreadsheets carry).
- A rule-set change creates a new version; version 0 is the SPEC default, used until a region
  stores its own. A run snapshots the version and its parameters, so results keep theirs.
- A run processes employers in USCC order in batches; each batch commits its results with the
  run's cursor, so a killed or interrupted run resumes where it stopped (ResumeRateRun) and the
  outcome is the same as an uninterrupted run. Running again (a new run) gives the same results.
- One RPC processes batches until done, until ``max_batches`` or until its deadline is near; the
  caller resumes to continue (the CLI loops; no background task hides work from the caller).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.assessment import budget, rates
from services.assessment.models_rates import RateInput, RateResultRow, RateRuleSet, RateRun
from services.assessment.tables import TableError, read_table, write_table
from services.common.context import NATIONAL_TENANT, Caller
from services.common.errors import FailedPrecondition, InvalidArgument, NotFound
from services.common.pagination import newest_first
from services.common.tenancy import visible_to
from services.common.validators import validate_uscc

DEFAULT_BATCH = 1000
MAX_BATCH = 10_000
MAX_ROWS = 100_000
INPUT_COLUMNS = ("employer", "year", "risk_class", "premiums_paid_fen", "benefits_paid_fen", "injuries",
                 "fatal_accidents")
_RUN_NAME = re.compile(r"^rateRuns/([0-9a-f]{32})$")
EXPORT_COLUMNS = ["employer", "risk_class", "tier", "multiplier", "base_rate", "rate", "payout_ratio", "factors"]


@dataclass(frozen=True)
class InputRow:
    pooling_region: str
    employer: str
    year: int
    risk_class: int
    premiums_paid_fen: int
    benefits_paid_fen: int
    injuries: int
    fatal_accidents: int
    hazard_level: str = "low"
    months_insured: int = 12


def parse_run_name(name: str) -> str:
    match = _RUN_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field("name", "must be rateRuns/{id}")
    return match.group(1)


def _check_row(row: InputRow, caller: Caller) -> tuple[str, str] | dict:
    """The row's values, or (field, reason) of its first problem."""
    try:
        region = budget.check_region(row.pooling_region, caller, "pooling_region")
    except InvalidArgument as error:
        return "pooling_region", error.violations[0].description
    try:
        employer = validate_uscc(row.employer, "employer")
    except InvalidArgument as error:
        return "employer", error.violations[0].description
    checks = [
        ("year", 1990 <= row.year <= 2100, "must be a year between 1990 and 2100"),
        ("risk_class", row.risk_class in rates.BASE_RATES, "must be an industry risk class 1-8"),
        ("premiums_paid_fen", 0 <= row.premiums_paid_fen <= 10**15, "must be a non-negative amount in fen"),
        ("benefits_paid_fen", 0 <= row.benefits_paid_fen <= 10**15, "must be a non-negative amount in fen"),
        ("injuries", 0 <= row.injuries <= 10**6, "must be a non-negative count"),
        ("fatal_accidents", 0 <= row.fatal_accidents <= 10**6, "must be a non-negative count"),
        ("hazard_level", row.hazard_level in rates.HAZARD_LEVELS, "must be low, medium or high"),
        ("months_insured", 1 <= row.months_insured <= 12, "must be 1-12"),
    ]
    for field_name, ok, reason in checks:
        if not ok:
            return field_name, reason
    return {"tenant_code": region, "employer": employer, "year": row.year, "risk_class": row.risk_class,
            "premiums_paid_fen": row.premiums_paid_fen, "benefits_paid_fen": row.benefits_paid_fen,
            "injuries": row.injuries, "fatal_accidents": row.fatal_accidents, "hazard_level": row.hazard_level,
            "months_insured": row.months_insured}


def rows_from_file(filename: str, content: bytes, default_region: str) -> tuple[list[InputRow | None],
                                                                                 list[tuple[int, str, str]]]:
    """Rows of a CSV/XLSX file (header: INPUT_COLUMNS, optional pooling_region, hazard_level,
    months_insured). Unparseable rows become None with an error naming the row number."""
    try:
        table = read_table(filename, content, INPUT_COLUMNS)
    except TableError as error:
        raise InvalidArgument.field("file", str(error)) from None
    rows: list[InputRow | None] = []
    errors = []
    for number, cells in table:
        try:
            ints = {c: int(cells[c] or "0") for c in INPUT_COLUMNS if c != "employer"}
            months = int(cells.get("months_insured") or "12")
        except ValueError:
            bad = next(c for c in (*INPUT_COLUMNS[1:], "months_insured")
                       if not (cells.get(c) or "0").lstrip("-").isdigit())
            errors.append((number, bad, "must be a whole number"))
            rows.append(None)
            continue
        rows.append(InputRow(pooling_region=cells.get("pooling_region") or default_region,
                             employer=cells["employer"], hazard_level=cells.get("hazard_level") or "low",
                             months_insured=months, **ints))
    return rows, errors


async def import_inputs(*, session: AsyncSession, caller: Caller, rows: list[InputRow | None],
                        numbers: list[int] | None = None) -> tuple[int, list[tuple[int, str, str]]]:
    """Upserts every valid row; the others are reported (row number, field, reason) and skipped."""
    if len(rows) > MAX_ROWS:
        raise InvalidArgument.field("rows", f"must be at most {MAX_ROWS} per import")
    errors, imported = [], 0
    for index, row in enumerate(rows):
        number = numbers[index] if numbers else index
        if row is None:
            continue
        values = _check_row(row, caller)
        if isinstance(values, tuple):
            errors.append((number, *values))
            continue
        existing = await session.get(RateInput, (values["tenant_code"], values["employer"], values["year"]))
        if existing is None:
            session.add(RateInput(**values))
        else:
            for key, value in values.items():
                setattr(existing, key, value)
        imported += 1
    await session.flush()
    return imported, errors


# -- rule sets -----------------------------------------------------------------------------------


async def latest_rule_set(session: AsyncSession, region: str) -> tuple[int, dict[str, str]]:
    row = (await session.scalars(select(RateRuleSet).where(RateRuleSet.tenant_code == region)
                                 .order_by(RateRuleSet.version.desc()).limit(1))).first()
    return (row.version, dict(row.parameters)) if row else (0, dict(rates.DEFAULT_RULES))


async def create_rule_set(*, session: AsyncSession, caller: Caller, region: str, parameters: dict[str, str],
                          now: datetime) -> RateRuleSet:
    rates.Rules.parse(parameters)
    region = budget.check_region(region, caller, "rule_set.pooling_region")
    version, _ = await latest_rule_set(session, region)
    row = RateRuleSet(id=uuid.uuid4().hex, tenant_code=region, version=version + 1,
                      parameters={**rates.DEFAULT_RULES, **parameters}, created_by=caller.subject, create_time=now)
    session.add(row)
    await session.flush()
    return row


# -- runs ----------------------------------------------------------------------------------------


def _cycle(run: RateRun):
    return RateInput.tenant_code == run.tenant_code, RateInput.year.between(run.cycle_end_year - 2,
                                                                            run.cycle_end_year)


async def start_run(*, session: AsyncSession, caller: Caller, region: str, cycle_end_year: int,
                    now: datetime) -> RateRun:
    region = budget.check_region(region, caller, "pooling_region")
    if not 1992 <= cycle_end_year <= 2100:
        raise InvalidArgument.field("cycle_end_year", "must be a year between 1992 and 2100")
    version, parameters = await latest_rule_set(session, region)
    run = RateRun(id=uuid.uuid4().hex, tenant_code=region, cycle_end_year=cycle_end_year,
                  rule_set_version=version, parameters=parameters, state="running", total=0, processed=0,
                  cursor="", created_by=caller.subject, create_time=now)
    run.total = int(await session.scalar(select(func.count(func.distinct(RateInput.employer))).where(*_cycle(run))))
    session.add(run)
    await session.flush()
    return run


async def get_run(*, session: AsyncSession, caller: Caller, run_id: str, for_update: bool = False) -> RateRun:
    query = select(RateRun).where(RateRun.id == run_id, visible_to(RateRun.tenant_code, caller))
    run = (await session.scalars(query.with_for_update() if for_update else query)).first()
    if run is None:
        raise NotFound(f"rate run {run_id} not found")
    return run


async def process(*, sessionmaker: async_sessionmaker, caller: Caller, run_id: str, batch_size: int,
                  max_batches: int, keep_going: Callable[[], bool], now: Callable[[], datetime]) -> RateRun:
    """Runs batches, each in its own committed transaction, until done / max_batches / not keep_going()."""
    batch_size = min(batch_size or DEFAULT_BATCH, MAX_BATCH)
    done_batches = 0
    while True:
        async with sessionmaker() as session:
            run = await get_run(session=session, caller=caller, run_id=run_id, for_update=True)
            if run.state == "completed" or (max_batches and done_batches >= max_batches) or not keep_going():
                await session.commit()
                return run
            rules = rates.Rules.parse({k: v for k, v in run.parameters.items()})
            employers = list((await session.scalars(
                select(RateInput.employer).where(*_cycle(run), RateInput.employer > run.cursor).distinct()
                .order_by(RateInput.employer).limit(batch_size))).all())
            if not employers:
                run.state, run.finish_time = "completed", now()
                await session.commit()
                return run
            # Core rows and a Core insert: the ORM's per-object cost dominates a large run otherwise.
            inputs = (await session.execute(
                select(*RateInput.__table__.c).where(*_cycle(run), RateInput.employer > run.cursor,
                                        RateInput.employer <= employers[-1])
                .order_by(RateInput.employer, RateInput.year))).all()
            results = []
            for employer, group in groupby(inputs, key=lambda r: r.employer):
                years = [rates.YearInput(year=r.year, risk_class=r.risk_class, premiums_paid_fen=r.premiums_paid_fen,
                                         benefits_paid_fen=r.benefits_paid_fen, injuries=r.injuries,
                                         fatal_accidents=r.fatal_accidents, hazard_level=r.hazard_level,
                                         months_insured=r.months_insured) for r in group]
                result = rates.decide(years, rules, cycle_end=run.cycle_end_year)
                results.append({
                    "run_id": run.id, "employer": employer, "tenant_code": run.tenant_code,
                    "risk_class": result.risk_class, "tier": result.tier, "multiplier": str(result.multiplier),
                    "base_rate": str(result.base_rate), "rate": str(result.rate),
                    "payout_ratio": "" if result.payout_ratio is None else str(result.payout_ratio),
                    "factors": result.factors})
            await session.execute(insert(RateResultRow.__table__), results)
            run.cursor = employers[-1]
            run.processed += len(results)
            await session.commit()
            done_batches += 1


async def list_runs(*, session: AsyncSession, caller: Caller, region: str, after: tuple[str, str] | None,
                    limit: int) -> list[RateRun]:
    """Runs the caller sees (one pooling region's when ``region`` is given), newest first."""
    query = select(RateRun).where(visible_to(RateRun.tenant_code, caller))
    if region:
        if not budget.REGION.match(region):
            raise InvalidArgument.field("pooling_region", "must be a 6-digit pooling-region code")
        if region == NATIONAL_TENANT or not caller.sees_tenant(region):  # like an unknown region
            raise NotFound(f"pooling region {region} not found")
        query = query.where(RateRun.tenant_code == region)
    query = newest_first(query, RateRun.create_time, RateRun.id, after, limit)
    return list((await session.scalars(query)).all())


async def list_results(*, session: AsyncSession, caller: Caller, run_id: str, after: str | None,
                       limit: int) -> tuple[RateRun, list[RateResultRow]]:
    run = await get_run(session=session, caller=caller, run_id=run_id)
    query = select(RateResultRow).where(RateResultRow.run_id == run.id)
    if after is not None:
        query = query.where(RateResultRow.employer > after)
    return run, list((await session.scalars(query.order_by(RateResultRow.employer).limit(limit))).all())


async def export_results(*, session: AsyncSession, caller: Caller, run_id: str, fmt: str) -> tuple[bytes, str]:
    if fmt not in ("csv", "xlsx"):
        raise InvalidArgument.field("format", "must be csv or xlsx")
    run = await get_run(session=session, caller=caller, run_id=run_id)
    if run.state != "completed":
        raise FailedPrecondition(f"rate run is {run.state}: export it once completed", reason="RUN_NOT_COMPLETED")
    rows = (await session.scalars(select(RateResultRow).where(RateResultRow.run_id == run.id)
                                  .order_by(RateResultRow.employer))).all()
    return write_table(fmt, EXPORT_COLUMNS, [[r.employer, r.risk_class, r.tier, r.multiplier, r.base_rate, r.rate,
                                              r.payout_ratio, "; ".join(r.factors)] for r in rows])
