"""gRPC adapter for exposure data and analytics (SPEC SH-8, 7.7): proto <-> domain; owns the
transaction. A mixin of SharingServicer (which provides ``self.db``)."""

from __future__ import annotations

from prevention.sharing.v1 import sharing_pb2

from services.common.context import current_caller
from services.common.pagination import clamp_page_size, decode_page_token, encode_page_token
from services.sharing import analytics, exposure, exposure_import
from services.sharing.models import Exposure


def exposure_to_proto(row: Exposure) -> sharing_pb2.Exposure:
    message = sharing_pb2.Exposure(tenant_code=row.tenant_code, industry_code=row.industry_code, year=row.year,
                                   insured_persons=row.insured_persons)
    if row.hours_worked is not None:
        message.hours_worked = row.hours_worked
    message.update_time.FromDatetime(row.update_time)
    return message


def figures_to_proto(figures: analytics.Figures) -> sharing_pb2.IncidenceFigures:
    message = sharing_pb2.IncidenceFigures(
        injured_persons=figures.injured_persons, accidents=figures.accidents, fatalities=figures.fatalities,
        accident_persons_injured=figures.accident_persons_injured, disease_cases=figures.disease_cases,
        pneumoconiosis_cases=figures.pneumoconiosis_cases, insured_persons=figures.insured_persons)
    if figures.has_exposure and figures.hours_worked is not None:
        message.hours_worked = figures.hours_worked
    for name, value in (("incidence_per_100k_insured", figures.incidence_per_100k),
                        ("incidence_per_200k_hours", figures.incidence_per_200k_hours),
                        ("disease_incidence_per_100k_insured", figures.disease_incidence_per_100k)):
        if value is not None:
            setattr(message, name, value)
    return message


def incidence_to_proto(result: analytics.Incidence) -> sharing_pb2.GetIncidenceAnalyticsResponse:
    response = sharing_pb2.GetIncidenceAnalyticsResponse(
        year=result.year, plan=result.plan.id if result.plan else "",
        baseline_year=result.plan.baseline_year if result.plan else 0)
    for row in result.rows:
        message = response.rows.add(tenant_code=row.tenant_code, industry_code=row.industry_code,
                                    key_industry=row.key_industry, figures=figures_to_proto(row.figures))
        if row.baseline is not None:
            message.baseline.CopyFrom(figures_to_proto(row.baseline))
            change = analytics.change_pct(row.figures.incidence_per_100k, row.baseline.incidence_per_100k)
            if change is not None:
                message.change_vs_baseline_pct = change
    for summary in result.key_industries:
        message = response.key_industries.add(tenant_code=summary.tenant_code,
                                              figures=figures_to_proto(summary.figures),
                                              baseline=figures_to_proto(summary.baseline))
        if summary.change_pct is not None:
            message.change_vs_baseline_pct = summary.change_pct
        if summary.plan is not None:
            message.target_change_pct = summary.plan.target_change_pct
        if summary.target_met is not None:
            message.target_met = summary.target_met
    for target, ranking in ((response.region_ranking, result.region_ranking),
                            (response.industry_ranking, result.industry_ranking)):
        for rank, entry in enumerate(ranking, start=1):
            target.add(key=entry.key, rank=rank, incidence_per_100k_insured=entry.incidence_per_100k,
                       injured_persons=entry.injured_persons, insured_persons=entry.insured_persons)
    return response


class AnalyticsRpcs:
    async def UpsertExposure(self, request, context):
        caller = current_caller()
        rows = [exposure.ExposureData(industry_code=m.industry_code, year=m.year, insured_persons=m.insured_persons,
                                      hours_worked=m.hours_worked if m.HasField("hours_worked") else None)
                for m in request.exposures]
        async with self.db.session() as session:
            stored = await exposure.upsert_exposure(session=session, caller=caller, rows=rows)
            await session.commit()
        return sharing_pb2.UpsertExposureResponse(exposures=[exposure_to_proto(r) for r in stored])

    async def ImportExposure(self, request, context):
        caller = current_caller()
        async with self.db.session() as session:
            report = await exposure_import.import_exposure(session=session, caller=caller, content=request.content,
                                                           filename=request.filename)
            await session.commit()
        return sharing_pb2.ImportExposureResponse(
            rows=report.rows, upserted=report.upserted,
            errors=[sharing_pb2.ExposureImportError(row=e.row, field=e.field, description=e.description)
                    for e in report.errors])

    async def ListExposure(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        query = {"year": request.year}
        after = decode_page_token(request.page_token, query, shape=(str, str, int))
        async with self.db.session() as session:
            rows = await exposure.list_exposure(session=session, caller=caller, year=request.year or None,
                                                after=tuple(after) if after else None, limit=size + 1)
        last = rows[size - 1] if len(rows) > size else None
        return sharing_pb2.ListExposureResponse(
            exposures=[exposure_to_proto(r) for r in rows[:size]],
            next_page_token=encode_page_token([last.tenant_code, last.industry_code, last.year], query) if last else "")

    async def GetIncidenceAnalytics(self, request, context):
        caller = current_caller()
        async with self.db.session() as session:
            result = await analytics.incidence(session=session, caller=caller, year=request.year,
                                               industry_prefix=request.industry_prefix)
        return incidence_to_proto(result)
