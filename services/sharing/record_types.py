"""The SH-1 record types besides accidents: their fields, validation and descriptors
(``records.RecordType``); publishing, correcting, voiding and reading are the generic functions
of services/sharing/records.py. Domain only: no gRPC here.

Decisions:
- disease_cases are counted, never described: no person, citizen ID or diagnosis text field.
  ``category`` is the statutory catalogue (职业病分类和目录, 2013) as lower_snake labels, with
  pneumoconiosis apart from the other respiratory diseases of its group.
- recognitions: ``accident`` optionally names the accident the recognition stems from
  (``accidents/{id}``); only its form is checked, as the accident may be published later or by
  another department.
- hazard_reports: ``category`` is the GB/T 13861-2022 top level (human, material, environment,
  management); ``level`` general or major (重大事故隐患).
- measurements: ``exceedance`` = value > limit_value, computed here on every publish and
  correction; a publisher never sends it. It is a data field like any other (grantable).
- Dates are CST calendar days and never in the future.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from services.common.errors import FieldViolation, InvalidArgument
from services.common.validators import validate_industry_code
from services.sharing.models import DiseaseCase, HazardReport, Measurement, Recognition
from services.sharing.records import (
    ACCIDENTS,
    MAX_COUNT,
    MAX_DESCRIPTION,
    ORGANISATION_NAME,
    PUBLISHER_RECORD_ID,
    RecordType,
    parse_date,
    today_cst,
)

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
MAX_DISABILITY_GRADE = 10
MAX_UNIT = 16
MAX_MEASURED = 1e12

DISEASE_CASE_FIELDS = ("publisher_record_id", "diagnosed_at", "employer", "industry_code", "category", "persons")
RECOGNITION_FIELDS = ("publisher_record_id", "injured_at", "recognised_at", "employer", "industry_code",
                      "disability_grade", "fatal", "accident")
HAZARD_REPORT_FIELDS = ("publisher_record_id", "reported_at", "employer", "industry_code", "level", "category",
                        "description")
MEASUREMENT_FIELDS = ("publisher_record_id", "measured_at", "employer", "industry_code", "factor", "value", "unit",
                      "limit_value", "exceedance")
_ACCIDENT_REFERENCE = r"^accidents/[0-9a-f]{32}$"


class _Checker:
    """Collects every violation of one record (NF-3), fields named ``{prefix}.{field}``."""

    def __init__(self, data: dict, prefix: str):
        self.data, self.prefix = data, prefix
        self.values: dict = {}
        self.violations: list[FieldViolation] = []

    def fail(self, field: str, reason: str) -> None:
        self.violations.append(FieldViolation(f"{self.prefix}.{field}", reason))

    def run(self, field: str, action: Callable[[], object]) -> None:
        try:
            self.values[field] = action()
        except InvalidArgument as error:
            self.violations.extend(FieldViolation(f"{self.prefix}.{v.field}", v.description)
                                   for v in error.violations)

    def record_id(self, required: bool) -> None:
        if required:
            value = self.data.get("publisher_record_id") or ""
            if not PUBLISHER_RECORD_ID.match(value):
                self.fail("publisher_record_id", "is required: 1-64 characters, letters, digits and . _ : / - "
                                                 "(starting with a letter or digit)")
            self.values["publisher_record_id"] = value

    def past_date(self, field: str) -> None:
        def check():
            day = parse_date(str(self.data.get(field) or ""), field)
            if day > today_cst():
                raise InvalidArgument.field(field, "must not be in the future (China Standard Time)")
            return day
        self.run(field, check)

    def employer_and_industry(self) -> None:
        employer = self.data.get("employer") or ""
        if not ORGANISATION_NAME.match(employer):
            self.fail("employer", "must be organisations/{id}")
        self.values["employer"] = employer
        self.run("industry_code", lambda: validate_industry_code(self.data.get("industry_code") or "",
                                                                 "industry_code"))

    def choice(self, field: str, allowed: tuple[str, ...], what: str = "") -> None:
        value = self.data.get(field) or ""
        if value not in allowed:
            self.fail(field, f"must be {what or 'one of'} {', '.join(allowed)}")
        self.values[field] = value

    def integer(self, field: str, low: int, high: int) -> None:
        value = self.data.get(field)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(field, f"must be a whole number between {low} and {high}")
        self.values[field] = value

    def number(self, field: str, *, positive: bool) -> None:
        value = self.data.get(field)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or value < 0 or (positive and value == 0) or value > MAX_MEASURED:
            low = "above 0" if positive else "of at least 0"
            self.fail(field, f"must be a number {low} and at most {MAX_MEASURED:g}")
        self.values[field] = float(value) if ok else value

    def text(self, field: str, limit: int, *, required: bool = False) -> None:
        value = self.data.get(field) or ""
        if required and not value.strip():
            self.fail(field, "is required")
        elif len(value) > limit:
            self.fail(field, f"must be at most {limit} characters")
        self.values[field] = value.strip() if required else value

    def result(self) -> dict:
        if self.violations:
            raise InvalidArgument(self.violations)
        return self.values


def validate_disease_case(data: dict, prefix: str = "disease_case", require_record_id: bool = True) -> dict:
    check = _Checker(data, prefix)
    check.record_id(require_record_id)
    check.past_date("diagnosed_at")
    check.employer_and_industry()
    check.choice("category", DISEASE_CATEGORIES, "a statutory occupational-disease category:")
    check.integer("persons", 1, MAX_COUNT)
    return check.result()


def validate_recognition(data: dict, prefix: str = "recognition", require_record_id: bool = True) -> dict:
    check = _Checker(data, prefix)
    check.record_id(require_record_id)
    check.past_date("injured_at")
    check.past_date("recognised_at")
    injured, recognised = check.values.get("injured_at"), check.values.get("recognised_at")
    if injured and recognised and recognised < injured:
        check.fail("recognised_at", "must not be before injured_at")
    check.employer_and_industry()
    check.integer("disability_grade", 0, MAX_DISABILITY_GRADE)
    fatal = data.get("fatal", False)
    if not isinstance(fatal, bool):
        check.fail("fatal", "must be true or false")
    check.values["fatal"] = fatal
    accident = data.get("accident") or ""
    if accident and not re.match(_ACCIDENT_REFERENCE, accident):
        check.fail("accident", "must be empty or accidents/{id}")
    check.values["accident"] = accident
    return check.result()


def validate_hazard_report(data: dict, prefix: str = "hazard_report", require_record_id: bool = True) -> dict:
    check = _Checker(data, prefix)
    check.record_id(require_record_id)
    check.past_date("reported_at")
    check.employer_and_industry()
    check.choice("level", HAZARD_LEVELS)
    check.choice("category", HAZARD_CATEGORIES, "a GB/T 13861-2022 category:")
    check.text("description", MAX_DESCRIPTION, required=True)
    return check.result()


def validate_measurement(data: dict, prefix: str = "measurement", require_record_id: bool = True) -> dict:
    check = _Checker(data, prefix)
    check.record_id(require_record_id)
    check.past_date("measured_at")
    check.employer_and_industry()
    check.choice("factor", MEASUREMENT_FACTORS)
    check.number("value", positive=False)
    check.number("limit_value", positive=True)
    check.text("unit", MAX_UNIT, required=True)
    values = check.result()
    values["exceedance"] = values["value"] > values["limit_value"]
    return values


def _inputs(fields: tuple[str, ...], computed: tuple[str, ...] = ()) -> tuple[str, ...]:
    return tuple(f for f in fields if f != "publisher_record_id" and f not in computed)


DISEASE_CASES = RecordType(
    name="disease_cases", singular="disease_case", label="disease case", model=DiseaseCase,
    fields=DISEASE_CASE_FIELDS, inputs=_inputs(DISEASE_CASE_FIELDS), validate=validate_disease_case,
    date_field="diagnosed_at", filter_prefix="diagnosed", enum_filter="category", enum_values=DISEASE_CATEGORIES,
)
RECOGNITIONS = RecordType(
    name="recognitions", singular="recognition", label="recognition", model=Recognition,
    fields=RECOGNITION_FIELDS, inputs=_inputs(RECOGNITION_FIELDS), validate=validate_recognition,
    date_field="injured_at", filter_prefix="injured", enum_filter="", enum_values=(),
)
HAZARD_REPORTS = RecordType(
    name="hazard_reports", singular="hazard_report", label="hazard report", model=HazardReport,
    fields=HAZARD_REPORT_FIELDS, inputs=_inputs(HAZARD_REPORT_FIELDS), validate=validate_hazard_report,
    date_field="reported_at", filter_prefix="reported", enum_filter="level", enum_values=HAZARD_LEVELS,
)
MEASUREMENTS = RecordType(
    name="measurements", singular="measurement", label="measurement", model=Measurement,
    fields=MEASUREMENT_FIELDS, inputs=_inputs(MEASUREMENT_FIELDS, ("exceedance",)), validate=validate_measurement,
    date_field="measured_at", filter_prefix="measured", enum_filter="factor", enum_values=MEASUREMENT_FACTORS,
)

RECORD_TYPES: dict[str, RecordType] = {
    kind.name: kind for kind in (ACCIDENTS, DISEASE_CASES, RECOGNITIONS, HAZARD_REPORTS, MEASUREMENTS)
}
# What a sharing agreement may grant, per record type.
RECORD_FIELDS: dict[str, tuple[str, ...]] = {name: kind.fields for name, kind in RECORD_TYPES.items()}
