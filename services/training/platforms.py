"""The recommended platform list (SPEC TR-6): provinces register third-party training platforms and
institutions with their qualifications, base URL and the API client ids they push with; states
recommended / suspended / revoked, every transition recorded (who, when, why).

Base URLs are identifiers (the xAPI account home page of the platform's learners, SPEC 7.7) and
are never fetched by the platform, so the check is the SSRF guard's syntax part plus a refusal of
every non-public literal address and local name (RELIABILITY S11): https only, no user-info, no
loopback / private / link-local address, no ``localhost``. Should a later feature call the URL,
it must go through services.common.ssrf.check_url at request time.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import Caller
from services.common.errors import AlreadyExists, FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from services.common.pagination import newest_first
from services.common.ssrf import OutboundPolicy, UrlRefused, forbidden_address, parse_url
from services.common.tenancy import visible_to
from services.training.core_models import (
    PLATFORM_STATES,
    TrainingPlatform,
    TrainingPlatformClient,
    TrainingPlatformTransition,
)
from services.training.reference import is_blank

KINDS = ("platform", "institution")
# recommended <-> suspended; either may be revoked; revoked is final (a new registration is needed).
TRANSITIONS = {("recommended", "suspended"), ("suspended", "recommended"), ("recommended", "revoked"),
               ("suspended", "revoked")}
_NAME = re.compile(r"^trainingPlatforms/([0-9a-f]{32})$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


def check_public_url(raw: str, field_name: str) -> str:
    """RELIABILITY S11 for a URL that is stored, not fetched: raises InvalidArgument naming the field."""
    try:
        url = parse_url(raw, OutboundPolicy(profile="prod"))
    except UrlRefused as refused:
        raise InvalidArgument.field(field_name, refused.reason) from None
    host = url.raw_host.decode("ascii").lower().strip("[]").rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        why = forbidden_address(address)
        if why:
            raise InvalidArgument.field(field_name, f"must not point to {why}")
    elif host == "localhost" or host.endswith(_LOCAL_SUFFIXES) or "." not in host:
        raise InvalidArgument.field(field_name, "must name a public host")
    return str(url).rstrip("/")


@dataclass(frozen=True)
class NewPlatform:
    display_name: str
    kind: str
    base_url: str
    qualifications: list[str] = field(default_factory=list)
    client_ids: list[str] = field(default_factory=list)


def parse_platform_name(name: str) -> str:
    match = _NAME.match(name or "")
    if not match:
        raise InvalidArgument.field("name", "must be trainingPlatforms/{id}")
    return match.group(1)


def _validate(new: NewPlatform) -> str:
    violations: list[FieldViolation] = []
    if is_blank(new.display_name):
        violations.append(FieldViolation("training_platform.display_name", "is required"))
    elif len(new.display_name) > 200:
        violations.append(FieldViolation("training_platform.display_name", "must be at most 200 characters"))
    if new.kind not in KINDS:
        violations.append(FieldViolation("training_platform.kind", f"must be one of {', '.join(KINDS)}"))
    if len(new.qualifications) > 50 or any(is_blank(q) or len(q) > 200 for q in new.qualifications):
        violations.append(FieldViolation("training_platform.qualifications",
                                         "at most 50, each 1 to 200 characters"))
    if len(new.client_ids) > 20 or any(not _CLIENT_ID.match(c) for c in new.client_ids):
        violations.append(FieldViolation("training_platform.client_ids",
                                         "at most 20 API client ids of letters, digits and ._:-"))
    elif len(set(new.client_ids)) != len(new.client_ids):
        violations.append(FieldViolation("training_platform.client_ids", "must not repeat"))
    base_url = ""
    try:
        base_url = check_public_url(new.base_url, "training_platform.base_url")
    except InvalidArgument as error:
        violations.extend(error.violations)
    if violations:
        raise InvalidArgument(violations)
    return base_url


async def create_platform(*, session: AsyncSession, caller: Caller, new: NewPlatform, now: datetime
                          ) -> TrainingPlatform:
    """Registers on the caller's tenant list in state recommended (the province vetted it)."""
    base_url = _validate(new)
    row = TrainingPlatform(id=uuid.uuid4().hex, tenant_code=caller.tenant, display_name=new.display_name.strip(),
                           kind=new.kind, base_url=base_url, qualifications=[q.strip() for q in new.qualifications],
                           state="recommended", create_time=now, update_time=now, created_by=caller.subject)
    session.add(row)
    try:
        await session.flush()
        for client_id in new.client_ids:
            session.add(TrainingPlatformClient(tenant_code=row.tenant_code, platform_id=row.id, client_id=client_id))
        session.add(TrainingPlatformTransition(tenant_code=row.tenant_code, platform_id=row.id, seq=1,
                                               from_state="", to_state="recommended", reason="registered",
                                               actor=caller.subject, time=now))
        await session.flush()
    except IntegrityError:
        raise AlreadyExists("a platform with this base URL or API client id is already on the tenant's list",
                            reason="TRAINING_PLATFORM_EXISTS") from None
    return row


async def get_platform(*, session: AsyncSession, caller: Caller, platform_id: str) -> TrainingPlatform:
    row = (await session.scalars(select(TrainingPlatform).where(
        TrainingPlatform.id == platform_id, visible_to(TrainingPlatform.tenant_code, caller)))).first()
    if row is None:
        raise NotFound(f"training platform {platform_id} not found")
    return row


async def client_ids(session: AsyncSession, platform_id: str) -> list[str]:
    return list((await session.scalars(select(TrainingPlatformClient.client_id).where(
        TrainingPlatformClient.platform_id == platform_id).order_by(TrainingPlatformClient.client_id))).all())


async def transitions(session: AsyncSession, platform_id: str) -> list[TrainingPlatformTransition]:
    return list((await session.scalars(select(TrainingPlatformTransition).where(
        TrainingPlatformTransition.platform_id == platform_id).order_by(TrainingPlatformTransition.seq))).all())


async def list_platforms(*, session: AsyncSession, caller: Caller, tenant_code: str, state: str,
                         after: tuple[str, str] | None, limit: int) -> list[TrainingPlatform]:
    query = select(TrainingPlatform).where(visible_to(TrainingPlatform.tenant_code, caller))
    if tenant_code:
        query = query.where(TrainingPlatform.tenant_code == tenant_code)
    if state:
        if state not in PLATFORM_STATES:
            raise InvalidArgument.field("state", f"must be one of {', '.join(PLATFORM_STATES)}")
        query = query.where(TrainingPlatform.state == state)
    query = newest_first(query, TrainingPlatform.create_time, TrainingPlatform.id, after, limit)
    return list((await session.scalars(query)).all())


async def change_state(*, session: AsyncSession, caller: Caller, platform_id: str, state: str, reason: str,
                       now: datetime) -> TrainingPlatform:
    if state not in PLATFORM_STATES:
        raise InvalidArgument.field("state", f"must be one of {', '.join(PLATFORM_STATES)}")
    if is_blank(reason) or len(reason) > 2000:
        raise InvalidArgument.field("reason", "is required, at most 2000 characters")
    row = await get_platform(session=session, caller=caller, platform_id=platform_id)
    if row.state == state:
        return row  # a retried request: already there, nothing recorded twice
    if (row.state, state) not in TRANSITIONS:
        raise FailedPrecondition(f"a {row.state} platform cannot become {state}", reason="ILLEGAL_TRANSITION")
    seq = len(await transitions(session, row.id)) + 1
    session.add(TrainingPlatformTransition(tenant_code=row.tenant_code, platform_id=row.id, seq=seq,
                                           from_state=row.state, to_state=state, reason=reason.strip(),
                                           actor=caller.subject, time=now))
    row.state = state
    row.update_time = now
    await session.flush()
    return row
