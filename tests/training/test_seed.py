"""`prevention seed --demo` for training (SPEC 7.6): the demo platform is recommended on Beijing's
list with the identity seed's API client, both demo provinces have key personnel enrolled, some
trained; a second run adds nothing."""

from __future__ import annotations

from sqlalchemy import select

from services.common.context import Caller
from services.common.db import Database
from services.training import seed as training_seed
from services.training.core_models import Programme
from services.training.coverage import compute
from services.training.recommended import may_push


async def test_demo_seed_is_usable_and_idempotent(db_factory, settings):
    database = Database(await db_factory.prepared("training"))
    try:
        async with database.session() as session:
            first = await training_seed.seed(session, demo=True, settings=settings)
        async with database.session() as session:
            again = await training_seed.seed(session, demo=True, settings=settings)
            assert await may_push(session, tenant_code="110000", client_id=training_seed.DEMO_CLIENT)
            assert not await may_push(session, tenant_code="120000", client_id=training_seed.DEMO_CLIENT)
            ministry = Caller(subject="seed-test", tenant="100000", roles=frozenset({"ministry_operator"}))
            for tenant in ("110000", "120000"):
                year = (await session.scalars(select(Programme.year))).first()
                coverage = await compute(session=session, caller=ministry, tenant_code=tenant, year=year)
                assert (coverage.total.required, coverage.total.trained) == (6, 4)
    finally:
        await database.dispose()
    assert first == {"platforms": 1, "courses": 2, "trainees": 12}
    assert again == {"platforms": 0, "courses": 0, "trainees": 0}
