"""`prevention seed --demo` for sharing: a few hundred SH-1 records across three provinces and
2020-2025, deterministic and idempotent (seeding twice changes nothing)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.common.db import Database
from services.sharing import seed
from services.sharing.demo import demo_records
from services.sharing.models import Accident, DiseaseCase, HazardReport, Measurement, Recognition

pytestmark = pytest.mark.db
MODELS = (Accident, DiseaseCase, Recognition, HazardReport, Measurement)


async def snapshot(database: Database) -> dict:
    result = {}
    async with database.session() as session:
        for model in MODELS:
            rows = (await session.execute(select(model.tenant_code, model.publisher_record_id, model.industry_code,
                                                 model.create_hash))).all()
            result[model.__tablename__] = sorted(tuple(r) for r in rows)
    return result


async def test_demo_seed_is_deterministic_and_idempotent(db_factory):
    assert list(demo_records()) == list(demo_records())  # deterministic
    first = Database(await db_factory.prepared("sharing", seed=False))
    try:
        async with first.session() as session:
            counts = await seed.seed(session, demo=True)
        assert sum(counts[m.__tablename__] for m in MODELS) >= 300
        once = await snapshot(first)
        async with first.session() as session:
            await seed.seed(session, demo=True)
        assert await snapshot(first) == once  # replayed: nothing new, nothing changed

        async with first.session() as session:
            tenants = set((await session.scalars(select(DiseaseCase.tenant_code).distinct())).all())
            years = {d.year for d in (await session.scalars(select(Accident.occurred_at))).all()}
            pneumoconiosis = await session.scalar(select(func.count()).where(
                DiseaseCase.category == "pneumoconiosis"))
        assert tenants == {"110000", "120000", "140000"}
        assert years == set(range(2020, 2026)) and pneumoconiosis > 0
    finally:
        await first.dispose()
