"""REST schemas of the SH-1 record types besides accidents (services/sharing/record_types.py
enforces the rules; they are stated here so that the contract tells clients what is valid).
Not expressible in JSON Schema, stated in words: dates are not in the future (CST); a GB/T 4754
division belongs to its section; recognised_at is not before injured_at; a measurement's
exceedance is computed by the service (value > limit_value)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import ClassVar, Literal

from prevention.sharing.v1 import sharing_pb2
from pydantic import BaseModel, Field

from gateway.schemas.common import NOT_BLANK, Strict
from gateway.schemas.sharing import INDUSTRY_CODE, MAX_COUNT, MAX_DESCRIPTION, ORGANISATION, RECORD_ID, _date
from services.common.enums import EnumLabels

# The domain's lists, as data (tests/sharing/test_record_types.py checks they match).
DISEASE_CATEGORIES = (
    "pneumoconiosis", "other_respiratory_disease", "skin_disease", "eye_disease", "ent_oral_disease",
    "chemical_poisoning", "physical_factor_disease", "radiation_disease", "infectious_disease",
    "occupational_cancer", "other_occupational_disease",
)
HAZARD_LEVELS = ("general", "major")
HAZARD_CATEGORIES = ("human", "material", "environment", "management")
MEASUREMENT_FACTORS = (
    "silica_dust", "coal_dust", "asbestos", "other_dust", "noise", "benzene", "lead", "manganese",
    "hydrogen_sulfide", "carbon_monoxide", "heat", "radiation", "other",
)
RECORD_TYPES = ("accidents", "disease_cases", "recognitions", "hazard_reports", "measurements")
MAX_DISABILITY_GRADE = 10
MAX_MEASURED = 1e12

DiseaseCategory = Literal[DISEASE_CATEGORIES]  # type: ignore[valid-type]
HazardLevel = Literal[HAZARD_LEVELS]  # type: ignore[valid-type]
HazardCategory = Literal[HAZARD_CATEGORIES]  # type: ignore[valid-type]
MeasurementFactor = Literal[MEASUREMENT_FACTORS]  # type: ignore[valid-type]
RecordStatus = Literal["active", "voided"]
_RECORD_STATUS = EnumLabels(sharing_pb2.RecordStatus)


def _employer():
    return Field(max_length=128, json_schema_extra={"pattern": ORGANISATION}, description="organisations/{id}")


def _industry():
    return Field(max_length=8, json_schema_extra={"pattern": INDUSTRY_CODE},
                 description="GB/T 4754-2017 code; the division belongs to the section")


def _record_id():
    return Field(min_length=1, max_length=64, json_schema_extra={"pattern": RECORD_ID},
                 description="The publisher's own id, unique in its tenant: a retry with the same id and "
                             "content replays; different content is 409")


class _RecordIn(Strict):
    MESSAGE: ClassVar[str] = ""

    def to_proto(self, publisher_record_id: str = ""):
        data = self.model_dump(exclude={"publisher_record_id"})
        return getattr(sharing_pb2, self.MESSAGE)(publisher_record_id=publisher_record_id, **data)


class _RecordOut(BaseModel):
    """A department reading through a sharing agreement receives only the granted data fields
    (listed in `fields`); the others are absent."""

    COLLECTION: ClassVar[str] = ""

    id: str
    tenant_code: str
    version: int
    status: RecordStatus
    publisher_organisation: str
    fields: list[str]
    create_time: datetime
    update_time: datetime
    publisher_record_id: str | None = None
    employer: str | None = None
    industry_code: str | None = None

    @classmethod
    def from_proto(cls, m):
        data = {field: getattr(m, field) for field in m.fields}
        return cls(id=m.name.removeprefix(f"{cls.COLLECTION}/"), tenant_code=m.tenant_code, version=m.version,
                   status=_RECORD_STATUS.from_proto[m.status], publisher_organisation=m.publisher_organisation,
                   fields=list(m.fields), create_time=m.create_time.ToDatetime(tzinfo=UTC),
                   update_time=m.update_time.ToDatetime(tzinfo=UTC), **data)


class RecordVoid(Strict):
    reason: str = Field(default="", max_length=MAX_DESCRIPTION)


# -- disease cases --------------------------------------------------------------------------------


class DiseaseCaseCorrect(_RecordIn):
    """A case is counted, not described: no name, ID number or diagnosis text."""

    MESSAGE: ClassVar[str] = "DiseaseCase"
    diagnosed_at: str = _date("Date of diagnosis (CST); not in the future")
    employer: str = _employer()
    industry_code: str = _industry()
    category: DiseaseCategory = Field(description="Statutory occupational-disease category")
    persons: int = Field(default=1, ge=1, le=MAX_COUNT, description="Persons diagnosed")


class DiseaseCaseCreate(DiseaseCaseCorrect):
    publisher_record_id: str = _record_id()


class DiseaseCase(_RecordOut):
    COLLECTION: ClassVar[str] = "diseaseCases"
    diagnosed_at: date | None = None
    category: str | None = None
    persons: int | None = None


class DiseaseCaseList(BaseModel):
    disease_cases: list[DiseaseCase]
    next_page_token: str


# -- recognitions ---------------------------------------------------------------------------------


class RecognitionCorrect(_RecordIn):
    MESSAGE: ClassVar[str] = "Recognition"
    injured_at: str = _date("Date of the injury (CST); not in the future")
    recognised_at: str = _date("Date of the recognition decision (CST); not before injured_at")
    employer: str = _employer()
    industry_code: str = _industry()
    disability_grade: int = Field(default=0, ge=0, le=MAX_DISABILITY_GRADE, description="0 = none, 1..10")
    fatal: bool = False
    accident: str = Field(default="", max_length=64, json_schema_extra={"pattern": r"^(accidents/[0-9a-f]{32})?$"},
                          description="Optional: the accident, accidents/{id}")


class RecognitionCreate(RecognitionCorrect):
    publisher_record_id: str = _record_id()


class Recognition(_RecordOut):
    COLLECTION: ClassVar[str] = "recognitions"
    injured_at: date | None = None
    recognised_at: date | None = None
    disability_grade: int | None = None
    fatal: bool | None = None
    accident: str | None = None


class RecognitionList(BaseModel):
    recognitions: list[Recognition]
    next_page_token: str


# -- hazard reports -------------------------------------------------------------------------------


class HazardReportCorrect(_RecordIn):
    MESSAGE: ClassVar[str] = "HazardReport"
    reported_at: str = _date("Date reported (CST); not in the future")
    employer: str = _employer()
    industry_code: str = _industry()
    level: HazardLevel
    category: HazardCategory = Field(description="GB/T 13861-2022 top level")
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION, json_schema_extra={"pattern": NOT_BLANK})


class HazardReportCreate(HazardReportCorrect):
    publisher_record_id: str = _record_id()


class HazardReport(_RecordOut):
    COLLECTION: ClassVar[str] = "hazardReports"
    reported_at: date | None = None
    level: str | None = None
    category: str | None = None
    description: str | None = None


class HazardReportList(BaseModel):
    hazard_reports: list[HazardReport]
    next_page_token: str


# -- measurements ---------------------------------------------------------------------------------


class MeasurementCorrect(_RecordIn):
    MESSAGE: ClassVar[str] = "Measurement"
    measured_at: str = _date("Date measured (CST); not in the future")
    employer: str = _employer()
    industry_code: str = _industry()
    factor: MeasurementFactor
    value: float = Field(ge=0, le=MAX_MEASURED)
    unit: str = Field(min_length=1, max_length=16, json_schema_extra={"pattern": NOT_BLANK},
                      description="e.g. mg/m3, dB(A)")
    limit_value: float = Field(gt=0, le=MAX_MEASURED, description="The exposure limit that applies")


class MeasurementCreate(MeasurementCorrect):
    publisher_record_id: str = _record_id()


class Measurement(_RecordOut):
    COLLECTION: ClassVar[str] = "measurements"
    measured_at: date | None = None
    factor: str | None = None
    value: float | None = None
    unit: str | None = None
    limit_value: float | None = None
    exceedance: bool | None = Field(default=None, description="value > limit_value (computed)")


class MeasurementList(BaseModel):
    measurements: list[Measurement]
    next_page_token: str


# -- import ---------------------------------------------------------------------------------------


class ImportViolation(BaseModel):
    field: str = Field(description="The column")
    description: str


class ImportRowResult(BaseModel):
    row: int = Field(description="1 = the first row after the header")
    publisher_record_id: str
    outcome: Literal["created", "replayed", "failed"]
    id: str | None = Field(default=None, description="The record's id unless the row failed")
    error_reason: str | None = None
    error_message: str | None = None
    violations: list[ImportViolation] = []


class ImportResult(BaseModel):
    """Every row is published on its own (idempotent by publisher_record_id): importing the same
    file again replays every row and changes nothing."""

    results: list[ImportRowResult]
    created_count: int
    replayed_count: int
    failed_count: int

    @classmethod
    def from_proto(cls, m: sharing_pb2.ImportRecordsResponse) -> ImportResult:
        outcomes = {sharing_pb2.PUBLISH_OUTCOME_CREATED: "created", sharing_pb2.PUBLISH_OUTCOME_REPLAYED: "replayed",
                    sharing_pb2.PUBLISH_OUTCOME_FAILED: "failed"}
        results = []
        for r in m.results:
            results.append(ImportRowResult(
                row=r.row, publisher_record_id=r.publisher_record_id, outcome=outcomes[r.outcome],
                id=r.name.rsplit("/", 1)[-1] if r.name else None, error_reason=r.error_reason or None,
                error_message=r.error_message or None,
                violations=[ImportViolation(field=v.field, description=v.description) for v in r.violations]))
        return cls(results=results, created_count=m.created_count, replayed_count=m.replayed_count,
                   failed_count=m.failed_count)
