"""gRPC adapter for provincial scorecards (SPEC AS-5). A mixin of AssessmentServicer
(``self.db``, ``self.clock``, ``self.indicators``: the IndicatorSource seam)."""

from __future__ import annotations

from prevention.assessment.v1 import scorecards_pb2

from services.assessment import scorecards
from services.assessment.models_filings import ScorecardRow
from services.common.context import current_caller


def config_to_proto(year: int, configs: list[scorecards.Config]) -> scorecards_pb2.ScorecardConfig:
    return scorecards_pb2.ScorecardConfig(name=f"scorecardConfigs/{year}", year=year, indicators=[
        scorecards_pb2.IndicatorConfig(indicator=c.indicator, floor=str(c.floor), target=str(c.target),
                                       weight=str(c.weight)) for c in configs])


def card_to_proto(row: ScorecardRow) -> scorecards_pb2.Scorecard:
    message = scorecards_pb2.Scorecard(
        name=f"scorecards/{row.year}/{row.tenant_code}", year=row.year, tenant_code=row.tenant_code, total=row.total,
        rank=row.rank, indicators=[scorecards_pb2.IndicatorScore(**i) for i in row.indicators])
    message.compute_time.FromDatetime(row.compute_time)
    return message


class ScorecardRpcs:
    async def GetScorecardConfig(self, request, context):
        year = scorecards.parse_config_name(request.name)
        async with self.db.session() as session:
            configs = await scorecards.get_config(session, year)
        return scorecards_pb2.GetScorecardConfigResponse(scorecard_config=config_to_proto(year, configs))

    async def UpdateScorecardConfig(self, request, context):
        caller = current_caller()
        m = request.scorecard_config
        configs = scorecards.validate_config(m.year, [(i.indicator, i.floor, i.target, i.weight) for i in m.indicators])
        async with self.db.session() as session:
            await scorecards.set_config(session=session, caller=caller, year=m.year, configs=configs,
                                        now=self.clock.now())
            await session.commit()
        return scorecards_pb2.UpdateScorecardConfigResponse(scorecard_config=config_to_proto(m.year, configs))

    async def ComputeScorecards(self, request, context):
        async with self.db.session() as session:
            rows = await scorecards.compute(session=session, source=self.indicators, year=request.year,
                                            now=self.clock.now())
            await session.commit()
        return scorecards_pb2.ComputeScorecardsResponse(scorecards=[card_to_proto(r) for r in rows])

    async def ListScorecards(self, request, context):
        caller = current_caller()
        async with self.db.session() as session:
            rows = await scorecards.list_scorecards(session=session, caller=caller, year=request.year)
        return scorecards_pb2.ListScorecardsResponse(scorecards=[card_to_proto(r) for r in rows])
