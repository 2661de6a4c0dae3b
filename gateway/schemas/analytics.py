"""Exposure data and analytics (SPEC SH-8, 7.7). Exposure rows are per GB/T 4754 division
(e.g. C26) and year; the tenant is the caller's (from its token). Analytics are read-only and
served from rollups: rates are null where the denominator is unknown or zero."""

from __future__ import annotations

from datetime import UTC, datetime

from prevention.sharing.v1 import sharing_pb2
from pydantic import BaseModel, Field

from gateway.schemas.common import Strict

DIVISION = r"^[A-T][0-9]{2}$"


class ExposureIn(Strict):
    industry_code: str = Field(max_length=3, json_schema_extra={"pattern": DIVISION},
                               description="GB/T 4754-2017 division, e.g. C26")
    year: int = Field(ge=2000, le=2100)
    insured_persons: int = Field(ge=0, le=1_000_000_000)
    hours_worked: int | None = Field(default=None, ge=0, le=10**13, description="Where known")

    def to_proto(self) -> sharing_pb2.Exposure:
        message = sharing_pb2.Exposure(industry_code=self.industry_code, year=self.year,
                                       insured_persons=self.insured_persons)
        if self.hours_worked is not None:
            message.hours_worked = self.hours_worked
        return message


class ExposureBatch(Strict):
    exposures: list[ExposureIn] = Field(min_length=1, max_length=1000)


class Exposure(BaseModel):
    tenant_code: str
    industry_code: str
    year: int
    insured_persons: int
    hours_worked: int | None
    update_time: datetime

    @classmethod
    def from_proto(cls, m: sharing_pb2.Exposure) -> Exposure:
        return cls(tenant_code=m.tenant_code, industry_code=m.industry_code, year=m.year,
                   insured_persons=m.insured_persons,
                   hours_worked=m.hours_worked if m.HasField("hours_worked") else None,
                   update_time=m.update_time.ToDatetime(tzinfo=UTC))


class ExposureList(BaseModel):
    exposures: list[Exposure]
    next_page_token: str = ""


def _optional(message, name: str):
    return getattr(message, name) if message.HasField(name) else None


class Figures(BaseModel):
    injured_persons: int
    accidents: int
    fatalities: int
    accident_persons_injured: int
    disease_cases: int
    pneumoconiosis_cases: int
    insured_persons: int
    hours_worked: int | None
    incidence_per_100k_insured: float | None
    incidence_per_200k_hours: float | None
    disease_incidence_per_100k_insured: float | None

    @classmethod
    def from_proto(cls, m: sharing_pb2.IncidenceFigures) -> Figures:
        return cls(injured_persons=m.injured_persons, accidents=m.accidents, fatalities=m.fatalities,
                   accident_persons_injured=m.accident_persons_injured, disease_cases=m.disease_cases,
                   pneumoconiosis_cases=m.pneumoconiosis_cases, insured_persons=m.insured_persons,
                   **{n: _optional(m, n) for n in ("hours_worked", "incidence_per_100k_insured",
                                                   "incidence_per_200k_hours", "disease_incidence_per_100k_insured")})


class IncidenceRow(BaseModel):
    tenant_code: str
    industry_code: str
    key_industry: bool
    figures: Figures
    baseline: Figures | None
    change_vs_baseline_pct: float | None


class KeyIndustryIncidence(BaseModel):
    tenant_code: str
    figures: Figures
    baseline: Figures
    change_vs_baseline_pct: float | None
    target_change_pct: float | None
    target_met: bool | None


class RiskRank(BaseModel):
    key: str = Field(description="A tenant code (regions) or a GB/T 4754 division (industries)")
    rank: int
    incidence_per_100k_insured: float
    injured_persons: int
    insured_persons: int


class Incidence(BaseModel):
    year: int
    plan: str = Field(description="The plan whose period holds the year, e.g. 2021-2025; empty: none")
    baseline_year: int | None
    rows: list[IncidenceRow]
    key_industries: list[KeyIndustryIncidence]
    region_ranking: list[RiskRank]
    industry_ranking: list[RiskRank]

    @classmethod
    def from_proto(cls, m: sharing_pb2.GetIncidenceAnalyticsResponse) -> Incidence:
        def rank(r) -> RiskRank:
            return RiskRank(key=r.key, rank=r.rank, incidence_per_100k_insured=r.incidence_per_100k_insured,
                            injured_persons=r.injured_persons, insured_persons=r.insured_persons)

        return cls(
            year=m.year, plan=m.plan, baseline_year=m.baseline_year or None,
            rows=[IncidenceRow(tenant_code=r.tenant_code, industry_code=r.industry_code, key_industry=r.key_industry,
                               figures=Figures.from_proto(r.figures),
                               baseline=Figures.from_proto(r.baseline) if r.HasField("baseline") else None,
                               change_vs_baseline_pct=_optional(r, "change_vs_baseline_pct")) for r in m.rows],
            key_industries=[KeyIndustryIncidence(
                tenant_code=k.tenant_code, figures=Figures.from_proto(k.figures),
                baseline=Figures.from_proto(k.baseline),
                change_vs_baseline_pct=_optional(k, "change_vs_baseline_pct"),
                target_change_pct=_optional(k, "target_change_pct"), target_met=_optional(k, "target_met"))
                for k in m.key_industries],
            region_ranking=[rank(r) for r in m.region_ranking],
            industry_ranking=[rank(r) for r in m.industry_ranking],
        )


class ExposureImportError(BaseModel):
    row: int = Field(description="1 = the first data row; 0 = the file or its header")
    field: str
    description: str


class ExposureImportReport(BaseModel):
    rows: int = Field(description="Data rows read (blank rows are skipped)")
    upserted: int = Field(description="Rows written: all of them, or 0")
    errors: list[ExposureImportError] = Field(description="Every bad field of every bad row; "
                                                           "non-empty means nothing was written")

    @classmethod
    def from_proto(cls, m: sharing_pb2.ImportExposureResponse) -> ExposureImportReport:
        return cls(rows=m.rows, upserted=m.upserted,
                   errors=[ExposureImportError(row=e.row, field=e.field, description=e.description) for e in m.errors])
