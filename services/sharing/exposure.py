"""Exposure data (SPEC 7.7): insured persons and hours worked (where known) per tenant x GB/T 4754
division x year, the denominators of incidence. Domain functions only: no gRPC here.

Decisions:
- A provincial operator writes its own tenant's exposure (the tenant from its token). Writing is
  an upsert by (tenant, division, year): sending the same batch again changes nothing, sending new
  figures replaces the old ones (idempotent, so a retried import is safe).
- A batch is validated as a whole: any bad row refuses the batch with every violation named
  (``exposures[i].field``) and nothing is written.
- Reads: ministry all; provincial operator its subtree; department liaison its own tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import Caller
from services.common.errors import FieldViolation, InvalidArgument
from services.common.tenancy import visible_to
from services.common.validators import validate_industry_code
from services.sharing.analytics import MAX_YEAR, MIN_YEAR
from services.sharing.models import Exposure

MAX_BATCH = 1000
MAX_INSURED = 1_000_000_000
MAX_HOURS = 10**13


@dataclass(frozen=True)
class ExposureData:
    industry_code: str
    year: int
    insured_persons: int
    hours_worked: int | None = None


def validate_batch(rows: list[ExposureData], *, limit: int = MAX_BATCH) -> list[dict]:
    violations: list[FieldViolation] = []
    if not rows:
        raise InvalidArgument.field("exposures", "must hold at least one row")
    if len(rows) > limit:
        raise InvalidArgument.field("exposures", f"must hold at most {limit} rows")
    values: list[dict] = []
    seen: set[tuple[str, int]] = set()
    for index, row in enumerate(rows):
        prefix = f"exposures[{index}]"
        code = ""
        try:
            code = validate_industry_code(row.industry_code, "industry_code")
            if len(code) != 3:
                raise InvalidArgument.field("industry_code", "must be a GB/T 4754-2017 division, e.g. C26")
        except InvalidArgument as error:
            violations.extend(FieldViolation(f"{prefix}.{v.field}", v.description) for v in error.violations)
        if not MIN_YEAR <= row.year <= MAX_YEAR:
            violations.append(FieldViolation(f"{prefix}.year", f"must be between {MIN_YEAR} and {MAX_YEAR}"))
        if not 0 <= row.insured_persons <= MAX_INSURED:
            violations.append(FieldViolation(f"{prefix}.insured_persons", f"must be between 0 and {MAX_INSURED}"))
        if row.hours_worked is not None and not 0 <= row.hours_worked <= MAX_HOURS:
            violations.append(FieldViolation(f"{prefix}.hours_worked", f"must be between 0 and {MAX_HOURS}"))
        if (code, row.year) in seen:
            violations.append(FieldViolation(f"{prefix}.industry_code", "appears twice for the same year"))
        seen.add((code, row.year))
        values.append({"industry_code": code, "year": row.year, "insured_persons": row.insured_persons,
                       "hours_worked": row.hours_worked})
    if violations:
        raise InvalidArgument(violations)
    return values


async def upsert_exposure(*, session: AsyncSession, caller: Caller, rows: list[ExposureData]) -> list[Exposure]:
    values = validate_batch(rows)
    now = datetime.now(UTC)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    records = [{**v, "tenant_code": caller.tenant, "update_time": now, "updated_by": caller.subject} for v in values]
    statement = insert(Exposure).values(records)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_code", "industry_code", "year"],
        set_={name: statement.excluded[name] for name in ("insured_persons", "hours_worked", "update_time",
                                                           "updated_by")})
    await session.execute(statement)
    keys = [(caller.tenant, v["industry_code"], v["year"]) for v in values]
    stored = (await session.scalars(select(Exposure).where(
        tuple_(Exposure.tenant_code, Exposure.industry_code, Exposure.year).in_(keys)).execution_options(
        populate_existing=True))).all()
    return sorted(stored, key=lambda r: (r.tenant_code, r.industry_code, r.year))


async def list_exposure(*, session: AsyncSession, caller: Caller, year: int | None,
                        after: tuple[str, str, int] | None, limit: int) -> list[Exposure]:
    query = select(Exposure).where(visible_to(Exposure.tenant_code, caller))
    if year is not None:
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise InvalidArgument.field("year", f"must be between {MIN_YEAR} and {MAX_YEAR}")
        query = query.where(Exposure.year == year)
    if after is not None:
        query = query.where(tuple_(Exposure.tenant_code, Exposure.industry_code, Exposure.year) > tuple_(*after))
    query = query.order_by(Exposure.tenant_code, Exposure.industry_code, Exposure.year).limit(limit)
    return list((await session.scalars(query)).all())


# Demo exposure (SPEC 7.6): both demo provinces, the national key divisions and two years.
DEMO_TENANTS = ("110000", "120000")
DEMO_DIVISIONS = ("C26", "B06", "E47", "G54", "C34")


async def seed_demo(session: AsyncSession, *, last_year: int) -> int:
    """Insured persons and hours worked for the demo provinces, ``last_year`` and the year before
    (an upsert, so seeding twice changes nothing). The caller commits."""
    rows = []
    for t_index, tenant in enumerate(DEMO_TENANTS):
        for d_index, division in enumerate(DEMO_DIVISIONS):
            for year in (last_year - 1, last_year):
                insured = 40_000 + 15_000 * d_index + 10_000 * t_index + 2_000 * (year - last_year + 1)
                rows.append({"tenant_code": tenant, "industry_code": division, "year": year,
                             "insured_persons": insured, "hours_worked": insured * 2_000,
                             "update_time": datetime.now(UTC), "updated_by": "seed"})
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    await session.execute(insert(Exposure).values(rows).on_conflict_do_nothing())
    return len(rows)
