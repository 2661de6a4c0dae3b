from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from prevention.training.v1 import training_pb2
from pydantic import BaseModel, Field

from gateway.schemas.common import NOT_BLANK, PHONE, Strict
from services.common.enums import EnumLabels

ContentCategory = Literal["policy_regulation", "accident_prevention", "warning_education"]
_CATEGORIES = EnumLabels(training_pb2.ContentCategory)
_TO_PROTO, _FROM_PROTO = _CATEGORIES.to_proto, _CATEGORIES.from_proto


# Rules the training service enforces (its violations name `course.<field>`), documented here so
# that the contract tells clients what is valid; the gateway does not check them a second time.
_TITLE_PATTERN = NOT_BLANK


class CourseCreate(Strict):
    title: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": _TITLE_PATTERN},
                       description="Not blank")
    description: str = Field(default="", max_length=10_000)
    content_category: ContentCategory
    contact_phone: str = Field(default="", max_length=32, json_schema_extra={"pattern": PHONE},
                               description="Personal data; masked for other tenants")

    def to_proto(self) -> training_pb2.Course:
        return training_pb2.Course(title=self.title, description=self.description,
                                   content_category=_TO_PROTO[self.content_category],
                                   contact_phone=self.contact_phone)


class Course(BaseModel):
    id: str
    tenant_code: str
    title: str
    description: str
    content_category: ContentCategory
    contact_phone: str
    create_time: datetime

    @classmethod
    def from_proto(cls, m: training_pb2.Course) -> Course:
        return cls(id=m.name.removeprefix("courses/"), tenant_code=m.tenant_code, title=m.title,
                   description=m.description, content_category=_FROM_PROTO[m.content_category],
                   contact_phone=m.contact_phone, create_time=m.create_time.ToDatetime(tzinfo=UTC))


class CourseList(BaseModel):
    courses: list[Course]
    next_page_token: str
