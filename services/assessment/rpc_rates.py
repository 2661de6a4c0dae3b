"""gRPC adapter for premium-rate floating (SPEC AS-6): proto <-> domain. A mixin of
AssessmentServicer (``self.db``, ``self.clock``). Runs process batches while the caller's
deadline leaves room, committing each batch (rate_runs.process)."""

from __future__ import annotations

from prevention.assessment.v1 import projects_pb2, rates_pb2

from services.assessment import budget, rate_runs
from services.assessment.models_rates import RateResultRow, RateRuleSet, RateRun
from services.common.context import current_caller
from services.common.errors import InvalidArgument, NotFound
from services.common.pagination import (
    clamp_page_size,
    decode_page_token,
    encode_page_token,
    newest_first_after,
    newest_first_token,
)

# Stop taking new batches when less than this many seconds of the caller's deadline remain.
DEADLINE_MARGIN_SECONDS = 3.0
MAX_FILE_BYTES = 20 * 1024 * 1024


def run_to_proto(run: RateRun) -> rates_pb2.RateRun:
    message = rates_pb2.RateRun(
        name=f"rateRuns/{run.id}", pooling_region=run.tenant_code, cycle_end_year=run.cycle_end_year,
        rule_set_version=run.rule_set_version, parameters=run.parameters, state=run.state, total=run.total,
        processed=run.processed)
    message.create_time.FromDatetime(run.create_time)
    if run.finish_time is not None:
        message.finish_time.FromDatetime(run.finish_time)
    return message


def rule_set_to_proto(region: str, version: int, parameters: dict) -> rates_pb2.RateRuleSet:
    return rates_pb2.RateRuleSet(name=f"rateRuleSets/{region}/versions/{version}", pooling_region=region,
                                 version=version, parameters=parameters)


def result_to_proto(row: RateResultRow) -> rates_pb2.RateResult:
    return rates_pb2.RateResult(employer=row.employer, risk_class=row.risk_class, tier=row.tier,
                                multiplier=row.multiplier, base_rate=row.base_rate, rate=row.rate,
                                payout_ratio=row.payout_ratio, factors=row.factors)


class RateRpcs:
    async def ImportRateInputs(self, request, context):
        caller = current_caller()
        if request.file:
            if len(request.file) > MAX_FILE_BYTES:
                raise InvalidArgument.field("file", f"must be at most {MAX_FILE_BYTES} bytes")
            rows, errors = rate_runs.rows_from_file(request.file_name, request.file, request.pooling_region)
            numbers = list(range(2, len(rows) + 2))
        else:
            rows = [rate_runs.InputRow(
                pooling_region=r.pooling_region, employer=r.employer, year=r.year, risk_class=r.risk_class,
                premiums_paid_fen=r.premiums_paid_fen, benefits_paid_fen=r.benefits_paid_fen, injuries=r.injuries,
                fatal_accidents=r.fatal_accidents, hazard_level=r.hazard_level or "low",
                months_insured=r.months_insured or 12) for r in request.rows]
            errors, numbers = [], None
        async with self.db.session() as session:
            imported, row_errors = await rate_runs.import_inputs(session=session, caller=caller, rows=rows,
                                                                 numbers=numbers)
            await session.commit()
        errors = sorted(errors + row_errors)
        return rates_pb2.ImportRateInputsResponse(
            imported=imported, errors=[projects_pb2.RowError(row=n, field=f, reason=r) for n, f, r in errors])

    async def CreateRateRuleSet(self, request, context):
        caller = current_caller()
        async with self.db.session() as session:
            row: RateRuleSet = await rate_runs.create_rule_set(
                session=session, caller=caller, region=request.rule_set.pooling_region,
                parameters=dict(request.rule_set.parameters), now=self.clock.now())
            await session.commit()
        return rates_pb2.CreateRateRuleSetResponse(rule_set=rule_set_to_proto(row.tenant_code, row.version,
                                                                              row.parameters))

    async def GetRateRuleSet(self, request, context):
        caller = current_caller()
        if request.pooling_region and not caller.sees_tenant(request.pooling_region):
            raise NotFound(f"rate rule set of {request.pooling_region} not found")
        region = budget.check_region(request.pooling_region, caller, "pooling_region")
        async with self.db.session() as session:
            version, parameters = await rate_runs.latest_rule_set(session, region)
        return rates_pb2.GetRateRuleSetResponse(rule_set=rule_set_to_proto(region, version, parameters))

    async def _process(self, caller, run_id: str, request, context) -> RateRun:
        def keep_going() -> bool:
            remaining = context.time_remaining()
            return remaining is None or remaining > DEADLINE_MARGIN_SECONDS

        return await rate_runs.process(sessionmaker=self.db.sessionmaker, caller=caller, run_id=run_id,
                                       batch_size=max(request.batch_size, 0), max_batches=max(request.max_batches, 0),
                                       keep_going=keep_going, now=self.clock.now)

    async def StartRateRun(self, request, context):
        caller = current_caller()
        async with self.db.session() as session:
            run = await rate_runs.start_run(session=session, caller=caller, region=request.pooling_region,
                                            cycle_end_year=request.cycle_end_year, now=self.clock.now())
            await session.commit()
        run = await self._process(caller, run.id, request, context)
        return rates_pb2.StartRateRunResponse(rate_run=run_to_proto(run))

    async def ResumeRateRun(self, request, context):
        caller = current_caller()
        run_id = rate_runs.parse_run_name(request.name)
        async with self.db.session() as session:
            await rate_runs.get_run(session=session, caller=caller, run_id=run_id)
        run = await self._process(caller, run_id, request, context)
        return rates_pb2.ResumeRateRunResponse(rate_run=run_to_proto(run))

    async def GetRateRun(self, request, context):
        caller = current_caller()
        run_id = rate_runs.parse_run_name(request.name)
        async with self.db.session() as session:
            run = await rate_runs.get_run(session=session, caller=caller, run_id=run_id)
        return rates_pb2.GetRateRunResponse(rate_run=run_to_proto(run))

    async def ListRateRuns(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        query = {"pooling_region": request.pooling_region}
        async with self.db.session() as session:
            rows = await rate_runs.list_runs(session=session, caller=caller, region=request.pooling_region,
                                             after=newest_first_after(request.page_token, query), limit=size + 1)
        return rates_pb2.ListRateRunsResponse(rate_runs=[run_to_proto(r) for r in rows[:size]],
                                              next_page_token=newest_first_token(rows, size, query))

    async def ListRateResults(self, request, context):
        caller = current_caller()
        run_id = rate_runs.parse_run_name(request.parent)
        size = clamp_page_size(request.page_size)
        after = decode_page_token(request.page_token, {"parent": request.parent})
        async with self.db.session() as session:
            run, rows = await rate_runs.list_results(session=session, caller=caller, run_id=run_id,
                                                     after=after[0] if after else None, limit=size + 1)
        next_token = (encode_page_token([rows[size - 1].employer], {"parent": request.parent})
                      if len(rows) > size else "")
        return rates_pb2.ListRateResultsResponse(rate_results=[result_to_proto(r) for r in rows[:size]],
                                                 next_page_token=next_token, rule_set_version=run.rule_set_version)

    async def ExportRateResults(self, request, context):
        caller = current_caller()
        run_id = rate_runs.parse_run_name(request.parent)
        async with self.db.session() as session:
            content, content_type = await rate_runs.export_results(session=session, caller=caller, run_id=run_id,
                                                                   fmt=request.format or "csv")
        return rates_pb2.ExportRateResultsResponse(content=content, content_type=content_type)
