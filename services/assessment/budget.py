"""Prevention-fee budget (SPEC AS-3): fund premium income per pooling region and year, the
per-province cap (default 3 % of the previous year's income) and the check every approval passes.

Decisions:
- Money is integer fen; the cap rate is a Decimal string; cap = floor(income × rate).
- A pooling region is a 6-digit code inside the caller's province; a province without pooling
  regions uses its own code (SPEC 7.7), so the rows are keyed by that code.
- Approved budgets count against the budget year of their call, in the project's pooling region,
  whatever state the project reaches afterwards (money once approved stays committed).
- The approval takes a row lock on the region's income row, so two concurrent approvals in one
  region cannot both pass the cap (PostgreSQL; SQLite serialises writers anyway).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.assessment.models_projects import BudgetSetting, FundIncome, Project
from services.assessment.validation import province_of
from services.common.context import NATIONAL_TENANT, Caller
from services.common.errors import FailedPrecondition, InvalidArgument, NotFound

DEFAULT_CAP_RATE = Decimal("0.03")
MAX_CAP_RATE = Decimal("0.10")
TENDER_THRESHOLD_FEN = 500_000 * 100
COMMITTED_STATES = ("approved", "in_progress", "acceptance", "completed", "failed")
REGION = re.compile(r"^[1-9][0-9]{5}$")
_SETTINGS_NAME = re.compile(r"^budgetSettings/([1-9][0-9]0000)$")


@dataclass(frozen=True)
class IncomeRow:
    pooling_region: str
    year: int
    premium_income_fen: int


@dataclass(frozen=True)
class BudgetStatus:
    pooling_region: str
    year: int
    cap_rate: Decimal
    previous_year_income_fen: int
    cap_fen: int
    approved_fen: int

    @property
    def remaining_fen(self) -> int:
        return max(self.cap_fen - self.approved_fen, 0)


def check_region(code: str, caller: Caller, field: str) -> str:
    if not REGION.match(code or ""):
        raise InvalidArgument.field(field, "must be a 6-digit pooling-region code")
    if code == NATIONAL_TENANT or not caller.sees_tenant(code):
        raise InvalidArgument.field(field, "must be a pooling region of the caller's province")
    return code


async def import_income(*, session: AsyncSession, caller: Caller, rows: list[IncomeRow],
                        now: datetime) -> tuple[int, list[tuple[int, str, str]]]:
    """Upserts valid rows; invalid rows are reported per row and skipped (the API says per-item results)."""
    errors: list[tuple[int, str, str]] = []
    imported = 0
    for index, row in enumerate(rows):
        try:
            region = check_region(row.pooling_region, caller, "pooling_region")
        except InvalidArgument as error:
            errors.append((index, "pooling_region", error.violations[0].description))
            continue
        if not 1990 <= row.year <= 2100:
            errors.append((index, "year", "must be a year between 1990 and 2100"))
            continue
        if row.premium_income_fen < 0 or row.premium_income_fen > 10**16:
            errors.append((index, "premium_income_fen", "must be a non-negative amount in fen"))
            continue
        existing = await session.get(FundIncome, (region, row.year))
        if existing is None:
            session.add(FundIncome(tenant_code=region, year=row.year, premium_income_fen=row.premium_income_fen,
                                   imported_by=caller.subject, update_time=now))
        else:
            existing.premium_income_fen, existing.imported_by, existing.update_time = (
                row.premium_income_fen, caller.subject, now)
        imported += 1
    await session.flush()
    return imported, errors


def parse_settings_name(name: str, caller: Caller) -> str:
    match = _SETTINGS_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field("name", "must be budgetSettings/{province code}")
    code = match.group(1)
    if code == NATIONAL_TENANT or not caller.sees_tenant(code):
        raise NotFound(f"budget settings {code} not found")
    return code


def parse_rate(value: str) -> Decimal:
    try:
        rate = Decimal(value)
    except (InvalidOperation, TypeError):
        raise InvalidArgument.field("budget_settings.cap_rate", "must be a decimal such as 0.03") from None
    if not rate.is_finite() or rate <= 0 or rate > MAX_CAP_RATE:
        raise InvalidArgument.field("budget_settings.cap_rate", f"must be above 0 and at most {MAX_CAP_RATE}")
    return rate


async def cap_rate(session: AsyncSession, province: str) -> Decimal:
    row = await session.get(BudgetSetting, province)
    return Decimal(row.cap_rate) if row is not None else DEFAULT_CAP_RATE


async def set_cap_rate(*, session: AsyncSession, caller: Caller, province: str, rate: Decimal,
                       now: datetime) -> Decimal:
    row = await session.get(BudgetSetting, province)
    if row is None:
        session.add(BudgetSetting(tenant_code=province, cap_rate=str(rate), updated_by=caller.subject,
                                  update_time=now))
    else:
        row.cap_rate, row.updated_by, row.update_time = str(rate), caller.subject, now
    await session.flush()
    return rate


async def status(*, session: AsyncSession, region: str, year: int, lock: bool = False) -> BudgetStatus:
    query = select(FundIncome).where(FundIncome.tenant_code == region, FundIncome.year == year - 1)
    income = (await session.scalars(query.with_for_update() if lock else query)).first()
    if income is None:
        raise FailedPrecondition(f"no fund premium income is imported for pooling region {region}, year {year - 1}",
                                 reason="NO_FUND_INCOME", metadata={"pooling_region": region, "year": str(year - 1)})
    rate = await cap_rate(session, province_of(region))
    cap = int((Decimal(income.premium_income_fen) * rate).to_integral_value(rounding=ROUND_FLOOR))
    approved = await session.scalar(
        select(func.coalesce(func.sum(Project.approved_budget_fen), 0)).where(
            Project.pooling_region == region, Project.budget_year == year,
            Project.state.in_(COMMITTED_STATES), Project.approved_budget_fen.is_not(None)))
    return BudgetStatus(pooling_region=region, year=year, cap_rate=rate,
                        previous_year_income_fen=income.premium_income_fen, cap_fen=cap, approved_fen=int(approved))


async def reserve(*, session: AsyncSession, region: str, year: int, budget_fen: int) -> BudgetStatus:
    """Refuses (FAILED_PRECONDITION, with the remaining amount) a budget that would cross the cap."""
    current = await status(session=session, region=region, year=year, lock=True)
    if current.approved_fen + budget_fen > current.cap_fen:
        remaining = current.remaining_fen
        raise FailedPrecondition(
            f"approving {budget_fen} fen would exceed the prevention-fee cap of pooling region {region} for "
            f"{year} ({current.cap_rate} of {year - 1} premium income); remaining {remaining} fen",
            reason="BUDGET_CAP_EXCEEDED",
            metadata={"remaining_fen": str(remaining), "cap_fen": str(current.cap_fen)})
    return current
