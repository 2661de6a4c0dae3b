"""Small validators shared by the assessment domain modules (field-naming errors, SPEC NF-3)."""

from __future__ import annotations

import re
from datetime import date

from services.common.errors import FieldViolation, InvalidArgument

ORGANISATION_NAME = re.compile(r"^organisations/[A-Za-z0-9_-]{1,64}$")
REGION_CODE = re.compile(r"^[1-9][0-9](?:[0-9]{2}|00)00$|^[1-9][0-9]{5}$")
MAX_FEN = 10**15  # 10 trillion yuan: anything larger is a typo


def parse_date(value: str, field: str, violations: list[FieldViolation]) -> date | None:
    try:
        if len(value or "") != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        violations.append(FieldViolation(field, "must be a date YYYY-MM-DD"))
        return None


def text(value: str, field: str, violations: list[FieldViolation], *, maximum: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        violations.append(FieldViolation(field, "is required"))
    elif len(value) > maximum:
        violations.append(FieldViolation(field, f"must be at most {maximum} characters"))
    return value


def fen(value: int, field: str, violations: list[FieldViolation], *, positive: bool = True) -> int:
    if positive and value <= 0:
        violations.append(FieldViolation(field, "must be a positive amount in fen"))
    elif value < 0:
        violations.append(FieldViolation(field, "must not be negative"))
    elif value > MAX_FEN:
        violations.append(FieldViolation(field, "is implausibly large"))
    return value


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def raise_if(violations: list[FieldViolation]) -> None:
    if violations:
        raise InvalidArgument(violations)


def province_of(code: str) -> str:
    return code[:2] + "0000"
