"""Request bodies of the assessment routes (projects, budget, experts, rates, filings,
scorecards, records). Field names are the proto's, so ``to_proto`` is a direct mapping; responses
are the proto messages in the proto3 JSON mapping with the proto's field names (int64 amounts in
fen are strings there, as proto3 JSON prescribes)."""

from __future__ import annotations

from typing import Literal

from google.protobuf import json_format
from pydantic import Field, field_validator

from gateway.schemas.common import NOT_BLANK as NOT_BLANK_TEXT
from gateway.schemas.common import Strict

DATE = {"min_length": 10, "max_length": 10, "json_schema_extra": {"pattern": r"^\d{4}-\d{2}-\d{2}$", "format": "date"}}
DECIMAL = {"max_length": 24, "json_schema_extra": {"pattern": r"^-?\d+(\.\d+)?$"}}
REGION = {"min_length": 6, "max_length": 6, "json_schema_extra": {"pattern": r"^[1-9]\d{5}$"}}
ORG = {"max_length": 128, "json_schema_extra": {"pattern": r"^organisations/[A-Za-z0-9_-]{1,64}$"}}
OBJECT = {"max_length": 256}
# The service strips text and refuses what is then empty; the schema says so (RELIABILITY S15).
NOT_BLANK = {"json_schema_extra": {"pattern": NOT_BLANK_TEXT}}
# Enumerations the service checks (services/assessment/*.py): the contract names the values.
DocumentKind = Literal["application_form", "feasibility_report", "implementation_plan", "cost_estimate",
                       "qualification"]
Specialty = Literal["work_injury_prevention", "work_safety", "occupational_health"]
Indicator = Literal["key_industry_incidence_change", "rectification_closure_rate", "training_coverage",
                    "on_time_filing_rate", "project_acceptance_rate"]
Action = Literal["start_review", "withdraw", "reject", "approve", "start", "record_check", "request_acceptance",
                 "terminate", "pass_acceptance", "fail_acceptance"]


class ProtoBody(Strict):
    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_numbers(cls, value, info):
        """`false` is not the amount 0 nor "2025" a year (pydantic's lax mode coerces both; a JSON
        number such as 2025.0 stays a valid integer). Found by schemathesis (RELIABILITY S15)."""
        if cls.model_fields[info.field_name].annotation in (int, "int") and isinstance(value, bool | str):
            raise ValueError("must be a JSON number")
        return value

    def to_proto(self, message):
        return json_format.ParseDict(self.model_dump(exclude_none=True), message)


class DocumentUploadIn(ProtoBody):
    kind: Literal["guideline", "template_form", "project_document"] = Field(
        description="guideline or template_form (a call's), project_document (an application's)")
    content_type: Literal["application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          "image/png", "image/jpeg"]


class ProjectCallIn(ProtoBody):
    title: str = Field(min_length=1, max_length=200, **NOT_BLANK)
    year: int = Field(ge=2000, le=2100)
    guideline_object: str = Field(**OBJECT, description="<tenant>/assessment/guideline/<id>, uploaded first "
                                                         "(POST /v1/document-uploads)")
    template_form_object: str = Field(**OBJECT, description="<tenant>/assessment/template_form/<id>, uploaded first")
    closes_on: str = Field(**DATE)


class DocumentIn(ProtoBody):
    kind: DocumentKind
    object_key: str = Field(**OBJECT, description="<tenant>/assessment/project_document/<id>, uploaded first "
                                                   "(POST /v1/document-uploads)")


class MilestoneIn(ProtoBody):
    title: str = Field(min_length=1, max_length=200, **NOT_BLANK)
    due_date: str = Field(**DATE)


class ProjectIn(ProtoBody):
    call: str = Field(max_length=64, description="projectCalls/{id}",
                      json_schema_extra={"pattern": r"^projectCalls/[0-9a-f]{32}$"})
    title: str = Field(min_length=1, max_length=200, **NOT_BLANK)
    beneficiary_employer: str = Field(default="", max_length=128, description="organisations/{id}",
                                      json_schema_extra={"pattern": r"^(organisations/[A-Za-z0-9_-]{1,64})?$"})
    pooling_region: str = Field(default="", max_length=6, description="a pooling region of the caller's province "
                                "(default: the province)", json_schema_extra={"pattern": r"^([1-9]\d{5})?$"})
    category: Literal["publicity", "training", "other"]
    requested_budget_fen: int = Field(ge=1, le=10**15)
    planned_start: str = Field(**DATE)
    planned_end: str = Field(**DATE)
    documents: list[DocumentIn] = Field(max_length=20)
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=50)


class ApprovalIn(ProtoBody):
    budget_fen: int = Field(ge=0, le=10**15)
    start_date: str = Field(**DATE)
    end_date: str = Field(**DATE)


class TransitionIn(ProtoBody):
    action: Action
    reason: str = Field(default="", max_length=2000)
    approval: ApprovalIn | None = None


class DrawIn(ProtoBody):
    count: int = Field(ge=1, le=25)
    specialty: Literal["", Specialty] = ""


class ExpertReviewIn(ProtoBody):
    score: int = Field(ge=0, le=100)
    recommendation: Literal["approve", "reject"]
    opinion: str = Field(min_length=1, max_length=5000, **NOT_BLANK)


class FundIncomeIn(ProtoBody):
    pooling_region: str = Field(max_length=6)
    year: int = Field(ge=0, le=9999)
    premium_income_fen: int = Field(ge=0, le=10**16)


class FundIncomeImport(ProtoBody):
    rows: list[FundIncomeIn] = Field(min_length=1, max_length=1000)


class BudgetSettingsIn(ProtoBody):
    cap_rate: str = Field(max_length=24, description="share of the previous year's premium income, above 0 and at "
                          "most 0.10, e.g. 0.03", json_schema_extra={"pattern": r"^0+\.(0\d*[1-9]\d*|10*)$"})


class ExpertIn(ProtoBody):
    display_name: str = Field(min_length=1, max_length=100, **NOT_BLANK)
    specialties: list[Specialty] = Field(min_length=1, max_length=3)
    region_code: str = Field(**REGION)
    employer: str = Field(**ORG)
    user_subject: str = Field(default="", max_length=128)


class RateInputIn(ProtoBody):
    pooling_region: str = Field(max_length=6)
    employer: str = Field(max_length=18, description="USCC")
    year: int = Field(ge=0, le=9999)
    risk_class: int = Field(ge=0, le=99)
    premiums_paid_fen: int = Field(ge=0, le=10**15)
    benefits_paid_fen: int = Field(ge=0, le=10**15)
    injuries: int = Field(default=0, ge=0, le=10**6)
    fatal_accidents: int = Field(default=0, ge=0, le=10**6)
    hazard_level: Literal["low", "medium", "high"] = "low"
    months_insured: int = Field(default=12, ge=1, le=12)


class RateInputImport(ProtoBody):
    rows: list[RateInputIn] = Field(min_length=1, max_length=10_000)


class RuleSetIn(ProtoBody):
    pooling_region: str = Field(**REGION)
    parameters: dict[str, str] = Field(default_factory=dict, max_length=20)


class RateRunIn(ProtoBody):
    pooling_region: str = Field(**REGION)
    cycle_end_year: int = Field(ge=1992, le=2100)
    max_batches: int = Field(default=0, ge=0, le=10**6)
    batch_size: int = Field(default=0, ge=0, le=10_000)


class ResumeIn(ProtoBody):
    max_batches: int = Field(default=0, ge=0, le=10**6)
    batch_size: int = Field(default=0, ge=0, le=10_000)


class FilingIn(ProtoBody):
    kind: Literal["implementation_plan", "annual_report"]
    year: int = Field(default=0, ge=0, le=2100)
    document_object: str = Field(**OBJECT, description="<tenant>/assessment/filing/<id>")
    summary: str = Field(default="", max_length=10_000)


class FilingReviewIn(ProtoBody):
    decision: Literal["acknowledge", "return"]
    reason: str = Field(default="", max_length=2000)


class IndicatorConfigIn(ProtoBody):
    indicator: Indicator
    floor: str = Field(**DECIMAL)
    target: str = Field(**DECIMAL)
    weight: str = Field(**DECIMAL)


class ScorecardConfigIn(ProtoBody):
    indicators: list[IndicatorConfigIn] = Field(min_length=1, max_length=10)


class GoodPracticeCaseIn(ProtoBody):
    title: str = Field(min_length=1, max_length=200, **NOT_BLANK)
    summary: str = Field(min_length=1, max_length=20_000, **NOT_BLANK)
    industry_code: str = Field(default="", max_length=8, description="GB/T 4754-2017 code such as C26",
                               json_schema_extra={"pattern": r"^([A-T]([0-9]{2,4})?)?$"})
    year: int = Field(ge=2000, le=2100)


class RewardPenaltyIn(ProtoBody):
    organisation: str = Field(**ORG)
    kind: Literal["reward", "penalty"]
    reason: str = Field(min_length=1, max_length=5000, **NOT_BLANK)
    amount_fen: int = Field(default=0, ge=0, le=10**15)
    decided_on: str = Field(**DATE)
