"""Premium-rate floating engine (SPEC AS-6, 7.7): pure functions, no database, no gRPC.

An employer's rate floats around its industry risk class's base rate, decided over a 3-year cycle
by a versioned rule set per pooling region. The default rule set is SPEC AS-6's payout-to-
contribution ratio (支缴率 = benefits paid / premiums paid over the cycle):

    ratio <= 120 % and no new injury in the cycle  -> 80 % of base  (down)
    ratio <= 120 % with an injury                   -> base
    120 % < ratio <= 300 %                          -> 120 % of base
    ratio > 300 %                                   -> 150 % of base

and the edge cases, checked in this order (the first that applies decides):
    less than 1 year of history (months insured < 12)  -> base ("less than 1 year of history")
    no premium paid in the cycle                         -> base ("no premium history")
    fewer than 3 years of history                        -> the years available are the cycle
    a fatal accident in the cycle                        -> never below base
    risk class 1                                         -> never below base

Every result lists the factors that decided it. All arithmetic is Decimal; amounts are fen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from services.common.errors import FieldViolation, InvalidArgument

# SPEC AS-6: industry risk classes 1-8, base rate as a share of payroll.
BASE_RATES: dict[int, Decimal] = {
    1: Decimal("0.002"), 2: Decimal("0.004"), 3: Decimal("0.007"), 4: Decimal("0.009"),
    5: Decimal("0.011"), 6: Decimal("0.013"), 7: Decimal("0.016"), 8: Decimal("0.019"),
}
CYCLE_YEARS = 3
HAZARD_LEVELS = ("low", "medium", "high")
ONE = Decimal(1)

# The SPEC default rule set; a region's versions override these parameters.
DEFAULT_RULES: dict[str, str] = {
    "down_ratio_max": "1.20",     # ratio at or below which the rate may float down
    "down_multiplier": "0.80",
    "up1_ratio_max": "3.00",      # above down_ratio_max and at or below this: first step up
    "up1_multiplier": "1.20",
    "up2_multiplier": "1.50",     # above up1_ratio_max
    "high_hazard_blocks_down": "false",  # optional stricter rule: a high hazard level never floats down
}
_MULTIPLIER_RANGE = (Decimal("0.50"), Decimal("1.50"))


@dataclass(frozen=True)
class YearInput:
    year: int
    risk_class: int
    premiums_paid_fen: int
    benefits_paid_fen: int
    injuries: int
    fatal_accidents: int
    hazard_level: str = "low"
    months_insured: int = 12


@dataclass(frozen=True)
class RateResult:
    tier: str
    multiplier: Decimal
    base_rate: Decimal
    rate: Decimal
    risk_class: int
    payout_ratio: Decimal | None
    factors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rules:
    down_ratio_max: Decimal
    down_multiplier: Decimal
    up1_ratio_max: Decimal
    up1_multiplier: Decimal
    up2_multiplier: Decimal
    high_hazard_blocks_down: bool

    @classmethod
    def parse(cls, params: dict[str, str], prefix: str = "rule_set.parameters") -> Rules:
        merged = {**DEFAULT_RULES, **params}
        violations: list[FieldViolation] = []
        unknown = sorted(set(params) - set(DEFAULT_RULES))
        if unknown:
            violations.append(FieldViolation(prefix, f"unknown parameters: {', '.join(unknown)}"))
        values: dict = {}
        for key, raw in merged.items():
            if key == "high_hazard_blocks_down":
                if raw not in ("true", "false"):
                    violations.append(FieldViolation(f"{prefix}.{key}", "must be true or false"))
                values[key] = raw == "true"
                continue
            try:
                number = Decimal(raw)
                if not number.is_finite():
                    raise InvalidOperation
            except (InvalidOperation, TypeError):
                violations.append(FieldViolation(f"{prefix}.{key}", "must be a decimal number"))
                continue
            values[key] = number
            if key.endswith("multiplier") and not _MULTIPLIER_RANGE[0] <= number <= _MULTIPLIER_RANGE[1]:
                violations.append(FieldViolation(f"{prefix}.{key}", "must be between 0.50 and 1.50 (SPEC AS-6)"))
            if key.endswith("ratio_max") and number <= 0:
                violations.append(FieldViolation(f"{prefix}.{key}", "must be positive"))
        if not violations:
            if values["down_ratio_max"] >= values["up1_ratio_max"]:
                violations.append(FieldViolation(f"{prefix}.up1_ratio_max", "must be above down_ratio_max"))
            if values["down_multiplier"] > ONE:
                violations.append(FieldViolation(f"{prefix}.down_multiplier", "must be at most 1.00"))
            if not ONE <= values["up1_multiplier"] <= values["up2_multiplier"]:
                violations.append(FieldViolation(f"{prefix}.up1_multiplier",
                                                 "must be at least 1.00 and at most up2_multiplier"))
        if violations:
            raise InvalidArgument(violations)
        return cls(**values)


def _tier(multiplier: Decimal) -> str:
    return f"{int(multiplier * 100)}%"


def _result(multiplier: Decimal, risk_class: int, ratio: Decimal | None, factors: list[str]) -> RateResult:
    base = BASE_RATES[risk_class]
    return RateResult(tier=_tier(multiplier), multiplier=multiplier, base_rate=base,
                      rate=(base * multiplier).quantize(Decimal("0.00001")), risk_class=risk_class,
                      payout_ratio=ratio, factors=factors)


def decide(years: list[YearInput], rules: Rules, *, cycle_end: int) -> RateResult:
    """The rate of one employer for the cycle ending ``cycle_end`` (inputs outside it are ignored)."""
    cycle = sorted((y for y in years if cycle_end - CYCLE_YEARS < y.year <= cycle_end), key=lambda y: y.year)
    if not cycle:
        raise ValueError("no input in the cycle")
    risk_class = cycle[-1].risk_class  # the employer's current class
    factors = [f"risk class {risk_class}: base rate {BASE_RATES[risk_class]}"]
    months = sum(y.months_insured for y in cycle)
    if months < 12:
        return _result(ONE, risk_class, None, [*factors, f"less than 1 year of history ({months} months): base"])
    if len(cycle) < CYCLE_YEARS:
        factors.append(f"{len(cycle)} of {CYCLE_YEARS} years of history: cycle {cycle[0].year}-{cycle[-1].year}")
    premiums = sum(y.premiums_paid_fen for y in cycle)
    if premiums <= 0:
        return _result(ONE, risk_class, None, [*factors, "no premium history: base"])
    benefits = sum(y.benefits_paid_fen for y in cycle)
    # Thresholds compare exactly (benefits against premiums x threshold); the ratio is for display.
    ratio = (Decimal(benefits) / Decimal(premiums)).quantize(Decimal("0.000001"))
    above = lambda threshold: Decimal(benefits) > Decimal(premiums) * threshold  # noqa: E731
    injuries = sum(y.injuries for y in cycle)
    fatal = sum(y.fatal_accidents for y in cycle)
    factors.append(f"payout ratio {ratio * 100:.4f}% (benefits {benefits} / premiums {premiums} fen)")
    if above(rules.up1_ratio_max):
        multiplier = rules.up2_multiplier
        factors.append(f"ratio above {rules.up1_ratio_max * 100:.0f}%")
    elif above(rules.down_ratio_max):
        multiplier = rules.up1_multiplier
        factors.append(f"ratio above {rules.down_ratio_max * 100:.0f}% and at most {rules.up1_ratio_max * 100:.0f}%")
    elif injuries:
        multiplier = ONE
        factors.append(f"{injuries} injuries in the cycle with ratio at most {rules.down_ratio_max * 100:.0f}%: base")
    else:
        multiplier = rules.down_multiplier
        factors.append(f"no injury and ratio at most {rules.down_ratio_max * 100:.0f}%")
    if multiplier < ONE:
        blockers = []
        if fatal:
            blockers.append(f"{fatal} fatal accidents in the cycle block a downward float")
        if risk_class == 1:
            blockers.append("risk class 1 never floats below base")
        if rules.high_hazard_blocks_down and any(y.hazard_level == "high" for y in cycle):
            blockers.append("high occupational-hazard level blocks a downward float")
        if blockers:
            multiplier = ONE
            factors.extend(blockers)
    return _result(multiplier, risk_class, ratio, factors)
