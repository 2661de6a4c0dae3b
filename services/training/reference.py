"""Training-side reference data (SPEC 7.7, TR-2, TR-5): the key positions, the national five key
industries by GB/T 4754-2017 division, and the coverage targets of the action plans.

The plan targets are a copy of services/assessment/reference.py's ``key_position_training_coverage``
rows (a service never imports another's modules); keep the two in step when a plan changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


def is_blank(value: str) -> bool:
    """Nothing but whitespace in Python's sense (str.strip), as the REST contract's not-blank
    pattern states it (gateway.schemas.common.NOT_BLANK); what is kept is stored stripped."""
    return not value.strip()


KEY_POSITIONS = ("deputy_head_in_charge", "head_of_safety_management", "front_line_team_leader")

# key industry -> (section letter, first division, last division), SPEC 7.7.
KEY_INDUSTRIES: dict[str, tuple[str, int, int]] = {
    "hazardous_chemicals": ("C", 25, 26),
    "mining": ("B", 6, 12),
    "construction": ("E", 47, 50),
    "transportation": ("G", 53, 58),
    "machinery_manufacturing": ("C", 33, 38),
}


def key_industry_of(industry_code: str) -> str:
    """The key industry a GB/T 4754 code (e.g. ``C2611`` or ``E47``) belongs to, or ""."""
    code = (industry_code or "").strip().upper()
    if len(code) < 3 or not code[1:3].isdigit():
        return ""
    division = int(code[1:3])
    for name, (section, first, last) in KEY_INDUSTRIES.items():
        if code[0] == section and first <= division <= last:
            return name
    return ""


@dataclass(frozen=True)
class CoveragePlan:
    plan_id: str
    start: date
    target: Decimal
    due_date: date


# Which plan is active follows the date (SPEC 7.7); the 2026-2030 target is a seeded assumption.
COVERAGE_PLANS = (
    CoveragePlan("2021-2025", date(2021, 1, 1), Decimal("1.00"), date(2025, 12, 31)),
    CoveragePlan("2026-2030", date(2026, 1, 1), Decimal("1.00"), date(2030, 12, 31)),
)


def plan_for(day: date) -> CoveragePlan:
    active = [p for p in COVERAGE_PLANS if p.start <= day]
    return active[-1] if active else COVERAGE_PLANS[0]
