"""Exposure data and analytics (SPEC SH-8, 7.7): the denominators provinces import, and incidence
served from rollups."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from prevention.sharing.v1 import sharing_pb2

from gateway.deps import BackendsDep, CurrentCaller
from gateway.problems import ERROR_RESPONSES
from gateway.routers.params import PageSize, PageToken, page_size
from gateway.schemas.analytics import Exposure, ExposureBatch, ExposureList, Incidence

router = APIRouter(prefix="/v1", tags=["analytics"], responses=ERROR_RESPONSES)
Year = Annotated[int, Query(ge=0, le=2100, description="0 = the previous calendar year (CST)")]


@router.put("/exposure", response_model=ExposureList)
async def upsert_exposure(body: ExposureBatch, caller: CurrentCaller, backends: BackendsDep) -> ExposureList:
    """Provincial operators, for their own tenant: insured persons and hours worked per industry
    division and year. An upsert: sending the same batch again changes nothing. A bad row refuses
    the whole batch, naming every violation (`exposures[i].field`)."""
    response = await backends.sharing.UpsertExposure(
        sharing_pb2.UpsertExposureRequest(exposures=[row.to_proto() for row in body.exposures]),
        timeout=backends.timeout,
    )
    return ExposureList(exposures=[Exposure.from_proto(e) for e in response.exposures])


@router.get("/exposure", response_model=ExposureList)
async def list_exposure(caller: CurrentCaller, backends: BackendsDep, year: Annotated[int, Query(ge=0, le=2100)] = 0,
                        page_size_: PageSize = 0, page_token: PageToken = "") -> ExposureList:
    """Ministry all; provincial operators their subtree; department liaisons their tenant. year 0 = all."""
    response = await backends.sharing.ListExposure(
        sharing_pb2.ListExposureRequest(year=year, page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout,
    )
    return ExposureList(exposures=[Exposure.from_proto(e) for e in response.exposures],
                        next_page_token=response.next_page_token)


@router.get("/analytics/incidence", response_model=Incidence)
async def get_incidence(caller: CurrentCaller, backends: BackendsDep, year: Year = 0,
                        industry_prefix: Annotated[str, Query(max_length=3, pattern=r"^([A-T][0-9]{0,2})?$")] = ""
                        ) -> Incidence:
    """Incidence per tenant x industry division (recognised work injuries per 100,000 insured and
    per 200,000 hours), accidents, fatalities, occupational disease (pneumoconiosis apart), the
    key-industry change against the plan's baseline year and target, and risk rankings.
    Ministry all provinces; provincial operators their subtree; department liaisons their tenant."""
    response = await backends.sharing.GetIncidenceAnalytics(
        sharing_pb2.GetIncidenceAnalyticsRequest(year=year, industry_prefix=industry_prefix),
        timeout=backends.timeout,
    )
    return Incidence.from_proto(response)
