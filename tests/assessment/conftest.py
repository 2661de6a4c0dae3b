"""An assessment service on a frozen clock (its own database), beside the session platform, for
tests where dates decide: active plan, due dates, overdue filings, reminders, retention."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from services.assessment.servicer import build as assessment_build
from services.common.clock import FrozenClock
from services.common.runner import build_runtime


@dataclass
class ClockedAssessment:
    address: str
    clock: FrozenClock
    database_url: str
    runtime: object


@pytest.fixture(scope="module")
async def clocked(platform, db_factory):
    clock = FrozenClock(datetime(2026, 5, 1, 2, 0, tzinfo=UTC))
    url = await db_factory.prepared("assessment")
    runtime = build_runtime("assessment", functools.partial(assessment_build, clock=clock), settings=platform.settings,
                            database_url=url, addresses=platform.addresses)
    port = await runtime.start("127.0.0.1:0")
    yield ClockedAssessment(address=f"127.0.0.1:{port}", clock=clock, database_url=url, runtime=runtime)
    await runtime.stop(grace=1.0)
