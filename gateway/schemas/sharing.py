from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from prevention.sharing.v1 import sharing_pb2
from pydantic import BaseModel, Field

from gateway.schemas.common import NOT_BLANK, Strict
from services.common.enums import EnumLabels
from services.common.validators import INDUSTRY_SECTIONS

# The domain's lists, as data (plain tuples: importing them pulls in no service code paths).
ACCIDENT_TYPES = (
    "object_strike", "vehicle_injury", "machinery_injury", "lifting_injury", "electric_shock",
    "drowning", "burn_scald", "fire", "fall_from_height", "collapse", "roof_fall", "water_inrush",
    "blasting", "gas_explosion", "explosive_explosion", "boiler_explosion", "vessel_explosion",
    "other_explosion", "poisoning_asphyxiation", "other_injury",
)
ACCIDENT_FIELDS = (
    "publisher_record_id", "occurred_at", "employer", "industry_code", "severity", "accident_type",
    "persons_injured", "fatalities", "days_lost", "description",
)
MAX_COUNT = 100_000
MAX_DESCRIPTION = 10_000
# What a sharing agreement may grant, per record type (services/sharing/record_types.py).
RECORD_FIELDS = {
    "accidents": ACCIDENT_FIELDS,
    "disease_cases": ("publisher_record_id", "diagnosed_at", "employer", "industry_code", "category", "persons"),
    "recognitions": ("publisher_record_id", "injured_at", "recognised_at", "employer", "industry_code",
                     "disability_grade", "fatal", "accident"),
    "hazard_reports": ("publisher_record_id", "reported_at", "employer", "industry_code", "level", "category",
                       "description"),
    "measurements": ("publisher_record_id", "measured_at", "employer", "industry_code", "factor", "value", "unit",
                     "limit_value", "exceedance"),
}


class KeyIndustry(BaseModel):
    code: str
    display_name: str
    display_name_en: str
    divisions: list[str]
    tenant_code: str

    @classmethod
    def from_proto(cls, m: sharing_pb2.KeyIndustry) -> KeyIndustry:
        return cls(code=m.code, display_name=m.display_name, display_name_en=m.display_name_en,
                   divisions=list(m.divisions), tenant_code=m.tenant_code)


# Every GB/T 4754-2017 division, each within its section (what the sharing service accepts).
DIVISION = "^(" + "|".join(f"{section}{d:02d}" for section, (low, high) in INDUSTRY_SECTIONS.items()
                           for d in range(low, high + 1)) + ")$"


class KeyIndustryCreate(Strict):
    """A local key industry of the caller's tenant (the national five are seed data)."""

    code: str = Field(max_length=64, json_schema_extra={"pattern": r"^[a-z][a-z0-9_]{1,63}$"},
                      description="Stable id within the tenant; the same content again replays")
    display_name: str = Field(max_length=64, json_schema_extra={"pattern": NOT_BLANK})
    display_name_en: str = Field(default="", max_length=128)
    divisions: list[Annotated[str, Field(max_length=3, json_schema_extra={"pattern": DIVISION})]] = Field(
        min_length=1, max_length=30, json_schema_extra={"uniqueItems": True},
        description="GB/T 4754-2017 divisions (a section letter and 2 digits, e.g. N76); each belongs to its section")

    def to_proto(self) -> sharing_pb2.KeyIndustry:
        return sharing_pb2.KeyIndustry(code=self.code, display_name=self.display_name,
                                       display_name_en=self.display_name_en, divisions=self.divisions)


class KeyIndustryList(BaseModel):
    key_industries: list[KeyIndustry]
    next_page_token: str


# -- accidents (SH-1) and sharing agreements (SH-2) ----------------------------------------------
# Rules the sharing service enforces (services/sharing/records.py, agreements.py), stated here so
# that the contract tells clients what is valid; the gateway does not check them a second time.
# Not expressible in JSON Schema, stated in words: occurred_at is not in the future (CST); a GB/T
# 4754 division belongs to its section; severity `fatal` <=> fatalities >= 1; valid_until is not
# before valid_from; granted_fields are fields of the record type.

Severity = Literal["minor", "serious", "fatal"]
AccidentType = Literal[ACCIDENT_TYPES]  # type: ignore[valid-type]
RecordStatus = Literal["active", "voided"]
AgreementStatus = Literal["active", "suspended", "revoked"]
AccidentField = Literal[ACCIDENT_FIELDS]  # type: ignore[valid-type]
GrantableField = Literal[tuple(sorted({f for fields in RECORD_FIELDS.values() for f in fields}))]  # type: ignore[valid-type]
_SEVERITY = EnumLabels(sharing_pb2.AccidentSeverity)
_RECORD_STATUS = EnumLabels(sharing_pb2.RecordStatus)
_AGREEMENT_STATUS = EnumLabels(sharing_pb2.AgreementStatus)

DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
ORGANISATION = r"^organisations/[A-Za-z0-9_-]{1,64}$"
INDUSTRY_CODE = r"^[A-T][0-9]{2}([0-9]{1,2})?$"
RECORD_ID = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"
COUNT = {"ge": 0, "le": MAX_COUNT}


def _date(description: str, **kw):
    return Field(min_length=10, max_length=10, json_schema_extra={"pattern": DATE, "format": "date"},
                 description=description, **kw)


class AccidentCorrect(Strict):
    occurred_at: str = _date("Date of the accident (China Standard Time); not in the future")
    employer: str = Field(max_length=128, json_schema_extra={"pattern": ORGANISATION},
                          description="organisations/{id}")
    industry_code: str = Field(max_length=8, json_schema_extra={"pattern": INDUSTRY_CODE},
                               description="GB/T 4754-2017 code; the division belongs to the section")
    severity: Severity
    accident_type: AccidentType = Field(description="GB 6441-1986 category")
    persons_injured: int = Field(default=0, **COUNT)
    fatalities: int = Field(default=0, **COUNT, description="At least 1 exactly when severity is fatal")
    days_lost: int = Field(default=0, **COUNT)
    description: str = Field(default="", max_length=MAX_DESCRIPTION)

    def to_proto(self, publisher_record_id: str = "") -> sharing_pb2.Accident:
        return sharing_pb2.Accident(
            publisher_record_id=publisher_record_id, occurred_at=self.occurred_at, employer=self.employer,
            industry_code=self.industry_code, severity=_SEVERITY.to_proto[self.severity],
            accident_type=self.accident_type, persons_injured=self.persons_injured, fatalities=self.fatalities,
            days_lost=self.days_lost, description=self.description,
        )


class AccidentCreate(AccidentCorrect):
    publisher_record_id: str = Field(min_length=1, max_length=64, json_schema_extra={"pattern": RECORD_ID},
                                     description="The publisher's own id, unique in its tenant: a retry with "
                                                 "the same id and content replays; different content is 409")


class AccidentVoid(Strict):
    reason: str = Field(default="", max_length=MAX_DESCRIPTION)


class Accident(BaseModel):
    """A department reading through a sharing agreement receives only the granted data fields
    (listed in `fields`); the others are absent."""

    id: str
    tenant_code: str
    version: int
    status: RecordStatus
    publisher_organisation: str
    fields: list[str]
    create_time: datetime
    update_time: datetime
    publisher_record_id: str | None = None
    occurred_at: date | None = None
    employer: str | None = None
    industry_code: str | None = None
    severity: Severity | None = None
    accident_type: str | None = None
    persons_injured: int | None = None
    fatalities: int | None = None
    days_lost: int | None = None
    description: str | None = None

    @classmethod
    def from_proto(cls, m: sharing_pb2.Accident) -> Accident:
        data: dict = {}
        for field in m.fields:
            value = getattr(m, field)
            if field == "severity":
                value = _SEVERITY.from_proto[value]
            data[field] = value
        return cls(id=m.name.removeprefix("accidents/"), tenant_code=m.tenant_code, version=m.version,
                   status=_RECORD_STATUS.from_proto[m.status], publisher_organisation=m.publisher_organisation,
                   fields=list(m.fields), create_time=m.create_time.ToDatetime(tzinfo=UTC),
                   update_time=m.update_time.ToDatetime(tzinfo=UTC), **data)


class AccidentList(BaseModel):
    accidents: list[Accident]
    next_page_token: str


class SharingAgreementCreate(Strict):
    tenant_code: str = Field(default="", json_schema_extra={"pattern": r"^([0-9]{6})?$"},
                             description="Whose records it covers: empty = the caller's tenant (ministry: "
                                         "every tenant); otherwise a tenant of the caller's subtree")
    provider_organisation: str = Field(max_length=128, json_schema_extra={"pattern": ORGANISATION})
    consumer_organisation: str = Field(max_length=128, json_schema_extra={"pattern": ORGANISATION},
                                       description="Must differ from the provider")
    record_type: Literal["accidents", "disease_cases", "recognitions", "hazard_reports", "measurements"]
    granted_fields: list[GrantableField] = Field(
        min_length=1, max_length=16,
        description="Data fields of the record type: " + "; ".join(
            f"{name}: {', '.join(fields)}" for name, fields in RECORD_FIELDS.items()))
    purpose: str = Field(min_length=1, max_length=2000, json_schema_extra={"pattern": NOT_BLANK})
    legal_basis: str = Field(min_length=1, max_length=2000, json_schema_extra={"pattern": NOT_BLANK})
    valid_from: str = _date("First day of validity (CST)")
    valid_until: str = _date("Last day of validity (CST); not before valid_from")

    def to_proto(self) -> sharing_pb2.SharingAgreement:
        return sharing_pb2.SharingAgreement(
            tenant_code=self.tenant_code, provider_organisation=self.provider_organisation,
            consumer_organisation=self.consumer_organisation, record_type=self.record_type,
            granted_fields=list(self.granted_fields), purpose=self.purpose, legal_basis=self.legal_basis,
            valid_from=self.valid_from, valid_until=self.valid_until,
        )


class SharingAgreement(BaseModel):
    id: str
    tenant_code: str
    provider_organisation: str
    consumer_organisation: str
    record_type: str
    granted_fields: list[str]
    purpose: str
    legal_basis: str
    valid_from: date
    valid_until: date
    status: AgreementStatus
    create_time: datetime
    update_time: datetime

    @classmethod
    def from_proto(cls, m: sharing_pb2.SharingAgreement) -> SharingAgreement:
        return cls(id=m.name.removeprefix("sharingAgreements/"), tenant_code=m.tenant_code,
                   provider_organisation=m.provider_organisation, consumer_organisation=m.consumer_organisation,
                   record_type=m.record_type, granted_fields=list(m.granted_fields), purpose=m.purpose,
                   legal_basis=m.legal_basis, valid_from=date.fromisoformat(m.valid_from),
                   valid_until=date.fromisoformat(m.valid_until), status=_AGREEMENT_STATUS.from_proto[m.status],
                   create_time=m.create_time.ToDatetime(tzinfo=UTC), update_time=m.update_time.ToDatetime(tzinfo=UTC))


class SharingAgreementList(BaseModel):
    sharing_agreements: list[SharingAgreement]
    next_page_token: str
