"""Demo records for `prevention seed --demo` (embedded mode): a few hundred records of every SH-1
type in three provinces, the key industries and the years 2020-2025, enough for charts.

Deterministic (a seeded random generator) and published through the ordinary idempotent path
(records.create_record, with deterministic publisher_record_ids), so seeding twice changes
nothing, and the change hook (feed, analytics rollups) and the exchange log see them like any
other publish. Employers are synthetic ``organisations/demo-...`` names; no personal data."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import PROVINCIAL_OPERATOR, Caller
from services.sharing import record_types, records

SEED = 20260101
# Beijing, Tianjin, Shanxi (coal): the demo users' provinces plus a mining province.
PROVINCES = ("110000", "120000", "140000")
YEARS = range(2020, 2026)
# Key-industry codes (GB/T 4754-2017) with a weight per province: Shanxi mines, the others build.
INDUSTRIES = {
    "110000": (("E4710", 5), ("E4790", 3), ("G5411", 3), ("C3411", 2), ("C2614", 1)),
    "120000": (("C2511", 3), ("C2614", 3), ("G5531", 3), ("E4720", 3), ("C3311", 2)),
    "140000": (("B0610", 8), ("B0620", 3), ("B0810", 2), ("C2520", 2), ("E4720", 1)),
}
PER_PROVINCE = {"accidents": 40, "disease_cases": 30, "recognitions": 25, "hazard_reports": 20, "measurements": 25}
_LIMITS = {"silica_dust": ("mg/m3", 1.0), "coal_dust": ("mg/m3", 4.0), "asbestos": ("f/ml", 0.8),
           "noise": ("dB(A)", 85.0), "benzene": ("mg/m3", 6.0), "lead": ("mg/m3", 0.05),
           "manganese": ("mg/m3", 0.15), "hydrogen_sulfide": ("mg/m3", 10.0), "carbon_monoxide": ("mg/m3", 20.0),
           "heat": ("WBGT C", 30.0)}


def _day(rng: random.Random, year: int) -> date:
    return date(year, 1, 1) + timedelta(days=rng.randrange(365))


def _industry(rng: random.Random, tenant: str) -> str:
    codes, weights = zip(*INDUSTRIES[tenant], strict=True)
    return rng.choices(codes, weights=weights)[0]


def _employer(rng: random.Random, tenant: str) -> str:
    return f"organisations/demo-{tenant}-{rng.randrange(1, 25):02d}"


def _accident(rng: random.Random, tenant: str, year: int) -> dict:
    severity = rng.choices(records.SEVERITIES, weights=(6, 3, 1))[0]
    fatalities = rng.randint(1, 3) if severity == "fatal" else 0
    return {"occurred_at": _day(rng, year).isoformat(), "employer": _employer(rng, tenant),
            "industry_code": _industry(rng, tenant), "severity": severity,
            "accident_type": rng.choice(records.ACCIDENT_TYPES), "persons_injured": rng.randint(1, 4),
            "fatalities": fatalities, "days_lost": rng.randint(0, 120), "description": "demo record"}


def _disease_case(rng: random.Random, tenant: str, year: int) -> dict:
    mining = tenant == "140000"
    category = rng.choices(record_types.DISEASE_CATEGORIES,
                           weights=(8 if mining else 3, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1))[0]
    return {"diagnosed_at": _day(rng, year).isoformat(), "employer": _employer(rng, tenant),
            "industry_code": _industry(rng, tenant), "category": category, "persons": rng.randint(1, 5)}


def _recognition(rng: random.Random, tenant: str, year: int) -> dict:
    injured = _day(rng, year)
    fatal = rng.random() < 0.08
    return {"injured_at": injured.isoformat(), "recognised_at": (injured + timedelta(days=rng.randint(20, 90)))
            .isoformat(), "employer": _employer(rng, tenant), "industry_code": _industry(rng, tenant),
            "disability_grade": 0 if fatal else rng.choice((0, 0, 10, 9, 8, 7, 6, 5)), "fatal": fatal, "accident": ""}


def _hazard_report(rng: random.Random, tenant: str, year: int) -> dict:
    return {"reported_at": _day(rng, year).isoformat(), "employer": _employer(rng, tenant),
            "industry_code": _industry(rng, tenant), "level": rng.choices(record_types.HAZARD_LEVELS, (5, 1))[0],
            "category": rng.choice(record_types.HAZARD_CATEGORIES), "description": "demo hazard report"}


def _measurement(rng: random.Random, tenant: str, year: int) -> dict:
    factor = rng.choice(("coal_dust", "silica_dust", "noise")) if tenant == "140000" else rng.choice(tuple(_LIMITS))
    unit, limit = _LIMITS[factor]
    return {"measured_at": _day(rng, year).isoformat(), "employer": _employer(rng, tenant),
            "industry_code": _industry(rng, tenant), "factor": factor, "unit": unit, "limit_value": limit,
            "value": round(limit * rng.uniform(0.3, 1.6), 3)}


MAKERS = {"accidents": _accident, "disease_cases": _disease_case, "recognitions": _recognition,
          "hazard_reports": _hazard_report, "measurements": _measurement}


def demo_records():
    """(tenant, record type, raw data) of every demo record, always the same."""
    rng = random.Random(SEED)
    for tenant in PROVINCES:
        for name, make in MAKERS.items():
            for n in range(PER_PROVINCE[name]):
                data = make(rng, tenant, YEARS[n % len(YEARS)])
                data["publisher_record_id"] = f"demo-{name}-{tenant}-{n:03d}"
                yield tenant, name, data


async def seed_demo(session: AsyncSession) -> dict[str, int]:
    """Publishes the demo records (replays what is already there); counts per record type."""
    counts = dict.fromkeys(MAKERS, 0)
    batches: dict[tuple[str, str], list[dict]] = {}
    for tenant, name, data in demo_records():
        batches.setdefault((tenant, name), []).append(data)
    for (tenant, name), items in batches.items():  # one batch per province and record type
        caller = Caller(subject="demo-seed", tenant=tenant, roles=frozenset({PROVINCIAL_OPERATOR}))
        outcomes = await records.create_records_batch(session=session, caller=caller,
                                                      kind=record_types.RECORD_TYPES[name], items=items)
        failed = [outcome.error for outcome in outcomes if outcome.error is not None]
        if failed:
            raise failed[0]
        counts[name] += len(items)
    await session.commit()
    return counts
