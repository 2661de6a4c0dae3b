"""Exposure data and analytics (SPEC SH-8, 7.7): the denominators provinces import, and incidence
served from rollups."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from prevention.sharing.v1 import sharing_pb2

from gateway.deps import BackendsDep, CurrentCaller
from gateway.problems import ERROR_RESPONSES
from gateway.routers.params import PageSize, PageToken, page_size
from gateway.schemas.analytics import Exposure, ExposureBatch, ExposureImportReport, ExposureList, Incidence
from services.common.errors import ResourceExhausted

router = APIRouter(prefix="/v1", tags=["analytics"], responses=ERROR_RESPONSES)
# One gRPC message carries the file to the sharing service (4 MiB), with room for the envelope.
IMPORT_MAX_BYTES = 4 * 1024 * 1024 - 64 * 1024
Year = Annotated[int | None, Query(ge=2000, le=2100, description="Unset: the previous calendar year (CST)")]


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


@router.post("/exposure:import", response_model=ExposureImportReport)
async def import_exposure(
    caller: CurrentCaller, backends: BackendsDep,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 with or without BOM, or GB18030) or XLSX with a header "
                                                  "row: industry_code (行业代码), year (年度), insured_persons "
                                                  "(参保人数), hours_worked (工时, optional)")],
) -> ExposureImportReport:
    """Provincial operators, for their own tenant: all rows or none. The answer is the import
    report with 200: `errors` lists every bad field of every bad row, and when it is non-empty
    nothing was written. Importing the same file again changes nothing (an upsert)."""
    content = await file.read(IMPORT_MAX_BYTES + 1)
    if len(content) > IMPORT_MAX_BYTES:
        raise ResourceExhausted(f"the file exceeds {IMPORT_MAX_BYTES} bytes", reason="PAYLOAD_TOO_LARGE")
    response = await backends.sharing.ImportExposure(
        sharing_pb2.ImportExposureRequest(content=content, filename=file.filename or ""), timeout=backends.timeout)
    return ExposureImportReport.from_proto(response)


@router.get("/exposure", response_model=ExposureList)
async def list_exposure(caller: CurrentCaller, backends: BackendsDep, year: Annotated[
                            int | None, Query(ge=2000, le=2100, description="Unset: every year")] = None,
                        page_size_: PageSize = 0, page_token: PageToken = "") -> ExposureList:
    """Ministry all; provincial operators their subtree; department liaisons their tenant."""
    response = await backends.sharing.ListExposure(
        sharing_pb2.ListExposureRequest(year=year or 0, page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout,
    )
    return ExposureList(exposures=[Exposure.from_proto(e) for e in response.exposures],
                        next_page_token=response.next_page_token)


@router.get("/analytics/incidence", response_model=Incidence)
async def get_incidence(caller: CurrentCaller, backends: BackendsDep, year: Year = None,
                        industry_prefix: Annotated[str, Query(max_length=3, pattern=r"^([A-T][0-9]{0,2})?$")] = ""
                        ) -> Incidence:
    """Incidence per tenant x industry division (recognised work injuries per 100,000 insured and
    per 200,000 hours), accidents, fatalities, occupational disease (pneumoconiosis apart), the
    key-industry change against the plan's baseline year and target, and risk rankings.
    Ministry all provinces; provincial operators their subtree; department liaisons their tenant."""
    response = await backends.sharing.GetIncidenceAnalytics(
        sharing_pb2.GetIncidenceAnalyticsRequest(year=year or 0, industry_prefix=industry_prefix),
        timeout=backends.timeout,
    )
    return Incidence.from_proto(response)
