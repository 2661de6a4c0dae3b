"""Implementation plans and annual reports (SPEC AS-4): provinces submit, the ministry
acknowledges or returns for revision; due dates come from the action plan (AS-8); overdue filings
are listed; reminders go out through identity's Notify exactly once per filing and reminder kind.

Decisions:
- An implementation plan belongs to the plan active on the submission date (its first year); an
  annual report to the plan whose period holds its year. Due dates are CST dates (SPEC 5).
- A filing is on time when first submitted by the end of its due date (CST); resubmitting after a
  return keeps the first submission time (the scorecard's on-time indicator reads it).
- Expected filings of a province under a plan: its implementation plan and one annual report per
  year of the plan up to the current year. Overdue = due date passed and not submitted or
  acknowledged (a returned filing not resubmitted is overdue too).
- Reminders: on each run the single most urgent kind that applies today (due_30d from 30 days
  before, due_7d from 7 days before, overdue after the due date) is sent once; the reminder row
  is written in the transaction that sends, and Notify's request_id makes a retry after a crash
  between send and commit a no-op at identity.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.assessment.models import ActionPlan
from services.assessment.models_filings import Filing, FilingReminder
from services.assessment.reference import PROVINCES
from services.assessment.validation import raise_if, text
from services.common.clock import as_utc, cst_date, cst_end_of_day
from services.common.context import NATIONAL_TENANT, Caller
from services.common.errors import AlreadyExists, FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from services.common.tenancy import visible_to

log = logging.getLogger("prevention.assessment.filings")
KINDS = ("implementation_plan", "annual_report")
DECISIONS = {"acknowledge": "acknowledged", "return": "returned"}
DONE_STATES = ("submitted", "acknowledged")
_FILING_NAME = re.compile(r"^filings/([0-9a-f]{32})$")


@dataclass(frozen=True)
class Expected:
    tenant_code: str
    plan_id: str
    kind: str
    year: int
    due: date


def parse_filing_name(name: str) -> str:
    match = _FILING_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field("name", "must be filings/{id}")
    return match.group(1)


def annual_due(plan: ActionPlan, year: int) -> date:
    month, day = (int(x) for x in plan.annual_report_due.split("-"))
    return date(year, month, day)


async def plan_on(session: AsyncSession, day: date) -> ActionPlan | None:
    return (await session.scalars(select(ActionPlan).where(ActionPlan.start_date <= day, ActionPlan.end_date >= day)
                                  .limit(1))).first()


async def submit_filing(*, session: AsyncSession, caller: Caller, kind: str, year: int, document_object: str,
                        summary: str, now: datetime) -> Filing:
    tenant = caller.tenant
    if tenant == NATIONAL_TENANT or not tenant.endswith("0000"):
        raise FailedPrecondition("only a province's operator files plans and reports", reason="NOT_A_PROVINCE")
    violations: list[FieldViolation] = []
    if kind not in KINDS:
        violations.append(FieldViolation("filing.kind", f"must be one of {', '.join(KINDS)}"))
    if not re.match(rf"^{tenant}/assessment/filing/[A-Za-z0-9._-]{{1,128}}$", document_object or ""):
        violations.append(FieldViolation("filing.document_object",
                                         f"must be an object key {tenant}/assessment/filing/{{id}}"))
    summary = text(summary, "filing.summary", violations, maximum=10_000, required=False)
    today = cst_date(now)
    if kind == "annual_report" and not 2000 <= year <= today.year:
        violations.append(FieldViolation("filing.year", f"must be a reporting year up to {today.year}"))
    raise_if(violations)
    plan = await plan_on(session, today if kind == "implementation_plan" else date(year, 12, 31))
    if plan is None:
        raise FailedPrecondition("no action plan covers this filing", reason="NO_ACTION_PLAN")
    if kind == "implementation_plan":
        year, due = plan.start_date.year, plan.implementation_plan_due
    else:
        due = annual_due(plan, year)
    row = (await session.scalars(select(Filing).where(
        Filing.tenant_code == tenant, Filing.plan_id == plan.id, Filing.kind == kind, Filing.year == year)
        .with_for_update())).first()
    if row is not None:
        if row.state != "returned":
            raise AlreadyExists(f"the {kind.replace('_', ' ')} for {year} is already {row.state}",
                                reason="FILING_EXISTS")
        row.state, row.document_object, row.summary, row.update_time, row.submitted_by = (
            "submitted", document_object, summary, now, caller.subject)
    else:
        row = Filing(id=uuid.uuid4().hex, tenant_code=tenant, plan_id=plan.id, kind=kind, year=year, due_date=due,
                     state="submitted", document_object=document_object, summary=summary, return_reason="",
                     first_submit_time=now, update_time=now, submitted_by=caller.subject, reviewed_by="")
        session.add(row)
    await session.flush()
    return row


async def review_filing(*, session: AsyncSession, caller: Caller, filing_id: str, decision: str, reason: str,
                        now: datetime) -> Filing:
    if decision not in DECISIONS:
        raise InvalidArgument.field("decision", "must be acknowledge or return")
    reason = (reason or "").strip()
    if decision == "return" and not reason:
        raise InvalidArgument.field("reason", "is required to return a filing for revision")
    row = (await session.scalars(select(Filing).where(Filing.id == filing_id, visible_to(Filing.tenant_code, caller))
                                 .with_for_update())).first()
    if row is None:
        raise NotFound(f"filing {filing_id} not found")
    if row.state != "submitted":
        raise FailedPrecondition(f"filing is {row.state}: only a submitted filing is acknowledged or returned",
                                 reason="ILLEGAL_TRANSITION", metadata={"state": row.state})
    row.state, row.reviewed_by, row.update_time = DECISIONS[decision], caller.subject, now
    row.return_reason = reason if decision == "return" else ""
    await session.flush()
    return row


def on_time(row: Filing) -> bool:
    return as_utc(row.first_submit_time) <= cst_end_of_day(row.due_date)


async def list_filings(*, session: AsyncSession, caller: Caller, after: str | None, limit: int) -> list[Filing]:
    query = select(Filing).where(visible_to(Filing.tenant_code, caller))
    if after is not None:
        query = query.where(Filing.id > after)
    return list((await session.scalars(query.order_by(Filing.id).limit(limit))).all())


def expected_filings(plan: ActionPlan, today: date, provinces: tuple[str, ...]) -> list[Expected]:
    items = []
    for tenant in provinces:
        items.append(Expected(tenant, plan.id, "implementation_plan", plan.start_date.year,
                              plan.implementation_plan_due))
        for year in range(plan.start_date.year, min(today.year, plan.end_date.year) + 1):
            items.append(Expected(tenant, plan.id, "annual_report", year, annual_due(plan, year)))
    return items


async def _filed(session: AsyncSession, plan_id: str) -> dict[tuple[str, str, int], str]:
    rows = (await session.execute(select(Filing.tenant_code, Filing.kind, Filing.year, Filing.state)
                                  .where(Filing.plan_id == plan_id))).all()
    return {(t, k, y): s for t, k, y, s in rows}


async def overdue(*, session: AsyncSession, caller: Caller, now: datetime) -> list[tuple[Expected, str]]:
    today = cst_date(now)
    plan = await plan_on(session, today)
    if plan is None:
        return []
    provinces = tuple(p for p in PROVINCES if caller.sees_tenant(p))
    filed = await _filed(session, plan.id)
    result = []
    for item in expected_filings(plan, today, provinces):
        state = filed.get((item.tenant_code, item.kind, item.year))
        if item.due < today and state not in DONE_STATES:
            result.append((item, "returned" if state == "returned" else "missing"))
    return result


# -- reminders -----------------------------------------------------------------------------------


class Notifier(Protocol):
    """Sends one notification to a province's provincial operators. The gRPC implementation calls
    identity's Notify; scheduled jobs have no caller token, so how it authenticates is the
    integrator's choice (one seam: ``IdentityNotifier(token=...)``)."""

    async def notify(self, *, tenant_code: str, kind: str, title: str, body: str, request_id: str) -> None: ...


def reminder_kind(due: date, today: date) -> str | None:
    if today > due:
        return "overdue"
    if today >= due - timedelta(days=7):
        return "due_7d"
    if today >= due - timedelta(days=30):
        return "due_30d"
    return None


TITLES = {"due_30d": "{what} due in 30 days", "due_7d": "{what} due within 7 days", "overdue": "{what} overdue"}


async def send_due_reminders(*, sessionmaker, notifier: Notifier, now: datetime,
                             provinces: tuple[str, ...] = PROVINCES) -> list[tuple[str, str, int, str]]:
    """One pass of the reminder job; returns what it sent as (tenant, kind, year, reminder)."""
    today = cst_date(now)
    sent = []
    async with sessionmaker() as session:
        plan = await plan_on(session, today)
        if plan is None:
            return []
        filed = await _filed(session, plan.id)
        done = set((await session.execute(select(FilingReminder.tenant_code, FilingReminder.kind, FilingReminder.year,
                                                 FilingReminder.reminder).where(FilingReminder.plan_id == plan.id)
                                          )).all())
    expected = expected_filings(plan, today, provinces)
    for item in expected:
        if filed.get((item.tenant_code, item.kind, item.year)) in DONE_STATES:
            continue
        reminder = reminder_kind(item.due, today)
        if reminder is None or (item.tenant_code, item.kind, item.year, reminder) in done:
            continue
        what = f"{'Implementation plan' if item.kind == 'implementation_plan' else f'Annual report {item.year}'}"
        async with sessionmaker() as session:
            session.add(FilingReminder(tenant_code=item.tenant_code, plan_id=plan.id, kind=item.kind, year=item.year,
                                       reminder=reminder, sent_time=now))
            await session.flush()  # a concurrent runner's row makes this fail before anything is sent
            await notifier.notify(
                tenant_code=item.tenant_code, kind="DEADLINE_REMINDER", title=TITLES[reminder].format(what=what),
                body=f"Due {item.due.isoformat()} (action plan {plan.id}).",
                request_id=f"filing-reminder:{plan.id}:{item.tenant_code}:{item.kind}:{item.year}:{reminder}")
            await session.commit()
        sent.append((item.tenant_code, item.kind, item.year, reminder))
    if sent:
        log.info("filing reminders sent", extra={"count": len(sent)})
    return sent


def reminder_background(*, sessionmaker, notifier: Notifier, clock, lock, interval: timedelta = timedelta(hours=1),
                        tick: float = 5.0):
    """The scheduler job sending filing reminders; one runner holds ``lock`` (SPEC OPS-3)."""
    from services.common.scheduler import Job, Scheduler

    async def run(now: datetime) -> None:
        await send_due_reminders(sessionmaker=sessionmaker, notifier=notifier, now=now)

    scheduler = Scheduler([Job("assessment-filing-reminders", interval, run)], lock=lock, clock=clock)

    async def background(stop) -> None:
        await scheduler.run_forever(stop, tick=tick)

    return background
