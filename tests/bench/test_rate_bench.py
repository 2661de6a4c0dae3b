"""A premium-rate run (SPEC AS-6) over 1,000,000 employers with 3 years of data (scaled by
BENCH_SCALE), printed as employers/s and as a ratio to one SQL aggregate computing the same payout
ratios in the same run. No timing assertion (SPEC NF-5); the run's results are checked instead."""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from services.assessment import rate_runs
from services.assessment.models_rates import RateInput
from services.common.context import Caller
from services.common.db import Database

FULL_EMPLOYERS = 1_000_000
REGION = "330100"
CHUNK = 20_000


def employers() -> int:
    return max(200, int(FULL_EMPLOYERS * float(os.environ.get("BENCH_SCALE", "1"))))


def rows(n: int):
    rng = random.Random(6)
    for i in range(n):
        employer = f"91{i:016d}"  # stored as imported; the bench skips import validation
        risk_class = rng.randint(1, 8)
        for year in (2023, 2024, 2025):
            yield {"tenant_code": REGION, "employer": employer, "year": year, "risk_class": risk_class,
                   "premiums_paid_fen": rng.randint(0, 10_000_00), "benefits_paid_fen": rng.randint(0, 30_000_00),
                   "injuries": rng.choice((0, 0, 0, 1)), "fatal_accidents": rng.choice((0,) * 30 + (1,)),
                   "hazard_level": "low", "months_insured": 12}


@pytest.mark.bench
async def test_rate_run_throughput_against_sql_aggregate(db_factory):
    n = employers()
    database = Database(await db_factory.prepared("assessment"))
    caller = Caller(subject="bench", tenant="330000", roles=frozenset({"provincial_operator"}))
    try:
        batch: list[dict] = []
        async with database.session() as session:
            for row in rows(n):
                batch.append(row)
                if len(batch) == CHUNK:
                    await session.execute(insert(RateInput.__table__), batch)
                    batch = []
            if batch:
                await session.execute(insert(RateInput.__table__), batch)
            await session.commit()

        started = time.perf_counter()
        async with database.session() as session:
            ratios = (await session.execute(
                select(RateInput.employer,
                       func.sum(RateInput.benefits_paid_fen) * 1.0
                       / func.nullif(func.sum(RateInput.premiums_paid_fen), 0))
                .where(RateInput.tenant_code == REGION, RateInput.year.between(2023, 2025))
                .group_by(RateInput.employer))).all()
        baseline = time.perf_counter() - started
        assert len(ratios) == n

        started = time.perf_counter()
        async with database.session() as session:
            run = await rate_runs.start_run(session=session, caller=caller, region=REGION, cycle_end_year=2025,
                                            now=datetime.now(UTC))
            await session.commit()
        run = await rate_runs.process(sessionmaker=database.sessionmaker, caller=caller, run_id=run.id,
                                      batch_size=rate_runs.MAX_BATCH, max_batches=0, keep_going=lambda: True,
                                      now=lambda: datetime.now(UTC))
        elapsed = time.perf_counter() - started
        assert (run.state, run.processed) == ("completed", n)
    finally:
        await database.dispose()
    print(f"\nrate run: {n} employers x 3 years in {elapsed:.2f}s = {n / elapsed:.0f} employers/s; "
          f"SQL aggregate of the payout ratios {baseline:.2f}s = {n / baseline:.0f} employers/s; "
          f"ratio run/aggregate time = {elapsed / baseline:.1f}")
