"""Bulletins (SPEC SH-7): the ministry circulates typical accidents nationally; each province
acknowledges; the ministry sees which provinces have not. Domain functions only.

Decisions:
- A bulletin is an accident *summary*: date, region, industry, category, severity and counts,
  plus a title and a body. It has no field for personal data (names, ID numbers, phones).
- The sharing service does not read identity's tenants (services never import one another), so
  the provinces expected to acknowledge are the constant ``PROVINCES`` below; acknowledgements
  are stored per province code as they come, and "unacknowledged" is ``PROVINCES`` minus those.
- A provincial operator acknowledges for its province (its tenant must be one of ``PROVINCES``);
  acknowledging again replays the first acknowledgement (time and subject unchanged).
- Everyone authenticated reads every bulletin; the acknowledged flag is that of the caller's
  province (tenant code's first two digits + 0000); the ministry has none.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import NATIONAL_TENANT, Caller
from services.common.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from services.common.pagination import newest_first
from services.common.validators import validate_industry_code
from services.sharing.models import Bulletin, BulletinAcknowledgement
from services.sharing.records import ACCIDENT_TYPES, MAX_COUNT, SEVERITIES, parse_date, today_cst

# The 32 provincial-level units that run work-injury insurance, as GB/T 2260 codes: the 31
# provinces, autonomous regions and municipalities of the mainland, plus the Xinjiang Production
# and Construction Corps (660000, the code the insurance system uses for it). Hong Kong, Macao
# and Taiwan are not covered by the scheme.
PROVINCES: tuple[str, ...] = (
    "110000", "120000", "130000", "140000", "150000", "210000", "220000", "230000",
    "310000", "320000", "330000", "340000", "350000", "360000", "370000", "410000",
    "420000", "430000", "440000", "450000", "460000", "500000", "510000", "520000",
    "530000", "540000", "610000", "620000", "630000", "640000", "650000", "660000",
)
MAX_TITLE = 200
MAX_BODY = 10_000
_BULLETIN_NAME = re.compile(r"^bulletins/([0-9a-f]{32})$")


@dataclass(frozen=True)
class BulletinData:
    title: str
    body: str
    occurred_at: str
    region_code: str
    industry_code: str
    accident_type: str
    severity: str
    fatalities: int
    persons_injured: int


def parse_bulletin_name(name: str) -> str:
    match = _BULLETIN_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field("name", "must be bulletins/{id}")
    return match.group(1)


def province_of(tenant: str) -> str:
    """The province a tenant lies in, or "" (the ministry, or a code outside ``PROVINCES``)."""
    code = f"{tenant[:2]}0000" if len(tenant) == 6 else ""
    return code if code in PROVINCES else ""


def validate_bulletin(data: BulletinData) -> dict:
    """The bulletin's column values, normalised; every violation at once (NF-3)."""
    prefix = "bulletin"
    violations: list[FieldViolation] = []
    values: dict = {}
    for field, limit in (("title", MAX_TITLE), ("body", MAX_BODY)):
        text = getattr(data, field) or ""
        if not text.strip():
            violations.append(FieldViolation(f"{prefix}.{field}", "is required"))
        elif len(text) > limit:
            violations.append(FieldViolation(f"{prefix}.{field}", f"must be at most {limit} characters"))
        values[field] = text.strip()
    try:
        day: date = parse_date(data.occurred_at, f"{prefix}.occurred_at")
        if day > today_cst():
            violations.append(FieldViolation(f"{prefix}.occurred_at",
                                             "must not be in the future (China Standard Time)"))
        values["occurred_at"] = day
    except InvalidArgument as error:
        violations.extend(error.violations)
    if data.region_code and data.region_code not in PROVINCES:
        violations.append(FieldViolation(f"{prefix}.region_code", "must be a GB/T 2260 province code, or empty"))
    values["region_code"] = data.region_code
    try:
        values["industry_code"] = validate_industry_code(data.industry_code, f"{prefix}.industry_code")
    except InvalidArgument as error:
        violations.extend(error.violations)
    if data.accident_type not in ACCIDENT_TYPES:
        violations.append(FieldViolation(f"{prefix}.accident_type",
                                          "must be a GB 6441-1986 category: " + ", ".join(ACCIDENT_TYPES)))
    values["accident_type"] = data.accident_type
    if data.severity not in SEVERITIES:
        violations.append(FieldViolation(f"{prefix}.severity", f"must be one of {', '.join(SEVERITIES)}"))
    values["severity"] = data.severity
    for field in ("fatalities", "persons_injured"):
        count = getattr(data, field)
        if not 0 <= count <= MAX_COUNT:
            violations.append(FieldViolation(f"{prefix}.{field}", f"must be between 0 and {MAX_COUNT}"))
        values[field] = count
    if data.severity == "fatal" and data.fatalities < 1:
        violations.append(FieldViolation(f"{prefix}.fatalities", "must be at least 1 for a fatal accident"))
    if data.severity in SEVERITIES and data.severity != "fatal" and data.fatalities > 0:
        violations.append(FieldViolation(f"{prefix}.severity", "must be fatal when fatalities is above 0"))
    if violations:
        raise InvalidArgument(violations)
    return values


async def create_bulletin(*, session: AsyncSession, caller: Caller, data: BulletinData) -> Bulletin:
    values = validate_bulletin(data)
    row = Bulletin(id=uuid.uuid4().hex, tenant_code=NATIONAL_TENANT, publish_time=datetime.now(UTC),
                   created_by=caller.subject, **values)
    session.add(row)
    await session.flush()
    return row


async def _get(session: AsyncSession, bulletin_id: str) -> Bulletin:
    row = await session.get(Bulletin, bulletin_id)
    if row is None:
        raise NotFound(f"bulletin {bulletin_id} not found")
    return row


async def _acknowledgements(session: AsyncSession, caller: Caller,
                            bulletin_ids: list[str]) -> dict[str, BulletinAcknowledgement]:
    province = province_of(caller.tenant)
    if not province or not bulletin_ids:
        return {}
    rows = (await session.scalars(select(BulletinAcknowledgement).where(
        BulletinAcknowledgement.tenant_code == province,
        BulletinAcknowledgement.bulletin_id.in_(bulletin_ids),
    ))).all()
    return {r.bulletin_id: r for r in rows}


async def get_bulletin(*, session: AsyncSession, caller: Caller,
                       bulletin_id: str) -> tuple[Bulletin, BulletinAcknowledgement | None]:
    row = await _get(session, bulletin_id)
    return row, (await _acknowledgements(session, caller, [row.id])).get(row.id)


async def list_bulletins(*, session: AsyncSession, caller: Caller, after: tuple[str, str] | None,
                         limit: int) -> list[tuple[Bulletin, BulletinAcknowledgement | None]]:
    """Newest first, keyset on (publish_time, id)."""
    query = select(Bulletin)
    query = newest_first(query, Bulletin.publish_time, Bulletin.id, after, limit)
    rows = list((await session.scalars(query)).all())
    acks = await _acknowledgements(session, caller, [r.id for r in rows])
    return [(r, acks.get(r.id)) for r in rows]


async def acknowledge_bulletin(*, session: AsyncSession, caller: Caller,
                               bulletin_id: str) -> tuple[Bulletin, BulletinAcknowledgement]:
    """Once per province: a repeat returns the stored acknowledgement. A concurrent duplicate
    loses on the primary key at commit (the servicer retries, and then finds it)."""
    province = province_of(caller.tenant)
    if not province or caller.tenant != province:
        raise PermissionDenied("only a province's own operator acknowledges bulletins for it",
                               reason="NOT_A_PROVINCE")
    row = await _get(session, bulletin_id)
    existing = await session.get(BulletinAcknowledgement, (bulletin_id, province))
    if existing is None:
        existing = BulletinAcknowledgement(bulletin_id=bulletin_id, tenant_code=province,
                                           acknowledge_time=datetime.now(UTC), acknowledged_by=caller.subject)
        session.add(existing)
        await session.flush()
    return row, existing


async def unacknowledged(*, session: AsyncSession, bulletin_id: str
                         ) -> tuple[Bulletin, list[str], list[BulletinAcknowledgement]]:
    """The provinces of ``PROVINCES`` without an acknowledgement, and the acknowledgements."""
    row = await _get(session, bulletin_id)
    acks = list((await session.scalars(select(BulletinAcknowledgement).where(
        BulletinAcknowledgement.bulletin_id == bulletin_id,
    ).order_by(BulletinAcknowledgement.tenant_code))).all())
    done = {a.tenant_code for a in acks}
    return row, [p for p in PROVINCES if p not in done], acks
