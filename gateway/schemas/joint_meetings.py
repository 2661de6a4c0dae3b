"""Joint meetings (SPEC SH-6): participants, minutes and resolutions as action items."""

from __future__ import annotations

from datetime import UTC, date, datetime

from prevention.sharing.v1 import sharing_pb2
from pydantic import BaseModel, Field

from gateway.schemas.common import NOT_BLANK, Strict
from gateway.schemas.sharing import DATE, ORGANISATION

ORGANISATION_FIELD = {"max_length": 128, "json_schema_extra": {"pattern": ORGANISATION}}


def _date(description: str):
    return Field(min_length=10, max_length=10, json_schema_extra={"pattern": DATE, "format": "date"},
                 description=description)


class ActionItemIn(Strict):
    description: str = Field(min_length=1, max_length=2000, json_schema_extra={"pattern": NOT_BLANK})
    owner: str = Field(**ORGANISATION_FIELD, description="The responsible department, organisations/{id}")
    due_date: str = _date("YYYY-MM-DD (CST)")

    def to_proto(self) -> sharing_pb2.ActionItem:
        return sharing_pb2.ActionItem(description=self.description, owner=self.owner, due_date=self.due_date)


class JointMeetingMinutes(Strict):
    minutes: str = Field(default="", max_length=20_000)
    action_items: list[ActionItemIn] = Field(default_factory=list, max_length=100,
                                             description="The resolutions; replace the previous ones")


class JointMeetingCreate(JointMeetingMinutes):
    title: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": NOT_BLANK})
    meeting_date: str = _date("YYYY-MM-DD (CST)")
    location: str = Field(default="", max_length=200)
    participants: list[str] = Field(min_length=1, max_length=50,
                                    description="Participating departments, organisations/{id}",
                                    json_schema_extra={"items": {"type": "string", "maxLength": 128,
                                                                 "pattern": ORGANISATION}})

    def to_proto(self) -> sharing_pb2.JointMeeting:
        return sharing_pb2.JointMeeting(
            title=self.title, meeting_date=self.meeting_date, location=self.location,
            participants=list(self.participants), minutes=self.minutes,
            action_items=[item.to_proto() for item in self.action_items],
        )


class ActionItem(BaseModel):
    description: str
    owner: str
    due_date: date


class JointMeeting(BaseModel):
    id: str
    tenant_code: str
    title: str
    meeting_date: date
    location: str
    participants: list[str]
    minutes: str
    action_items: list[ActionItem]
    create_time: datetime
    update_time: datetime

    @classmethod
    def from_proto(cls, m: sharing_pb2.JointMeeting) -> JointMeeting:
        return cls(id=m.name.removeprefix("jointMeetings/"), tenant_code=m.tenant_code, title=m.title,
                   meeting_date=date.fromisoformat(m.meeting_date), location=m.location,
                   participants=list(m.participants), minutes=m.minutes,
                   action_items=[ActionItem(description=a.description, owner=a.owner,
                                            due_date=date.fromisoformat(a.due_date)) for a in m.action_items],
                   create_time=m.create_time.ToDatetime(tzinfo=UTC), update_time=m.update_time.ToDatetime(tzinfo=UTC))


class JointMeetingList(BaseModel):
    joint_meetings: list[JointMeeting]
    next_page_token: str
