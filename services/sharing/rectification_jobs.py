"""Scheduled work of the rectification workflow (SPEC SH-5): reminders before the deadline and the
escalation of overdue notices to an enforcement referral, announced through identity's Notify RPC.

Exactly once per notice, however often and on however many replicas the job runs:
- escalation is claimed by a conditional update (``state IN (issued, returned) AND due_time < now``
  -> escalated); only the runner whose update matched writes the transition and the dispatch row;
- a reminder is claimed by inserting its ``rectification_dispatches`` row (primary key
  ``(notice_id, kind)``); a runner that loses the insert skips it;
- a dispatch is announced with Notify under the request id ``rectification-<notice>-<kind>-<who>``
  (identity replays a repeated id instead of notifying twice) and only then marked sent. A runner
  that crashes in between leaves it unsent; the next run re-sends the same request id, which
  identity replays.

Reminders (CST calendar days): ``reminder_3d`` once the deadline is at most 3 days away, and
``reminder_1d`` once it is at most 1 day away (the deadline day itself included); a notice issued
with less than 3 days left gets only the nearer reminder.

Service identity: scheduled jobs have no caller token. The sharing service authenticates as its
own API client ``sharing-service`` through the token endpoint's ``client_credentials`` grant
(``ServiceTokens``; id and secret from services/common/service_clients.py: the environment or, in
embedded mode, a 0600 file in the data directory). ``prevention seed`` registers the client in
identity with tenant 100000 and the single role ``department_liaison`` (the least role Notify
admits; its tenant reaches every province's recipients). The token is cached until 60 s before it
expires.
Without credentials, or when the issuer refuses, ``token()`` raises UNAVAILABLE: the job fails
loudly (the scheduler logs and counts it), nothing is claimed or marked sent, and the next run
retries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.clock import Clock, as_utc, cst_date
from services.common.errors import Unavailable
from services.common.scheduler import Job, LeaderLock, Scheduler
from services.common.service_clients import ServiceTokens, identity_token_issuer  # noqa: F401  (re-exported)
from services.sharing import rectification
from services.sharing.rectification_models import RectificationDispatch, RectificationNotice

log = logging.getLogger(__name__)

JOB_NAME = "rectification-deadlines"
JOB_INTERVAL = timedelta(minutes=10)
NOTIFY_TIMEOUT_SECONDS = 5.0
PERMANENT_CODES = frozenset({grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT})
SERVICE_SUBJECT = "sharing-scheduler"  # the actor of transitions the job makes (no user did them)
REMINDER_3D, REMINDER_1D, ESCALATION = "reminder_3d", "reminder_1d", "escalation"
# Notification kinds in identity's inboxes (UPPER_SNAKE).
KINDS = {REMINDER_3D: "RECTIFICATION_DUE_IN_3_DAYS", REMINDER_1D: "RECTIFICATION_DUE_IN_1_DAY",
         ESCALATION: "RECTIFICATION_OVERDUE"}


@dataclass(frozen=True)
class Announcement:
    """One Notify call: the recipients of one side (employer or issuing department)."""

    request_id: str
    title: str
    body: str
    link: str
    kind: str
    organisation: str = ""
    roles: tuple[str, ...] = ()
    tenant_code: str = ""


class Undeliverable(Exception):
    """Identity refused the announcement for good (unknown organisation, invalid request):
    retrying cannot help, so the dispatch is recorded as undeliverable instead of retried."""


# (token, announcement) -> None; raises Undeliverable for permanent refusals, anything else for
# transient failures (retried next run).
Notifier = Callable[[str, Announcement], Awaitable[None]]


def identity_notifier(identity_stub) -> Notifier:
    """Calls identity's Notify with the service token and a deadline."""
    from prevention.identity.v1 import identity_pb2

    async def notify(token: str, a: Announcement) -> None:
        try:
            await identity_stub.Notify(
                identity_pb2.NotifyRequest(organisation=a.organisation, roles=list(a.roles),
                                           tenant_code=a.tenant_code, kind=a.kind, title=a.title, body=a.body,
                                           link=a.link, request_id=a.request_id),
                metadata=[("authorization", f"Bearer {token}")], timeout=NOTIFY_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as error:
            if error.code() in PERMANENT_CODES:
                raise Undeliverable(error.code().name) from error
            raise

    return notify


def announcements(row: RectificationNotice, kind: str) -> list[Announcement]:
    """The employer's officers and the issuing department (its liaisons; for a notice a provincial
    operator issued without a department, the tenant's provincial operators). No personal data."""
    deadline = row.deadline_date.isoformat()
    if kind == ESCALATION:
        title = "Rectification overdue: referred for enforcement"
        body = row.enforcement_referral or rectification.referral_text(row)
    else:
        days = "3 days" if kind == REMINDER_3D else "1 day"
        title = f"Rectification due within {days}"
        body = f"The rectification notice is due at the end of {deadline} (China Standard Time)."
    base = f"rectification-{row.id}-{kind}"
    common = {"title": title, "body": body, "link": f"/v1/rectification-notices/{row.id}",
              "kind": KINDS[kind]}
    out = [Announcement(request_id=f"{base}-employer", organisation=row.employer, **common)]
    if row.issuing_organisation:
        out.append(Announcement(request_id=f"{base}-issuer", organisation=row.issuing_organisation, **common))
    else:
        out.append(Announcement(request_id=f"{base}-issuer", roles=("provincial_operator",),
                                tenant_code=row.tenant_code, **common))
    return out


def reminder_kind(row: RectificationNotice, now: datetime) -> str | None:
    days_left = (row.deadline_date - cst_date(now)).days
    if days_left < 0:
        return None
    if days_left <= 1:
        return REMINDER_1D
    if days_left <= 3:
        return REMINDER_3D
    return None


class DeadlineJob:
    """The job body: escalate, claim reminders, deliver unsent announcements."""

    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], tokens, notifier: Notifier):
        self.sessionmaker, self.tokens, self.notifier = sessionmaker, tokens, notifier

    async def __call__(self, now: datetime) -> None:
        now = as_utc(now).astimezone(UTC)  # stored times are UTC (SQLite compares them as text)
        token = await self.tokens.token()  # no token: fail before claiming anything
        await self.escalate_overdue(now)
        await self.claim_reminders(now)
        failures = await self.deliver(token, now)
        if failures:
            raise Unavailable(f"{failures} rectification announcement(s) could not be delivered; retrying next run")

    async def escalate_overdue(self, now: datetime) -> int:
        escalated = 0
        async with self.sessionmaker() as session:
            candidates = (await session.scalars(select(RectificationNotice.id).where(
                RectificationNotice.state.in_(rectification.OPEN_STATES),
                RectificationNotice.due_time < now))).all()
        for notice_id in candidates:
            async with self.sessionmaker() as session:
                row = await session.get(RectificationNotice, notice_id)
                if row is None or row.state not in rectification.OPEN_STATES:
                    continue
                previous = row.state
                # The claim: only one runner's conditional update matches.
                claimed = await session.execute(
                    update(RectificationNotice)
                    .where(RectificationNotice.id == notice_id, RectificationNotice.state == previous)
                    .values(state=rectification.ESCALATED)
                    .execution_options(synchronize_session=False))
                if claimed.rowcount != 1:
                    await session.rollback()
                    continue
                row.state = previous  # record the transition from the state it really left
                rectification.escalate(session, row, actor=SERVICE_SUBJECT, now=now,
                                       reason=f"overdue: due at the end of {row.deadline_date.isoformat()} (CST)")
                session.add(RectificationDispatch(notice_id=row.id, kind=ESCALATION, tenant_code=row.tenant_code,
                                                  claim_time=now, sent_time=None, outcome=""))
                await session.commit()
                escalated += 1
        return escalated

    async def claim_reminders(self, now: datetime) -> int:
        horizon = now + timedelta(days=4)
        async with self.sessionmaker() as session:
            rows = (await session.scalars(select(RectificationNotice).where(
                RectificationNotice.state.in_(rectification.OPEN_STATES),
                RectificationNotice.due_time >= now, RectificationNotice.due_time < horizon))).all()
        claimed = 0
        for row in rows:
            kind = reminder_kind(row, now)
            if kind is None:
                continue
            async with self.sessionmaker() as session:
                session.add(RectificationDispatch(notice_id=row.id, kind=kind, tenant_code=row.tenant_code,
                                                  claim_time=now, sent_time=None, outcome=""))
                try:
                    await session.commit()
                    claimed += 1
                except IntegrityError:  # already claimed (by this or another runner)
                    await session.rollback()
        return claimed

    async def deliver(self, token: str, now: datetime) -> int:
        async with self.sessionmaker() as session:
            pending = (await session.execute(
                select(RectificationDispatch, RectificationNotice)
                .join(RectificationNotice, RectificationNotice.id == RectificationDispatch.notice_id)
                .where(RectificationDispatch.sent_time.is_(None))
                .order_by(RectificationDispatch.claim_time))).all()
        failures = 0
        for dispatch, notice in pending:
            outcome = "sent"
            try:
                for announcement in announcements(notice, dispatch.kind):
                    try:
                        await self.notifier(token, announcement)
                    except Undeliverable as error:
                        outcome = "undeliverable"
                        log.error("rectification announcement undeliverable", extra={
                            "notice": notice.id, "kind": dispatch.kind, "error": str(error)})
            except Exception as error:
                failures += 1
                # Ids and the error class only: no personal data in logs (A3).
                log.warning("rectification announcement failed; retrying next run", extra={
                    "notice": notice.id, "kind": dispatch.kind, "error": type(error).__name__})
                continue
            async with self.sessionmaker() as session:
                await session.execute(
                    update(RectificationDispatch)
                    .where(RectificationDispatch.notice_id == dispatch.notice_id,
                           RectificationDispatch.kind == dispatch.kind, RectificationDispatch.sent_time.is_(None))
                    .values(sent_time=as_utc(now), outcome=outcome))
                await session.commit()
        return failures


def deadline_background(*, job: DeadlineJob, clock: Clock, lock: LeaderLock, interval: timedelta = JOB_INTERVAL,
                        tick: float = 1.0):
    scheduler = Scheduler([Job(JOB_NAME, interval, job)], lock=lock, clock=clock)

    async def background(stop: asyncio.Event) -> None:
        await scheduler.run_forever(stop, tick=tick)

    return background
