"""Rectification notices (SPEC SH-5) and joint inspections (SH-6). The service validates the
content and names the fields; these models fix the shape and refuse unknown fields."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from prevention.sharing.v1 import rectification_pb2 as pb
from pydantic import BaseModel, Field

from gateway.schemas.common import NOT_BLANK, Strict
from gateway.schemas.sharing import DATE, ORGANISATION
from services.common.enums import EnumLabels

STATE = EnumLabels(pb.RectificationState)
SOURCE_TYPE = EnumLabels(pb.RectificationSourceType)
LAW = EnumLabels(pb.EnforcementLaw)

State = Literal["issued", "responded", "returned", "closed", "escalated"]
SourceType = Literal["hazard_report", "measurement_exceedance", "inspection_finding"]
Law = Literal["work_safety_law", "occupational_disease_prevention_law"]
DATE_FIELD = {"min_length": 10, "max_length": 10, "json_schema_extra": {"pattern": DATE, "format": "date"}}
ORGANISATION_FIELD = {"max_length": 128, "json_schema_extra": {"pattern": ORGANISATION}}
ORGANISATIONS = {"items": {"type": "string", "maxLength": 128, "pattern": ORGANISATION}}
_SEGMENT = r"[a-zA-Z][a-zA-Z0-9]{0,47}/[A-Za-z0-9_-]{1,64}"
SOURCE = rf"^{_SEGMENT}(/{_SEGMENT})?$"
TEXT = {"json_schema_extra": {"pattern": NOT_BLANK}}
ID = r"^[0-9a-f]{32}$"
_FILE_CHAR = r"[^/\\\x00-\x1f\x7f]"
FILE_NAME = rf"^{_FILE_CHAR}*[^/\\\s\x00-\x1f\x7f]{_FILE_CHAR}*$"
# What evidence may be: documents, photographs, video, spreadsheets.
EvidenceType = Literal["application/pdf", "image/png", "image/jpeg", "video/mp4",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]


def _time(ts) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)


class RectificationNoticeCreate(Strict):
    employer: str = Field(description="The employer, organisations/{id}", **ORGANISATION_FIELD)
    source: str = Field(max_length=200, description="What raised it, e.g. hazardReports/{id}",
                        json_schema_extra={"pattern": SOURCE})
    source_type: SourceType
    required_action: str = Field(min_length=1, max_length=5000, **TEXT)
    deadline_date: str = Field(description="YYYY-MM-DD (CST); due at the end of that day", **DATE_FIELD)
    law: Law | None = Field(default=None, description="Default by source type; required for inspection findings")

    def to_proto(self) -> pb.RectificationNotice:
        return pb.RectificationNotice(
            employer=self.employer, source=self.source, source_type=SOURCE_TYPE.to_proto[self.source_type],
            required_action=self.required_action, deadline_date=self.deadline_date,
            law=LAW.to_proto[self.law] if self.law else 0)


class Reason(Strict):
    reason: str = Field(default="", max_length=2000)


class RequiredReason(Strict):
    reason: str = Field(min_length=1, max_length=2000, description="Why the response is returned for rework",
                        **TEXT)


class RectificationResponseIn(Strict):
    response: str = Field(min_length=1, max_length=10_000, **TEXT)
    evidence: list[str] = Field(default_factory=list, max_length=20, description="Evidence ids from the upload step",
                                json_schema_extra={"items": {"type": "string", "pattern": ID}})


class EvidenceUploadIn(Strict):
    file_name: str = Field(min_length=1, max_length=255, description="No slashes or control characters",
                           json_schema_extra={"pattern": FILE_NAME})
    content_type: EvidenceType


class Transition(BaseModel):
    from_state: State | None
    to_state: State
    actor: str
    time: datetime
    reason: str


class Evidence(BaseModel):
    id: str
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str
    attached: bool
    create_time: datetime

    @classmethod
    def from_proto(cls, m: pb.RectificationEvidence) -> Evidence:
        return cls(id=m.name.rsplit("/", 1)[-1], file_name=m.file_name, content_type=m.content_type,
                   size_bytes=m.size_bytes, sha256=m.sha256, attached=m.attached, create_time=_time(m.create_time))


class EvidenceUpload(BaseModel):
    evidence: Evidence
    upload_url: str


class EvidenceDownload(BaseModel):
    evidence: Evidence
    download_url: str


class RectificationNotice(BaseModel):
    id: str
    tenant_code: str
    employer: str
    source: str
    source_type: SourceType
    required_action: str
    deadline_date: date
    due_time: datetime
    law: Law
    state: State
    issuing_organisation: str
    issued_by: str
    response: str
    evidence: list[Evidence]
    transitions: list[Transition]
    enforcement_referral: str
    create_time: datetime
    update_time: datetime

    @classmethod
    def from_proto(cls, m: pb.RectificationNotice) -> RectificationNotice:
        return cls(
            id=m.name.removeprefix("rectificationNotices/"), tenant_code=m.tenant_code, employer=m.employer,
            source=m.source, source_type=SOURCE_TYPE.from_proto[m.source_type], required_action=m.required_action,
            deadline_date=date.fromisoformat(m.deadline_date), due_time=_time(m.due_time),
            law=LAW.from_proto[m.law], state=STATE.from_proto[m.state], issuing_organisation=m.issuing_organisation,
            issued_by=m.issued_by, response=m.response, evidence=[Evidence.from_proto(e) for e in m.evidence],
            transitions=[Transition(from_state=STATE.from_proto.get(t.from_state),
                                    to_state=STATE.from_proto[t.to_state],
                                    actor=t.actor, time=_time(t.time), reason=t.reason) for t in m.transitions],
            enforcement_referral=m.enforcement_referral, create_time=_time(m.create_time),
            update_time=_time(m.update_time))


class RectificationNoticeList(BaseModel):
    rectification_notices: list[RectificationNotice]
    next_page_token: str


# -- joint inspections ---------------------------------------------------------------------------


class FindingIn(Strict):
    id: str = Field(default="", max_length=32, description="Keep an existing finding by repeating its id",
                    json_schema_extra={"pattern": r"^([0-9a-f]{32})?$"})
    employer: str = Field(description="One of the inspected employers, organisations/{id}", **ORGANISATION_FIELD)
    description: str = Field(min_length=1, max_length=5000, **TEXT)
    required_action: str = Field(default="", max_length=5000)
    law: Law | None = None


class JointInspectionIn(Strict):
    title: str = Field(min_length=1, max_length=200, **TEXT)
    inspection_date: str = Field(description="YYYY-MM-DD (CST)", **DATE_FIELD)
    participants: list[str] = Field(min_length=1, max_length=50, description="Participating departments, "
                                    "organisations/{id}", json_schema_extra=ORGANISATIONS)
    employers: list[str] = Field(min_length=1, max_length=200, description="Employers inspected, organisations/{id}",
                                 json_schema_extra=ORGANISATIONS)
    findings: list[FindingIn] = Field(default_factory=list, max_length=200)

    def to_proto(self, inspection_id: str = "") -> pb.JointInspection:
        prefix = f"jointInspections/{inspection_id}"
        return pb.JointInspection(
            name=prefix if inspection_id else "", title=self.title, inspection_date=self.inspection_date,
            participants=list(self.participants), employers=list(self.employers),
            findings=[pb.InspectionFinding(
                name=f"{prefix}/findings/{f.id}" if f.id else "", employer=f.employer, description=f.description,
                required_action=f.required_action, law=LAW.to_proto[f.law] if f.law else 0) for f in self.findings])


class RaiseNoticeIn(Strict):
    deadline_date: str = Field(description="YYYY-MM-DD (CST)", **DATE_FIELD)


class Finding(BaseModel):
    id: str
    employer: str
    description: str
    required_action: str
    law: Law | None
    rectification_notice_id: str | None


class JointInspection(BaseModel):
    id: str
    tenant_code: str
    title: str
    inspection_date: date
    participants: list[str]
    employers: list[str]
    findings: list[Finding]
    create_time: datetime
    update_time: datetime

    @classmethod
    def from_proto(cls, m: pb.JointInspection) -> JointInspection:
        return cls(
            id=m.name.removeprefix("jointInspections/"), tenant_code=m.tenant_code, title=m.title,
            inspection_date=date.fromisoformat(m.inspection_date), participants=list(m.participants),
            employers=list(m.employers),
            findings=[Finding(id=f.name.rsplit("/", 1)[-1], employer=f.employer, description=f.description,
                              required_action=f.required_action, law=LAW.from_proto.get(f.law),
                              rectification_notice_id=f.rectification_notice.removeprefix("rectificationNotices/")
                              or None) for f in m.findings],
            create_time=_time(m.create_time), update_time=_time(m.update_time))


class JointInspectionList(BaseModel):
    joint_inspections: list[JointInspection]
    next_page_token: str


class RectificationClosure(BaseModel):
    tenant_code: str
    due: int = Field(description="notices whose deadline date falls in the year")
    closed: int = Field(description="of those, the ones verified and closed")


class RectificationClosureList(BaseModel):
    year: int
    tenants: list[RectificationClosure]

    @classmethod
    def from_proto(cls, m: pb.GetRectificationClosureResponse) -> RectificationClosureList:
        return cls(year=m.year, tenants=[RectificationClosure(tenant_code=t.tenant_code, due=t.due, closed=t.closed)
                                         for t in m.tenants])
