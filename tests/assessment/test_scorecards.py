"""Provincial scorecards (SPEC AS-5, 7.7) through the public RPCs against a hand-computed fixture.

The external indicators come through ``IndicatorSource``, the one seam where the sharing and
training values enter; ``FixtureIndicators`` below is an injected source for that seam, not a
mock of a peer service (the gRPC implementation of the seam is written by the integrator). The
own-data indicators (on-time filings, acceptance rate) are computed from this service's data."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from decimal import Decimal

import grpc
import pytest
from prevention.assessment.v1 import assessment_pb2_grpc, filings_pb2, scorecards_pb2

from services.assessment.scorecards import IndicatorValue
from services.assessment.servicer import build as assessment_build
from services.common.clock import FrozenClock
from services.common.runner import build_runtime
from tests.assessment.helpers import Client, code_of

pytestmark = pytest.mark.db
D = Decimal


class FixtureIndicators:
    """Fixed external indicator values per province (the seam's injected implementation)."""

    VALUES = {
        "110000": {"incidence": "-0.05", "coverage": "0.90", "closure": "1.0"},
        "120000": {"incidence": "-0.12", "coverage": "0.40", "closure": "0.75"},
        "130000": {"incidence": "0.02", "coverage": "1.0", "closure": "0.5"},
    }

    def _get(self, tenant: str, key: str) -> IndicatorValue | None:
        value = self.VALUES.get(tenant, {}).get(key)
        return None if value is None else IndicatorValue(D(value), {"source": f"fixture {key}"})

    async def incidence_change(self, *, tenant_code, year, baseline_year):
        assert baseline_year == 2025  # the 2026-2030 plan's baseline
        return self._get(tenant_code, "incidence")

    async def rectification_closure(self, *, tenant_code, year):
        return self._get(tenant_code, "closure")

    async def training_coverage(self, *, tenant_code, year):
        return self._get(tenant_code, "coverage")


CONFIG = [("key_industry_incidence_change", "0", "-0.10", "0.4"), ("training_coverage", "0.5", "1.0", "0.2"),
          ("rectification_closure_rate", "0.5", "1.0", "0.2"), ("on_time_filing_rate", "0", "1", "0.1"),
          ("project_acceptance_rate", "0", "1", "0.1")]

# Hand-computed: score = clamp((value - floor) / (target - floor) * 100, 0, 100); total = Σ weight × score.
# 110000: incidence 50, coverage 80, closure 100, on-time 0/2 = 0, no projects 0 -> 20 + 16 + 20 = 56.00
# 120000: incidence 100 (clamped), coverage 0 (clamped), closure 50, on-time 1/2 = 50 -> 40 + 0 + 10 + 5 = 55.00
# 130000: incidence 0 (rose), coverage 100, closure 0 -> 20.00; everyone else 0.00
EXPECTED = {"110000": ("56.00", 1), "120000": ("55.00", 2), "130000": ("20.00", 3), "140000": ("0.00", 4)}


@pytest.fixture(scope="module")
async def scored(platform, db_factory):
    clock = FrozenClock(datetime(2026, 5, 1, 2, 0, tzinfo=UTC))
    url = await db_factory.prepared("assessment")
    runtime = build_runtime("assessment", functools.partial(assessment_build, clock=clock,
                                                            indicator_source=FixtureIndicators()),
                            settings=platform.settings, database_url=url, addresses=platform.addresses)
    port = await runtime.start("127.0.0.1:0")
    yield f"127.0.0.1:{port}"
    await runtime.stop(grace=1.0)


async def test_scorecards_match_the_hand_computed_fixture(scored, issuer):
    async with grpc.aio.insecure_channel(scored) as channel:
        stub = assessment_pb2_grpc.AssessmentServiceStub(channel)
        mo = Client(stub, issuer.token(tenant="100000", roles=["ministry_operator"]))
        tianjin = Client(stub, issuer.token(tenant="120000", roles=["provincial_operator"]))
        await tianjin.SubmitFiling(filings_pb2.SubmitFilingRequest(filing=filings_pb2.Filing(
            kind="implementation_plan", document_object="120000/assessment/filing/plan")))

        bad = scorecards_pb2.ScorecardConfig(year=2026, indicators=[
            scorecards_pb2.IndicatorConfig(indicator=i, floor=f, target=t, weight="0.3") for i, f, t, _ in CONFIG])
        code, details = await code_of(mo.UpdateScorecardConfig(scorecards_pb2.UpdateScorecardConfigRequest(
            scorecard_config=bad)))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "weights must sum to 1" in details
        config = scorecards_pb2.ScorecardConfig(year=2026, indicators=[
            scorecards_pb2.IndicatorConfig(indicator=i, floor=f, target=t, weight=w) for i, f, t, w in CONFIG])
        await mo.UpdateScorecardConfig(scorecards_pb2.UpdateScorecardConfigRequest(scorecard_config=config))
        got = await mo.GetScorecardConfig(scorecards_pb2.GetScorecardConfigRequest(name="scorecardConfigs/2026"))
        assert [(i.indicator, i.weight) for i in got.scorecard_config.indicators] == [(c[0], c[3]) for c in CONFIG]

        cards = {c.tenant_code: c for c in (await mo.ComputeScorecards(
            scorecards_pb2.ComputeScorecardsRequest(year=2026))).scorecards}
        assert len(cards) == 32
        for tenant, (total, rank) in EXPECTED.items():
            assert (cards[tenant].total, cards[tenant].rank) == (total, rank), tenant
        beijing = {i.indicator: i for i in cards["110000"].indicators}
        assert (beijing["key_industry_incidence_change"].value, beijing["key_industry_incidence_change"].score) == (
            "-0.05", "50.00")
        assert beijing["key_industry_incidence_change"].inputs["source"] == "fixture incidence"
        assert dict(beijing["on_time_filing_rate"].inputs) == {"filings_due": "2", "filed_on_time": "0"}
        assert beijing["project_acceptance_rate"].inputs["status"] == "no data"
        assert D(beijing["training_coverage"].weighted_score) == D("16")
        assert dict({i.indicator: i for i in cards["120000"].indicators}["on_time_filing_rate"].inputs) == {
            "filings_due": "2", "filed_on_time": "1"}

        own = (await tianjin.ListScorecards(scorecards_pb2.ListScorecardsRequest(year=2026))).scorecards
        assert [(c.tenant_code, c.rank) for c in own] == [("120000", 2)]
        code, _ = await code_of(tianjin.ComputeScorecards(scorecards_pb2.ComputeScorecardsRequest(year=2026)))
        assert code == grpc.StatusCode.PERMISSION_DENIED
