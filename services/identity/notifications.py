"""Notifications (SPEC 7.8): domain functions, no gRPC.

- ``notify`` writes one inbox entry per recipient and, in the same transaction, one outbox row per
  e-mail or webhook copy the recipient asked for (transactional outbox): a notification is never
  delivered without being stored, nor stored without its deliveries being queued.
- Recipients are users named by id, users holding a role in a tenant subtree, and the users of an
  organisation. Every one must lie in the caller's tenant subtree (ministry operators: any):
  otherwise NOT_FOUND, exactly like an unknown id, and nothing is written.
- The inbox is the caller's own; another user's notification answers NOT_FOUND (ministry too).
- ``deliver_pending`` is the scheduled job's work: it sends due outbox rows one at a time, each in
  its own transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so replicas never send one row
  twice), retries transient failures with exponential backoff and marks a row failed after
  ``MAX_ATTEMPTS`` or at once on a permanent failure. A crash between sending and committing sends
  again (at-least-once); receivers can drop duplicates by the delivery id in every message.
- Webhook URLs go through services.common.ssrf when saved and again before each send; the request
  goes to the checked address, redirects are not followed.
- Messages carry only the notification itself (kind, title, body, link, time): nothing the
  recipient could not read in their inbox, and no address or URL is ever logged or stored in
  ``last_error``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import secrets
import smtplib
import ssl
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.clock import as_utc
from services.common.context import Caller
from services.common.errors import FieldViolation, InvalidArgument, NotFound
from services.common.pii import PiiKeyring
from services.common.policy import ROLES
from services.common.scheduler import Job, LeaderLock, Scheduler
from services.common.ssrf import OutboundPolicy, Resolver, UrlRefused, check_url, outbound_client
from services.common.tenancy import subtree_prefix, visible_to
from services.identity import users as identity_users
from services.identity.models import Tenant, User
from services.identity.notification_models import (
    WEBHOOK_URL_CONTEXT,
    Notification,
    NotificationDelivery,
    NotificationSettings,
)
from services.identity.org_models import Organisation

log = logging.getLogger("prevention.identity.notifications")

EMAIL, WEBHOOK = "email", "webhook"
PENDING, SENT, FAILED = "pending", "sent", "failed"
MAX_RECIPIENTS = 5000
MAX_NAMED_USERS = 1000
MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
SETTINGS_MASK = frozenset({"email_enabled", "webhook_url"})

_KIND = re.compile(r"^[A-Z][A-Z0-9_]{1,47}$")
# A path inside the platform: starts with one slash (not `//host`), no scheme, no backslash.
_LINK = re.compile(r"^/(?![/\\])[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$")
_USER_NAME = re.compile(r"^users/([0-9a-f]{32})$")
_NOTIFICATION_NAME = re.compile(r"^notifications/([0-9a-f]{32})$")
_ORG_NAME = re.compile(r"^organisations/([0-9a-f]{32})$")
_TENANT = re.compile(r"^\d{6}$")
_sequence = itertools.count()


# -- configuration -------------------------------------------------------------------------------


class DeliverySettings(BaseSettings):
    """`PREVENTION_SMTP_*` (e-mail is off while the host is unset) and `PREVENTION_WEBHOOK*`."""

    model_config = SettingsConfigDict(env_prefix="PREVENTION_", extra="ignore")

    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_from: str = ""
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password: str = Field(default="", repr=False)
    # Webhooks make the platform call URLs its users choose: off unless the operator opts in.
    webhooks_enabled: bool = False
    # Comma-separated host names or addresses exempt from the address check (and, in the dev
    # profile only, allowed over plain http), e.g. an on-premises receiver.
    webhook_allow_hosts: str = ""
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    notification_delivery_interval_seconds: float = Field(default=15.0, gt=0)


@dataclass(frozen=True)
class SmtpSender:
    """Plain stdlib smtplib; runs in a worker thread (``asyncio.to_thread``)."""

    host: str
    port: int
    sender: str
    starttls: bool = True
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 10.0

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as client:
            if self.starttls:
                client.starttls(context=ssl.create_default_context())
            if self.username:
                client.login(self.username, self.password)
            client.send_message(message)


@dataclass(frozen=True)
class Delivery:
    """What the platform delivers besides the inbox. ``webhook_policy`` applies whether or not
    webhooks are on, so a URL saved while they are off is still checked."""

    smtp: SmtpSender | None = None
    webhooks_enabled: bool = False
    webhook_policy: OutboundPolicy = field(default_factory=OutboundPolicy)
    webhook_timeout: float = 5.0
    interval: timedelta = timedelta(seconds=15)

    @property
    def active(self) -> bool:
        return self.smtp is not None or self.webhooks_enabled

    @classmethod
    def from_settings(cls, profile: str, values: DeliverySettings | None = None) -> Delivery:
        values = values or DeliverySettings()
        smtp = None
        if values.smtp_host:
            if not values.smtp_from:
                raise ValueError("PREVENTION_SMTP_FROM is required when PREVENTION_SMTP_HOST is set")
            smtp = SmtpSender(host=values.smtp_host, port=values.smtp_port, sender=values.smtp_from,
                              starttls=values.smtp_starttls, username=values.smtp_username,
                              password=values.smtp_password)
        return cls(smtp=smtp, webhooks_enabled=values.webhooks_enabled,
                   webhook_policy=OutboundPolicy.from_values(profile, values.webhook_allow_hosts),
                   webhook_timeout=values.webhook_timeout_seconds,
                   interval=timedelta(seconds=values.notification_delivery_interval_seconds))


# -- notify ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Content:
    kind: str
    title: str
    body: str
    link: str


@dataclass(frozen=True)
class Recipients:
    users: list[str]
    roles: list[str]
    tenant_code: str
    organisation: str


def _has_control(text: str, *, newlines: bool) -> bool:
    allowed = "\r\n\t" if newlines else ""  # the body is never a header; the title may be one
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


def validate(content: Content, recipients: Recipients) -> tuple[Content, list[str], str | None]:
    """Checks the request; returns the cleaned content, the named user ids and the organisation id."""
    violations: list[FieldViolation] = []
    if not _KIND.match(content.kind):
        violations.append(FieldViolation("kind", "is required: UPPER_SNAKE, 2-48 characters"))
    title = content.title.strip()
    if not title or len(title) > 200 or _has_control(title, newlines=False):
        violations.append(FieldViolation("title", "is required: at most 200 characters on one line"))
    if len(content.body) > 4000 or _has_control(content.body, newlines=True):
        violations.append(FieldViolation("body", "must be at most 4000 characters of text"))
    if content.link and (len(content.link) > 512 or not _LINK.match(content.link)):
        violations.append(FieldViolation("link", "must be a path inside the platform, e.g. /v1/..., not a URL"))
    if not (recipients.users or recipients.roles or recipients.organisation):
        violations.append(FieldViolation("users", "name recipients: users, roles or an organisation"))
    if len(recipients.users) > MAX_NAMED_USERS:
        violations.append(FieldViolation("users", f"at most {MAX_NAMED_USERS} users per call"))
    user_ids = []
    for index, name in enumerate(recipients.users[:MAX_NAMED_USERS]):
        match = _USER_NAME.match(name)
        if not match:
            violations.append(FieldViolation(f"users[{index}]", "must be users/{id}"))
        else:
            user_ids.append(match.group(1))
    unknown = sorted(set(recipients.roles) - set(ROLES))
    if unknown:
        violations.append(FieldViolation("roles", f"unknown roles: {', '.join(unknown)}"))
    if recipients.tenant_code and not recipients.roles:
        violations.append(FieldViolation("tenant_code", "selects where `roles` apply; give roles too"))
    if recipients.tenant_code and not _TENANT.match(recipients.tenant_code):
        violations.append(FieldViolation("tenant_code", "must be a six-digit tenant code"))
    organisation_id = None
    if recipients.organisation:
        match = _ORG_NAME.match(recipients.organisation)
        if match:
            organisation_id = match.group(1)
        else:
            violations.append(FieldViolation("organisation", "must be organisations/{id}"))
    if violations:
        raise InvalidArgument(violations)
    return Content(kind=content.kind, title=title, body=content.body, link=content.link), user_ids, organisation_id


def _too_many() -> InvalidArgument:
    return InvalidArgument.field("roles", f"selects more than {MAX_RECIPIENTS} recipients; narrow the selection")


async def resolve_recipients(session: AsyncSession, *, caller: Caller, recipients: Recipients,
                             user_ids: list[str], organisation_id: str | None) -> list[User]:
    """The enabled users selected, each once. Anyone outside the caller's subtree: NotFound."""
    found: dict[str, User] = {}
    if user_ids:
        rows = {u.id: u for u in (await session.scalars(select(User).where(User.id.in_(set(user_ids))))).all()}
        for user_id in user_ids:
            user = rows.get(user_id)
            if user is None or not caller.sees_tenant(user.tenant_code):
                raise NotFound(f"user {user_id} not found")
            if user.enabled:
                found[user.id] = user
    if recipients.roles:
        tenant = recipients.tenant_code or caller.tenant
        if not caller.sees_tenant(tenant) or await session.get(Tenant, tenant) is None:
            raise NotFound(f"tenant {tenant} not found")
        roles = set(recipients.roles)
        query = select(User).where(User.enabled.is_(True), visible_to(User.tenant_code, caller),
                                   # A prefilter on the JSON text; the exact test follows in Python.
                                   or_(*(cast(User.roles, String).like(f'%"{role}"%') for role in sorted(roles))))
        prefix = subtree_prefix(tenant)
        if prefix:
            query = query.where(User.tenant_code.startswith(prefix, autoescape=True))
        rows = (await session.scalars(query.order_by(User.id).limit(MAX_RECIPIENTS + 1))).all()
        if len(rows) > MAX_RECIPIENTS:
            raise _too_many()
        found.update((u.id, u) for u in rows if roles & set(u.roles))
    if organisation_id:
        organisation = await session.get(Organisation, organisation_id)
        if organisation is None or not caller.sees_tenant(organisation.tenant_code):
            raise NotFound(f"organisation {organisation_id} not found")
        query = select(User).where(User.organisation_id == organisation_id, User.enabled.is_(True),
                                   visible_to(User.tenant_code, caller))
        rows = (await session.scalars(query.order_by(User.id).limit(MAX_RECIPIENTS + 1))).all()
        if len(rows) > MAX_RECIPIENTS:
            raise _too_many()
        found.update((u.id, u) for u in rows)
    if len(found) > MAX_RECIPIENTS:
        raise _too_many()
    return list(found.values())


def new_notification_id(now: datetime) -> str:
    """Time-ordered: 12 hex digits of milliseconds, 6 of a process sequence (order within one
    millisecond), 14 random; the inbox pages by id alone."""
    millis = int(now.timestamp() * 1000) & (16**12 - 1)
    return f"{millis:012x}{next(_sequence) % 16**6:06x}{secrets.token_hex(7)}"


async def _settings_for(session: AsyncSession, user_ids: Iterable[str]) -> dict[str, NotificationSettings]:
    ids = list(user_ids)
    result: dict[str, NotificationSettings] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = await session.scalars(select(NotificationSettings).where(NotificationSettings.user_id.in_(chunk)))
        result.update((s.user_id, s) for s in rows)
    return result


async def notify(session: AsyncSession, now: datetime, *, caller: Caller, content: Content, recipients: Recipients,
                 delivery: Delivery) -> int:
    """Creates the notifications and their queued deliveries in the caller's transaction; returns
    the number of recipients."""
    content, user_ids, organisation_id = validate(content, recipients)
    users = await resolve_recipients(session, caller=caller, recipients=recipients, user_ids=user_ids,
                                     organisation_id=organisation_id)
    settings = await _settings_for(session, (u.id for u in users)) if delivery.active else {}
    for user in sorted(users, key=lambda u: u.id):
        row = Notification(id=new_notification_id(now), tenant_code=user.tenant_code, recipient_id=user.id,
                           sender=caller.subject[:128], kind=content.kind, title=content.title, body=content.body,
                           link=content.link, create_time=now, read_time=None)
        session.add(row)
        wanted = settings.get(user.id)
        channels = []
        if wanted is not None and delivery.smtp is not None and wanted.email_enabled and user.email_enc:
            channels.append(EMAIL)
        if wanted is not None and delivery.webhooks_enabled and wanted.webhook_url_enc:
            channels.append(WEBHOOK)
        for channel in channels:
            session.add(NotificationDelivery(notification_id=row.id, channel=channel, status=PENDING, attempts=0,
                                             next_attempt_time=now, create_time=now))
    await session.flush()
    return len(users)


# -- the inbox ------------------------------------------------------------------------------------


def parse_notification_name(name: str) -> str:
    match = _NOTIFICATION_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field("name", "must be notifications/{id}")
    return match.group(1)


async def list_notifications(session: AsyncSession, *, caller: Caller, unread_only: bool, after: str | None,
                             limit: int) -> list[Notification]:
    """The caller's own inbox, newest first."""
    query = select(Notification).where(Notification.recipient_id == caller.subject)
    if unread_only:
        query = query.where(Notification.read_time.is_(None))
    if after:
        query = query.where(Notification.id < after)
    return list((await session.scalars(query.order_by(Notification.id.desc()).limit(limit))).all())


async def unread_count(session: AsyncSession, *, caller: Caller) -> int:
    query = select(func.count()).select_from(Notification).where(
        Notification.recipient_id == caller.subject, Notification.read_time.is_(None))
    return int((await session.execute(query)).scalar_one())


async def mark_read(session: AsyncSession, now: datetime, *, caller: Caller, notification_id: str) -> Notification:
    """Own notifications only; marking one read twice keeps the first read time."""
    row = await session.get(Notification, notification_id)
    if row is None or row.recipient_id != caller.subject:
        raise NotFound(f"notification {notification_id} not found")
    if row.read_time is None:
        row.read_time = now
    return row


# -- delivery settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsView:
    user_id: str
    email_enabled: bool
    webhook_url: str
    email_available: bool
    webhook_available: bool


async def _own_user(session: AsyncSession, caller: Caller) -> User:
    user = await session.get(User, caller.subject)
    if user is None:  # machine clients and unknown subjects have no settings
        raise NotFound("user not found")
    return user


def _view(user: User, row: NotificationSettings | None, keyring: PiiKeyring, delivery: Delivery) -> SettingsView:
    url = keyring.decrypt(row.webhook_url_enc, context=WEBHOOK_URL_CONTEXT) if row and row.webhook_url_enc else ""
    return SettingsView(user_id=user.id, email_enabled=bool(row and row.email_enabled), webhook_url=url,
                        email_available=delivery.smtp is not None and bool(user.email_enc),
                        webhook_available=delivery.webhooks_enabled)


async def get_settings(session: AsyncSession, keyring: PiiKeyring, *, caller: Caller,
                       delivery: Delivery) -> SettingsView:
    user = await _own_user(session, caller)
    return _view(user, await session.get(NotificationSettings, user.id), keyring, delivery)


async def update_settings(session: AsyncSession, keyring: PiiKeyring, now: datetime, *, caller: Caller, mask: list[str],
                          email_enabled: bool, webhook_url: str, delivery: Delivery,
                          resolver: Resolver | None = None) -> SettingsView:
    unknown = sorted(set(mask) - SETTINGS_MASK)
    if not mask or unknown:
        raise InvalidArgument.field("update_mask", f"must list fields among {', '.join(sorted(SETTINGS_MASK))}")
    url = webhook_url.strip() if "webhook_url" in mask else ""
    if url:
        try:
            await check_url(url, delivery.webhook_policy, resolver=resolver)
        except UrlRefused as refused:
            raise InvalidArgument.field("notification_settings.webhook_url", refused.reason) from None
    user = await _own_user(session, caller)
    row = await session.get(NotificationSettings, user.id)
    if row is None:
        row = NotificationSettings(user_id=user.id, email_enabled=False, webhook_url_enc=None, update_time=now)
        session.add(row)
    if "email_enabled" in mask:
        row.email_enabled = bool(email_enabled)
    if "webhook_url" in mask:
        row.webhook_url_enc = keyring.encrypt(url, context=WEBHOOK_URL_CONTEXT) if url else None
    row.update_time = now
    await session.flush()
    return _view(user, row, keyring, delivery)


# -- delivery (the scheduled job) ----------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Outcome:
    status: str  # SENT, PENDING (retry) or FAILED
    error: str | None = None


def _sent() -> _Outcome:
    return _Outcome(SENT)


def _retry(error: str) -> _Outcome:
    return _Outcome(PENDING, error)


def _fail(error: str) -> _Outcome:
    return _Outcome(FAILED, error)


def backoff(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failed attempt: 30 s, 1 min, 2 min ... at most an hour."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def _payload(delivery_id: int, n: Notification) -> dict:
    created = as_utc(n.create_time)
    return {"id": str(delivery_id), "notification": f"notifications/{n.id}", "kind": n.kind, "title": n.title,
            "body": n.body, "link": n.link, "create_time": created.astimezone(UTC).isoformat()}


def _email(smtp: SmtpSender, address: str, delivery_id: int, n: Notification) -> EmailMessage:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = address
    message["Subject"] = n.title
    created = as_utc(n.create_time)
    message["Date"] = format_datetime(created.astimezone(UTC))
    message["Message-ID"] = make_msgid(idstring=f"notification-{delivery_id}")
    message["X-Prevention-Delivery"] = str(delivery_id)
    text = n.body + (f"\n\nOpen in the platform: {n.link}" if n.link else "")
    text += "\n\n-- \nYou receive this because e-mail copies are on in your notification settings.\n"
    message.set_content(text)
    return message


async def _send_email(row: NotificationDelivery, n: Notification, user: User, wanted: NotificationSettings | None,
                      *, smtp: SmtpSender | None, keyring: PiiKeyring) -> _Outcome:
    if smtp is None:
        return _fail("e-mail delivery is off")
    if not user.enabled or wanted is None or not wanted.email_enabled or not user.email_enc:
        return _fail("the recipient no longer receives e-mail")
    address = keyring.decrypt(user.email_enc, context=identity_users.EMAIL)
    try:
        await asyncio.to_thread(smtp.send, _email(smtp, address, row.id, n))
    except smtplib.SMTPRecipientsRefused as error:
        # Raised for 4xx (try later) and 5xx (never) refusals alike: only 5xx is permanent.
        code = min((reply[0] for reply in error.recipients.values()), default=550)
        if 500 <= code < 600:
            return _fail(f"the mail server refused the recipient ({code})")
        return _retry(f"the mail server deferred the recipient ({code})")
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:
            return _fail(f"the mail server answered {error.smtp_code}")
        return _retry(f"the mail server answered {error.smtp_code}")
    except (smtplib.SMTPException, OSError):
        return _retry("the mail server is unreachable")
    return _sent()


async def _send_webhook(row: NotificationDelivery, n: Notification, user: User, wanted: NotificationSettings | None,
                        *, http: httpx.AsyncClient | None, policy: OutboundPolicy | None, keyring: PiiKeyring,
                        resolver: Resolver | None, request_seconds: float) -> _Outcome:
    if http is None or policy is None:
        return _fail("webhook delivery is off")
    if not user.enabled or wanted is None or not wanted.webhook_url_enc:
        return _fail("the recipient no longer has a webhook")
    url = keyring.decrypt(wanted.webhook_url_enc, context=WEBHOOK_URL_CONTEXT)
    try:
        target = await check_url(url, policy, resolver=resolver)
    except UrlRefused as refused:
        return _retry(f"webhook URL: {refused.reason}") if refused.transient else _fail(f"webhook URL {refused.reason}")
    headers = {**target.headers, "User-Agent": "prevention-platform-webhook/1",
               "X-Prevention-Delivery": str(row.id)}
    try:
        # A total bound: httpx's timeouts are per read, and headers trickling in must not hold the job.
        async with asyncio.timeout(request_seconds):
            async with http.stream("POST", target.url, json=_payload(row.id, n), headers=headers,
                                   extensions=target.extensions) as response:
                status = response.status_code  # the body is never read
    except (TimeoutError, httpx.TimeoutException):
        return _retry("the webhook timed out")
    except httpx.HTTPError:
        return _retry("the webhook is unreachable")
    if 200 <= status < 300:
        return _sent()
    if 300 <= status < 400:
        return _fail(f"the webhook answered {status}; redirects are not followed")
    if status in (408, 425, 429) or status >= 500:
        return _retry(f"the webhook answered {status}")
    return _fail(f"the webhook answered {status}")


async def deliver_pending(session: AsyncSession, now: datetime, *, smtp: SmtpSender | None,
                          http: httpx.AsyncClient | None, keyring: PiiKeyring,
                          webhook_policy: OutboundPolicy | None = None, resolver: Resolver | None = None,
                          request_seconds: float = 10.0, limit: int = 200,
                          max_attempts: int = MAX_ATTEMPTS) -> DeliveryReport:
    """Sends the outbox rows due at ``now``, at most ``limit``, committing after each one.
    ``http`` None or ``webhook_policy`` None means webhooks are off; ``smtp`` None, e-mail."""
    report = DeliveryReport()
    due = (select(NotificationDelivery)
           .where(NotificationDelivery.status == PENDING, NotificationDelivery.next_attempt_time <= now)
           .order_by(NotificationDelivery.next_attempt_time, NotificationDelivery.id)
           .limit(1).with_for_update(skip_locked=True))
    for _ in range(limit):
        row = (await session.scalars(due)).first()
        if row is None:
            break
        try:
            outcome = await _send(session, row, smtp=smtp, http=http, keyring=keyring, policy=webhook_policy,
                                  resolver=resolver, request_seconds=request_seconds)
        except Exception as error:
            # Retried with backoff like any failure; only the error's type is kept (no payloads).
            outcome = _Outcome(PENDING, f"unexpected {type(error).__name__}")
        row.attempts += 1
        row.last_error = outcome.error[:255] if outcome.error else None
        if outcome.status == SENT:
            row.status, row.sent_time = SENT, now
            report.sent += 1
        elif outcome.status == PENDING and row.attempts < max_attempts:
            row.next_attempt_time = now + backoff(row.attempts)
            report.retrying += 1
        else:
            row.status = FAILED
            report.failed += 1
            log.warning("notification delivery failed", extra={"delivery_id": row.id, "channel": row.channel,
                                                                "attempts": row.attempts, "reason": row.last_error})
        await session.commit()
    return report


async def _send(session: AsyncSession, row, *, smtp, http, keyring, policy, resolver, request_seconds) -> _Outcome:
    n = await session.get(Notification, row.notification_id)
    user = await session.get(User, n.recipient_id) if n else None
    wanted = await session.get(NotificationSettings, user.id) if user else None
    if n is None or user is None:
        return _fail("the notification no longer exists")
    if row.channel == EMAIL:
        return await _send_email(row, n, user, wanted, smtp=smtp, keyring=keyring)
    if row.channel == WEBHOOK:
        return await _send_webhook(row, n, user, wanted, http=http, policy=policy, keyring=keyring,
                                   resolver=resolver, request_seconds=request_seconds)
    return _fail("unknown channel")


Background = Callable[[asyncio.Event], Awaitable[None]]


def delivery_background(*, sessionmaker, delivery: Delivery, keyring: PiiKeyring, clock, lock: LeaderLock,
                        resolver: Resolver | None = None, tick: float = 1.0) -> Background | None:
    """The periodic delivery job for the service runtime, or None when nothing is delivered
    besides the inbox. One runner at a time holds ``lock`` (a Kubernetes Lease in-cluster, a file
    lock in embedded mode: services.common.lease.leader_lock); the row locks of
    ``deliver_pending`` keep any overlap from sending a row twice."""
    if not delivery.active:
        return None

    async def run(now: datetime) -> None:
        client = outbound_client(timeout=delivery.webhook_timeout) if delivery.webhooks_enabled else None
        try:
            async with sessionmaker() as session:
                report = await deliver_pending(
                    session, now, smtp=delivery.smtp, http=client, keyring=keyring,
                    webhook_policy=delivery.webhook_policy if delivery.webhooks_enabled else None,
                    resolver=resolver, request_seconds=2 * delivery.webhook_timeout,
                )
        finally:
            if client is not None:
                await client.aclose()
        if report.sent or report.failed or report.retrying:
            log.info("notification deliveries", extra={"sent": report.sent, "retrying": report.retrying,
                                                        "failed": report.failed})

    scheduler = Scheduler([Job("notification-delivery", delivery.interval, run)], lock=lock,
                          clock=clock)

    async def background(stop: asyncio.Event) -> None:
        await scheduler.run_forever(stop, tick=tick)

    return background
