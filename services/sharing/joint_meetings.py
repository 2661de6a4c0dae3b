"""Joint meetings (SPEC SH-6): meetings of a tenant's departments, their minutes, and the
resolutions as action items with an owner and a due date. Domain functions only.

Decisions:
- A meeting belongs to the caller's tenant; provincial operators and department liaisons of that
  tenant's subtree read and write it (SPEC 7.3 "PO, DL own"); the ministry does not.
- Minutes and action items are replaced as a whole (the meeting's record is edited, not appended to).
- Joint inspections with findings raising rectification notices (the rest of SH-6): inspections.py.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import Caller
from services.common.errors import FieldViolation, InvalidArgument, NotFound
from services.common.tenancy import visible_to
from services.sharing.models import JointMeeting
from services.sharing.records import ORGANISATION_NAME, parse_date

MAX_TITLE = 200
MAX_MINUTES = 20_000
MAX_PARTICIPANTS = 50
MAX_ACTION_ITEMS = 100
MAX_ITEM = 2000
_MEETING_NAME = re.compile(r"^jointMeetings/([0-9a-f]{32})$")


@dataclass(frozen=True)
class ActionItemData:
    description: str
    owner: str
    due_date: str


@dataclass(frozen=True)
class MeetingData:
    title: str
    meeting_date: str
    location: str
    participants: tuple[str, ...]
    minutes: str
    action_items: tuple[ActionItemData, ...]


def parse_meeting_name(name: str) -> str:
    match = _MEETING_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field("name", "must be jointMeetings/{id}")
    return match.group(1)


def _validate_minutes(minutes: str, items: tuple[ActionItemData, ...], prefix: str,
                      violations: list[FieldViolation]) -> tuple[str, list[dict]]:
    if len(minutes) > MAX_MINUTES:
        violations.append(FieldViolation(f"{prefix}minutes", f"must be at most {MAX_MINUTES} characters"))
    if len(items) > MAX_ACTION_ITEMS:
        violations.append(FieldViolation(f"{prefix}action_items", f"must be at most {MAX_ACTION_ITEMS} items"))
    values = []
    for index, item in enumerate(items[:MAX_ACTION_ITEMS]):
        at = f"{prefix}action_items[{index}]"
        if not item.description.strip():
            violations.append(FieldViolation(f"{at}.description", "is required"))
        elif len(item.description) > MAX_ITEM:
            violations.append(FieldViolation(f"{at}.description", f"must be at most {MAX_ITEM} characters"))
        if not ORGANISATION_NAME.match(item.owner or ""):
            violations.append(FieldViolation(f"{at}.owner", "must be organisations/{id}"))
        try:
            due = parse_date(item.due_date, f"{at}.due_date").isoformat()
        except InvalidArgument as error:
            violations.extend(error.violations)
            due = ""
        values.append({"description": item.description.strip(), "owner": item.owner, "due_date": due})
    return minutes.strip(), values


def validate_meeting(data: MeetingData) -> dict:
    prefix = "joint_meeting."
    violations: list[FieldViolation] = []
    values: dict = {}
    if not data.title.strip():
        violations.append(FieldViolation(f"{prefix}title", "is required"))
    elif len(data.title) > MAX_TITLE:
        violations.append(FieldViolation(f"{prefix}title", f"must be at most {MAX_TITLE} characters"))
    values["title"] = data.title.strip()
    try:
        values["meeting_date"] = parse_date(data.meeting_date, f"{prefix}meeting_date")
    except InvalidArgument as error:
        violations.extend(error.violations)
    if len(data.location) > MAX_TITLE:
        violations.append(FieldViolation(f"{prefix}location", f"must be at most {MAX_TITLE} characters"))
    values["location"] = data.location.strip()
    if not data.participants:
        violations.append(FieldViolation(f"{prefix}participants", "must name at least one department"))
    elif len(data.participants) > MAX_PARTICIPANTS:
        violations.append(FieldViolation(f"{prefix}participants", f"must be at most {MAX_PARTICIPANTS}"))
    elif not all(ORGANISATION_NAME.match(p or "") for p in data.participants):
        violations.append(FieldViolation(f"{prefix}participants", "each must be organisations/{id}"))
    values["participants"] = sorted(set(data.participants))
    values["minutes"], values["action_items"] = _validate_minutes(data.minutes, data.action_items, prefix,
                                                                  violations)
    if violations:
        raise InvalidArgument(violations)
    return values


async def create_meeting(*, session: AsyncSession, caller: Caller, data: MeetingData) -> JointMeeting:
    values = validate_meeting(data)
    now = datetime.now(UTC)
    row = JointMeeting(id=uuid.uuid4().hex, tenant_code=caller.tenant, create_time=now, update_time=now,
                       created_by=caller.subject, **values)
    session.add(row)
    await session.flush()
    return row


async def get_meeting(*, session: AsyncSession, caller: Caller, meeting_id: str,
                      for_update: bool = False) -> JointMeeting:
    query = select(JointMeeting).where(JointMeeting.id == meeting_id, visible_to(JointMeeting.tenant_code, caller))
    row = (await session.scalars(query.with_for_update() if for_update else query)).first()
    if row is None:
        raise NotFound(f"joint meeting {meeting_id} not found")
    return row


async def list_meetings(*, session: AsyncSession, caller: Caller, after: tuple[str, str] | None,
                        limit: int) -> list[JointMeeting]:
    """Newest meeting first, keyset on (meeting_date, id)."""
    query = select(JointMeeting).where(visible_to(JointMeeting.tenant_code, caller))
    if after is not None:
        after_date = parse_date(after[0], "page_token")
        query = query.where(tuple_(JointMeeting.meeting_date, JointMeeting.id) < tuple_(after_date, after[1]))
    query = query.order_by(JointMeeting.meeting_date.desc(), JointMeeting.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def record_minutes(*, session: AsyncSession, caller: Caller, meeting_id: str, minutes: str,
                         action_items: tuple[ActionItemData, ...]) -> JointMeeting:
    violations: list[FieldViolation] = []
    text, items = _validate_minutes(minutes, action_items, "", violations)
    if violations:
        raise InvalidArgument(violations)
    row = await get_meeting(session=session, caller=caller, meeting_id=meeting_id, for_update=True)
    row.minutes, row.action_items, row.update_time = text, items, datetime.now(UTC)
    await session.flush()
    return row
