"""Organisations and employers (ID-1, ID-2) over REST.

The rules a JSON Schema can state are enforced here too, so the contract tells clients what is
valid; the identity service checks everything again (check character of the USCC, headcounts,
pooling region of the tenant, the fields each type takes) and names the same fields.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from prevention.identity.v1 import identity_pb2
from pydantic import BaseModel, Field

from gateway.schemas.common import PHONE, Strict
from services.common.enums import EnumLabels

OrganisationType = Literal[
    "government_department", "employer", "training_institution", "service_institution", "training_platform",
    "technical_school",
]
DepartmentType = Literal["hrss", "emergency", "health", "union", "industry_regulator", "finance"]

_TYPES = EnumLabels(identity_pb2.OrganisationType)
_DEPARTMENTS = EnumLabels(identity_pb2.DepartmentType)
TYPE_TO_PROTO, _TYPE_FROM_PROTO = _TYPES.to_proto, _TYPES.from_proto
_DEPARTMENT_TO_PROTO, _DEPARTMENT_FROM_PROTO = _DEPARTMENTS.to_proto, _DEPARTMENTS.from_proto

INT32_MAX = 2**31 - 1
# GB 32100-2015: 18 characters of 0-9 and A-Z without I, O, S, V, Z; the 18th is a check character
# (SPEC 5) that the service verifies.
USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{18}$"
# GB/T 4754-2017: a section letter and a division of that section, then optionally group/class digits.
INDUSTRY_CODE_PATTERN = (
    r"^(A0[1-5]|B0[6-9]|B1[0-2]|C1[3-9]|C[23][0-9]|C4[0-3]|D4[4-6]|E4[7-9]|E50|F5[12]|G5[3-9]|G60|H6[12]"
    r"|I6[3-5]|J6[6-9]|K70|L7[12]|M7[3-5]|N7[6-9]|O8[0-2]|P83|Q8[45]|R8[6-9]|R90|S9[1-7]|T98)[0-9]{0,2}$"
)
TENANT_CODE_PATTERN = r"^[0-9]{6}$"
# Text without control characters, not blank.
TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
OPTIONAL_TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"
# A mainland mobile (optionally +86) or a landline with its area code; empty = none.

_PERSONAL = "Personal data: shown masked except to ministry operators and operators of the organisation's tenant"


def _no_default(schema: dict[str, Any]) -> None:
    # An optional PATCH field that may not be null: absent means "unchanged", so the schema shows
    # no default (a `null` default would contradict the field's type).
    schema.pop("default", None)


def _patch_field(**kwargs) -> Any:
    return Field(default=None, json_schema_extra=_no_default, **kwargs)


class EmployerProfileIn(Strict):
    uscc: str = Field(pattern=USCC_PATTERN, description="Unified Social Credit Code (GB 32100-2015)")
    industry_code: str = Field(pattern=INDUSTRY_CODE_PATTERN, description="GB/T 4754-2017 code, e.g. C2611")
    risk_class: int = Field(ge=1, le=8, description="Work-injury industry risk class")
    headcount: int = Field(ge=0, le=INT32_MAX)
    insured_headcount: int = Field(ge=0, le=INT32_MAX, description="At most headcount")
    pooling_region_code: str = Field(
        pattern=TENANT_CODE_PATTERN,
        description="A pooling region of the organisation's province, or the province when it has none",
    )

    def to_proto(self) -> identity_pb2.EmployerProfile:
        return identity_pb2.EmployerProfile(**self.model_dump())


class OrganisationCreate(Strict):
    type: OrganisationType
    display_name: str = Field(max_length=200, pattern=TEXT_PATTERN)
    department_type: DepartmentType | None = Field(default=None, description="Government departments only")
    sector: str | None = Field(default=None, max_length=64, pattern=TEXT_PATTERN,
                               description="Industry regulators only: the sector regulated, e.g. construction")
    employer: EmployerProfileIn | None = Field(default=None, description="Employers only (required for them)")
    contact_name: str = Field(default="", max_length=64, pattern=OPTIONAL_TEXT_PATTERN, description=_PERSONAL)
    contact_phone: str = Field(default="", max_length=20, pattern=PHONE, description=_PERSONAL)
    tenant_code: str | None = Field(
        default=None, pattern=TENANT_CODE_PATTERN,
        description="Ministry operators: the tenant to create it in (default: an employer's province, else "
                    "national). Ignored for everyone else: the tenant comes from the token.",
    )

    def to_proto(self) -> identity_pb2.Organisation:
        message = identity_pb2.Organisation(
            type=TYPE_TO_PROTO[self.type], display_name=self.display_name,
            department_type=_DEPARTMENT_TO_PROTO.get(self.department_type or "", 0), sector=self.sector or "",
            contact_name=self.contact_name, contact_phone=self.contact_phone,
        )
        if self.employer is not None:
            message.employer.CopyFrom(self.employer.to_proto())
        return message


class EmployerProfilePatch(Strict):
    uscc: str = _patch_field(pattern=USCC_PATTERN)
    industry_code: str = _patch_field(pattern=INDUSTRY_CODE_PATTERN)
    risk_class: int = _patch_field(ge=1, le=8)
    headcount: int = _patch_field(ge=0, le=INT32_MAX)
    insured_headcount: int = _patch_field(ge=0, le=INT32_MAX)
    pooling_region_code: str = _patch_field(pattern=TENANT_CODE_PATTERN)


class OrganisationPatch(Strict):
    """Merge-style: the fields present change, absent fields stay. ``sector``, ``contact_name`` and
    ``contact_phone`` may be null (or empty) to clear them."""

    display_name: str = _patch_field(max_length=200, pattern=TEXT_PATTERN)
    department_type: DepartmentType = _patch_field()
    sector: str | None = _patch_field(max_length=64, pattern=OPTIONAL_TEXT_PATTERN)
    employer: EmployerProfilePatch = _patch_field()
    contact_name: str | None = _patch_field(max_length=64, pattern=OPTIONAL_TEXT_PATTERN, description=_PERSONAL)
    contact_phone: str | None = _patch_field(max_length=20, pattern=PHONE, description=_PERSONAL)

    def update_mask(self) -> list[str]:
        mask = [name for name in type(self).model_fields if name in self.model_fields_set and name != "employer"]
        if "employer" in self.model_fields_set and self.employer is not None:
            mask += [f"employer.{name}" for name in type(self.employer).model_fields
                     if name in self.employer.model_fields_set]
        return mask

    def to_proto(self, organisation_id: str) -> identity_pb2.Organisation:
        message = identity_pb2.Organisation(
            name=f"organisations/{organisation_id}", display_name=self.display_name or "",
            department_type=_DEPARTMENT_TO_PROTO.get(self.department_type or "", 0), sector=self.sector or "",
            contact_name=self.contact_name or "", contact_phone=self.contact_phone or "",
        )
        if self.employer is not None:
            values = self.employer.model_dump(exclude_none=True)
            message.employer.CopyFrom(identity_pb2.EmployerProfile(**values))
        return message


class EmployerProfile(BaseModel):
    uscc: str
    industry_code: str
    risk_class: int
    headcount: int
    insured_headcount: int
    pooling_region_code: str


class Organisation(BaseModel):
    id: str
    tenant_code: str
    type: OrganisationType
    display_name: str
    department_type: DepartmentType | None
    sector: str | None
    employer: EmployerProfile | None
    contact_name: str = Field(description=_PERSONAL)
    contact_phone: str = Field(description=_PERSONAL)
    create_time: datetime
    update_time: datetime

    @classmethod
    def from_proto(cls, m: identity_pb2.Organisation) -> Organisation:
        employer = None
        if m.HasField("employer"):
            e = m.employer
            employer = EmployerProfile(uscc=e.uscc, industry_code=e.industry_code, risk_class=e.risk_class,
                                       headcount=e.headcount, insured_headcount=e.insured_headcount,
                                       pooling_region_code=e.pooling_region_code)
        return cls(
            id=m.name.removeprefix("organisations/"), tenant_code=m.tenant_code, type=_TYPE_FROM_PROTO[m.type],
            display_name=m.display_name, department_type=_DEPARTMENT_FROM_PROTO.get(m.department_type),
            sector=m.sector or None, employer=employer, contact_name=m.contact_name,
            contact_phone=m.contact_phone, create_time=m.create_time.ToDatetime(tzinfo=UTC),
            update_time=m.update_time.ToDatetime(tzinfo=UTC),
        )


class OrganisationList(BaseModel):
    organisations: list[Organisation]
    next_page_token: str


class RowError(BaseModel):
    row: int = Field(description="1-based data row; 0 is the header (or the file as a whole)")
    field: str = Field(description="The column (English name), `file` or `row`")
    description: str


class ImportReport(BaseModel):
    rows: int = Field(description="Data rows read (blank rows are skipped)")
    created: int = Field(description="Employers created: all rows, or 0")
    errors: list[RowError] = Field(description="Every bad field of every bad row; non-empty means nothing was written")

    @classmethod
    def from_proto(cls, m: identity_pb2.ImportEmployersResponse) -> ImportReport:
        return cls(rows=m.rows, created=m.created,
                   errors=[RowError(row=e.row, field=e.field, description=e.description) for e in m.errors])


