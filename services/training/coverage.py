"""Key-position training coverage (SPEC TR-5, 7.7).

For a tenant (its whole subtree) and a year:
- required = the distinct trainees enrolled in a programme of that year whose employer's industry
  is a key industry (services.training.reference) — enrolment is where a tenant names the key
  personnel of its key enterprises, and every trainee holds one of the three key positions;
- trained = those of them with at least one completion that still counts (not voided) dated in
  that year (China Standard Time) on any course: a completed/passed statement of one of their
  xAPI accounts, an exam pass, or an attended offline session (services.training.completions).
Broken down by key industry, employer and key position; progress is measured against the
coverage target of the plan the year belongs to (services.training.reference).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.clock import CST
from services.common.context import MINISTRY_OPERATOR, PROVINCIAL_OPERATOR, Caller, subtree_prefix
from services.common.errors import InvalidArgument, NotFound
from services.common.pii import PiiKeyring
from services.training.core_models import Completion, Enrolment, Programme, Trainee, TraineeAccount
from services.training.reference import CoveragePlan, key_industry_of, plan_for
from services.training.trainees import NAME, mask_name


@dataclass
class Tally:
    required: int = 0
    trained: int = 0

    @property
    def ratio(self) -> Decimal:
        if not self.required:
            return Decimal("0")
        return (Decimal(self.trained) / Decimal(self.required)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Person:
    trainee_id: str
    tenant_code: str
    name_enc: str
    employer_id: str
    employer_name: str
    industry_code: str
    key_industry: str
    key_position: str


@dataclass
class Coverage:
    tenant_code: str
    year: int
    plan: CoveragePlan
    total: Tally = field(default_factory=Tally)
    by_industry: dict[str, Tally] = field(default_factory=dict)
    by_employer: dict[str, Tally] = field(default_factory=dict)
    employer_names: dict[str, str] = field(default_factory=dict)
    by_position: dict[str, Tally] = field(default_factory=dict)
    uncovered: list[Person] = field(default_factory=list)

    def gap(self) -> int:
        """People still to train for the plan's target."""
        needed = (self.plan.target * self.total.required).to_integral_value(ROUND_HALF_UP)
        return max(0, int(needed) - self.total.trained)


def _tenant_for(caller: Caller, tenant_code: str) -> str:
    tenant = tenant_code or caller.tenant
    if not (len(tenant) == 6 and tenant.isdigit()):
        raise InvalidArgument.field("tenant_code", "must be a 6-digit tenant code")
    if not caller.sees_tenant(tenant):
        raise NotFound(f"tenant {tenant} not found")
    return tenant


async def compute(*, session: AsyncSession, caller: Caller, tenant_code: str, year: int) -> Coverage:
    if not 2000 <= year <= 2100:
        raise InvalidArgument.field("year", "must be a year between 2000 and 2100")
    tenant = _tenant_for(caller, tenant_code)
    prefix = subtree_prefix(tenant)
    in_tenant = Trainee.tenant_code.startswith(prefix, autoescape=True) if prefix else None
    query = (select(Trainee).join(Enrolment, Enrolment.trainee_id == Trainee.id)
             .join(Programme, Programme.id == Enrolment.programme_id)
             .where(Programme.year == year).distinct())
    if in_tenant is not None:
        query = query.where(in_tenant)
    if not caller.roles & {MINISTRY_OPERATOR, PROVINCIAL_OPERATOR}:
        # SPEC 7.3 coverage: an employer officer sees its own employer only.
        # An officer without an organisation sees nobody (PostgreSQL refuses a NUL sentinel in text).
        query = query.where(Trainee.employer_id == caller.organisation if caller.organisation else false())
    people = [Person(t.id, t.tenant_code, t.name_enc, t.employer_id, t.employer_name, t.industry_code,
                     key_industry_of(t.industry_code), t.key_position)
              for t in (await session.scalars(query)).all()]
    people = [p for p in people if p.key_industry]
    trained = await _trained(session, prefix, year, {p.trainee_id for p in people})

    result = Coverage(tenant_code=tenant, year=year, plan=plan_for(date(year, 1, 1)))
    for person in sorted(people, key=lambda p: (p.employer_id, p.key_position, p.trainee_id)):
        done = person.trainee_id in trained
        result.employer_names.setdefault(person.employer_id, person.employer_name)
        for tally in (result.total, result.by_industry.setdefault(person.key_industry, Tally()),
                      result.by_employer.setdefault(person.employer_id, Tally()),
                      result.by_position.setdefault(person.key_position, Tally())):
            tally.required += 1
            tally.trained += done
        if not done:
            result.uncovered.append(person)
    return result


async def _trained(session: AsyncSession, prefix: str, year: int, candidates: set[str]) -> set[str]:
    if not candidates:
        return set()
    start = datetime.combine(date(year, 1, 1), time(0), CST)
    end = datetime.combine(date(year + 1, 1, 1), time(0), CST)
    counts = and_(Completion.voided.is_(False), Completion.time >= start, Completion.time < end)
    if prefix:
        counts = and_(counts, Completion.tenant_code.startswith(prefix, autoescape=True))
    direct = set((await session.scalars(select(Completion.trainee_id).where(
        counts, Completion.trainee_id != "").distinct())).all())
    via_account = set((await session.scalars(
        select(TraineeAccount.trainee_id).join(Completion, and_(
            Completion.tenant_code == TraineeAccount.tenant_code, Completion.home_page == TraineeAccount.home_page,
            Completion.account_name == TraineeAccount.account_name)).where(counts).distinct())).all())
    return (direct | via_account) & candidates


# -- exports ---------------------------------------------------------------------------------------

HEADER = ("scope", "key", "name", "required", "trained", "ratio")
UNCOVERED_HEADER = ("trainee", "name", "tenant_code", "employer_id", "employer_name", "key_industry", "key_position")


def rows(coverage: Coverage) -> list[tuple]:
    out: list[tuple] = [("tenant", coverage.tenant_code, "", coverage.total.required, coverage.total.trained,
                         str(coverage.total.ratio))]
    out += [("key_industry", k, "", t.required, t.trained, str(t.ratio))
            for k, t in sorted(coverage.by_industry.items())]
    out += [("employer", k, coverage.employer_names.get(k, ""), t.required, t.trained, str(t.ratio))
            for k, t in sorted(coverage.by_employer.items())]
    out += [("key_position", k, "", t.required, t.trained, str(t.ratio))
            for k, t in sorted(coverage.by_position.items())]
    return out


def uncovered_rows(coverage: Coverage, keyring: PiiKeyring, caller: Caller) -> list[tuple]:
    def name(p: Person) -> str:
        clear = keyring.decrypt(p.name_enc, context=NAME)
        return clear if caller.may_see_personal(p.tenant_code) else mask_name(clear)
    return [(f"trainees/{p.trainee_id}", name(p), p.tenant_code, p.employer_id, p.employer_name, p.key_industry,
             p.key_position) for p in coverage.uncovered]


def _safe(value):
    # CSV/XLSX injection: a cell starting with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export(coverage: Coverage, keyring: PiiKeyring, caller: Caller, fmt: str) -> tuple[bytes, str]:
    summary = rows(coverage)
    people = uncovered_rows(coverage, keyring, caller)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(HEADER)
        writer.writerows([[_safe(v) for v in r] for r in summary])
        writer.writerow([])
        writer.writerow(UNCOVERED_HEADER)
        writer.writerows([[_safe(v) for v in r] for r in people])
        # UTF-8 with BOM so that Excel in China opens the Chinese names correctly.
        return ("\ufeff" + buffer.getvalue()).encode("utf-8"), "text/csv; charset=utf-8"
    if fmt == "xlsx":
        from openpyxl import Workbook  # imported here: only this export needs it

        book = Workbook()
        sheet = book.active
        sheet.title = "coverage"
        sheet.append(HEADER)
        for r in summary:
            sheet.append([_safe(v) for v in r])
        uncovered = book.create_sheet("uncovered")
        uncovered.append(UNCOVERED_HEADER)
        for r in people:
            uncovered.append([_safe(v) for v in r])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    raise InvalidArgument.field("format", "must be csv or xlsx")
