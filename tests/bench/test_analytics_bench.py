"""Analytics query latency (SPEC SH-8) on 5,000,000 accident rows (times BENCH_SCALE; CI 0.01 ->
50,000), printed as a ratio to a full-scan GROUP BY of the same rows in the same run. No timing
assertion (SPEC NF-5).

How the data is loaded: the accident rows are bulk-inserted straight into ``accidents`` of a
fresh, migrated sharing database (32 provinces x 40 divisions x 2020-2025), and the rollups are
built from the same rows by the applier the change hook uses (``analytics.apply_changes``, in
bulk: one synthetic change id per row, so its inbox is filled too), plus one exposure row per
bucket. Then ``analytics.incidence`` (what GetIncidenceAnalytics serves: the year and its
baseline year, every province and division, rates, key-industry summaries and rankings) is timed
against the GROUP BY a per-request computation would need (tenant x division x year over the
accidents of the same two years), after checking both give the same counts."""

from __future__ import annotations

import os
import random
import time
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import String, and_, cast, func, insert, or_, select

from services.common.context import Caller
from services.common.db import Database
from services.sharing import analytics
from services.sharing.models import Accident, Exposure

FULL_ROWS = 5_000_000
CHUNK = 10_000
PROVINCES = [f"{p}0000" for p in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45,
                                   46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 66)]
DIVISIONS = [f"C{d}" for d in range(25, 45)] + [f"E{d}" for d in range(47, 51)] + [f"G{d}" for d in range(53, 59)] \
    + [f"B{d:02d}" for d in range(6, 12)] + ["H61", "H62", "K70", "F51"]
YEARS = list(range(2020, 2026))
MINISTRY = Caller(subject="bench", tenant="100000", roles=frozenset({"ministry_operator"}))


def rows() -> int:
    return max(1000, int(FULL_ROWS * float(os.environ.get("BENCH_SCALE", "1"))))


def accident_rows(n: int, rng: random.Random):
    now = datetime.now(UTC)
    for i in range(n):
        fatal = rng.random() < 0.02
        yield {"id": uuid.UUID(int=rng.getrandbits(128)).hex, "tenant_code": rng.choice(PROVINCES),
               "publisher_record_id": f"bench-{i}", "publisher_organisation": "", "create_hash": "0" * 64,
               "version": 1, "status": "active", "occurred_at": date(rng.choice(YEARS), rng.randint(1, 12), 1),
               "employer": "organisations/bench", "industry_code": rng.choice(DIVISIONS) + "10",
               "severity": "fatal" if fatal else "serious", "accident_type": "machinery_injury",
               "persons_injured": rng.randint(0, 3), "fatalities": 1 if fatal else 0, "days_lost": 10,
               "description": "", "void_reason": "", "create_time": now, "update_time": now,
               "created_by": "bench", "updated_by": "bench"}


async def load(database: Database, n: int) -> None:
    rng = random.Random(20251)
    batch: list[dict] = []
    change_id = 0

    async def flush() -> None:
        nonlocal change_id
        async with database.session() as session:
            await session.execute(insert(Accident.__table__), batch)
            changes = []
            for row in batch:
                change_id += 1
                snapshot = {**row, "occurred_at": row["occurred_at"].isoformat()}
                changes.append(analytics.Change(change_id, "accidents", None, snapshot))
            await analytics.apply_changes(session, changes)
            await session.commit()
        batch.clear()

    for row in accident_rows(n, rng):
        batch.append(row)
        if len(batch) == CHUNK:
            await flush()
    if batch:
        await flush()
    async with database.session() as session:
        now = datetime.now(UTC)
        await session.execute(insert(Exposure.__table__), [
            {"tenant_code": t, "industry_code": d, "year": y, "insured_persons": rng.randint(10_000, 1_000_000),
             "hours_worked": None, "update_time": now, "updated_by": "bench"}
            for t in PROVINCES for d in DIVISIONS for y in YEARS])
        await session.commit()


def scan_query(year: int, baseline: int):
    year_text = func.substr(cast(Accident.occurred_at, String), 1, 4)
    division = func.substr(Accident.industry_code, 1, 3)
    in_year = or_(*(and_(Accident.occurred_at >= date(y, 1, 1), Accident.occurred_at <= date(y, 12, 31))
                    for y in (year, baseline)))
    return (select(Accident.tenant_code, division, year_text, func.count(), func.sum(Accident.fatalities),
                   func.sum(Accident.persons_injured))
            .where(Accident.status == "active", in_year).group_by(Accident.tenant_code, division, year_text))


async def timed(repeats: int, work) -> tuple[float, object]:
    result = None
    started = time.perf_counter()
    for _ in range(repeats):
        result = await work()
    return (time.perf_counter() - started) / repeats, result


@pytest.mark.bench
@pytest.mark.db
async def test_analytics_query_against_a_full_scan(db_factory):
    n = rows()
    database = Database(await db_factory.prepared("sharing"))
    try:
        loaded = time.perf_counter()
        await load(database, n)
        loaded = time.perf_counter() - loaded

        async def served():
            async with database.session() as session:
                return await analytics.incidence(session=session, caller=MINISTRY, year=2025)

        async def scanned():
            async with database.session() as session:
                return (await session.execute(scan_query(2025, 2020))).all()

        await served()  # warm-up
        await scanned()
        scan_time, scan = await timed(3, scanned)
        served_time, result = await timed(3, served)
    finally:
        await database.dispose()
    expected = {(t, d): (c, f, p) for t, d, y, c, f, p in scan if y == "2025"}
    got = {(r.tenant_code, r.industry_code): (r.figures.accidents, r.figures.fatalities,
                                              r.figures.accident_persons_injured)
           for r in result.rows if r.figures.accidents}  # buckets with exposure but no accident: not in a scan
    assert got == expected
    print(f"\nanalytics: {n} accident rows loaded in {loaded:.1f}s; incidence query {served_time * 1000:.1f} ms, "
          f"full-scan GROUP BY {scan_time * 1000:.1f} ms; ratio served/scan = {served_time / scan_time:.3f}")
