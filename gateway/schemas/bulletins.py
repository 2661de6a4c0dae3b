"""Bulletins (SPEC SH-7): typical accidents the ministry circulates nationally. Rules the sharing
service enforces (services/sharing/bulletins.py), stated here so the contract tells clients what
is valid. In words: occurred_at is not in the future (CST); a GB/T 4754 division belongs to its
section; severity `fatal` exactly when fatalities >= 1. A bulletin holds no personal data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from prevention.sharing.v1 import sharing_pb2
from pydantic import BaseModel, Field

from gateway.schemas.common import NOT_BLANK, Strict
from gateway.schemas.sharing import COUNT, DATE, INDUSTRY_CODE, AccidentType, Severity
from services.common.enums import EnumLabels

_SEVERITY = EnumLabels(sharing_pb2.AccidentSeverity)
# The 32 provincial-level units of work-injury insurance (GB/T 2260; 660000 = the XPCC).
PROVINCE_CODES = (
    "110000", "120000", "130000", "140000", "150000", "210000", "220000", "230000",
    "310000", "320000", "330000", "340000", "350000", "360000", "370000", "410000",
    "420000", "430000", "440000", "450000", "460000", "500000", "510000", "520000",
    "530000", "540000", "610000", "620000", "630000", "640000", "650000", "660000",
)
RegionCode = Literal[("", *PROVINCE_CODES)]  # type: ignore[valid-type]


class BulletinCreate(Strict):
    title: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": NOT_BLANK})
    body: str = Field(min_length=1, max_length=10_000, json_schema_extra={"pattern": NOT_BLANK},
                      description="Lessons and the measures provinces are asked to take; no personal data")
    occurred_at: str = Field(min_length=10, max_length=10, json_schema_extra={"pattern": DATE, "format": "date"},
                             description="Date of the accident (China Standard Time); not in the future")
    region_code: RegionCode = Field(default="", description="Province where it occurred; "
                                                                            "empty = not stated")
    industry_code: str = Field(max_length=8, json_schema_extra={"pattern": INDUSTRY_CODE},
                               description="GB/T 4754-2017 code; the division belongs to the section")
    accident_type: AccidentType = Field(description="GB 6441-1986 category")
    severity: Severity
    fatalities: int = Field(default=0, **COUNT, description="At least 1 exactly when severity is fatal")
    persons_injured: int = Field(default=0, **COUNT)

    def to_proto(self) -> sharing_pb2.Bulletin:
        return sharing_pb2.Bulletin(
            title=self.title, body=self.body, occurred_at=self.occurred_at, region_code=self.region_code,
            industry_code=self.industry_code, accident_type=self.accident_type,
            severity=_SEVERITY.to_proto[self.severity], fatalities=self.fatalities,
            persons_injured=self.persons_injured,
        )


class Bulletin(BaseModel):
    id: str
    title: str
    body: str
    occurred_at: date
    region_code: str
    industry_code: str
    accident_type: str
    severity: Severity
    fatalities: int
    persons_injured: int
    publish_time: datetime
    acknowledged: bool = Field(description="Whether the caller's province has acknowledged it "
                                           "(always false for the ministry)")
    acknowledge_time: datetime | None = None

    @classmethod
    def from_proto(cls, m: sharing_pb2.Bulletin) -> Bulletin:
        return cls(id=m.name.removeprefix("bulletins/"), title=m.title, body=m.body,
                   occurred_at=date.fromisoformat(m.occurred_at), region_code=m.region_code,
                   industry_code=m.industry_code, accident_type=m.accident_type,
                   severity=_SEVERITY.from_proto[m.severity], fatalities=m.fatalities,
                   persons_injured=m.persons_injured, publish_time=m.publish_time.ToDatetime(tzinfo=UTC),
                   acknowledged=m.acknowledged,
                   acknowledge_time=m.acknowledge_time.ToDatetime(tzinfo=UTC) if m.acknowledged else None)


class BulletinList(BaseModel):
    bulletins: list[Bulletin]
    next_page_token: str


class BulletinAcknowledgement(BaseModel):
    province_code: str
    acknowledge_time: datetime
    acknowledged_by: str


class UnacknowledgedProvinces(BaseModel):
    bulletin_id: str
    province_codes: list[str] = Field(description="GB/T 2260 codes of the provinces that have not "
                                                  "acknowledged, ascending")
    acknowledgements: list[BulletinAcknowledgement]

    @classmethod
    def from_proto(cls, m: sharing_pb2.ListUnacknowledgedResponse) -> UnacknowledgedProvinces:
        return cls(bulletin_id=m.name.removeprefix("bulletins/"), province_codes=list(m.province_codes),
                   acknowledgements=[BulletinAcknowledgement(
                       province_code=a.province_code, acknowledge_time=a.acknowledge_time.ToDatetime(tzinfo=UTC),
                       acknowledged_by=a.acknowledged_by) for a in m.acknowledgements])
