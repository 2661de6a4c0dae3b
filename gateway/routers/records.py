"""REST routes of the SH-1 record types besides accidents (create, list, get, correct, void), of
file import and export for every record type (RELIABILITY S10), and of the agreement lifecycle
(get, suspend, resume). Fields a sharing agreement withholds are absent (exclude_unset).

No ``from __future__ import annotations`` here: the per-type routes are made by a function and
FastAPI must see their body classes as objects, not names."""

from typing import Annotated, Literal

import grpc
from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from fastapi.responses import Response
from prevention.sharing.v1 import sharing_pb2

from gateway.deps import BackendsDep, CurrentCaller
from gateway.problems import ERROR_RESPONSES, failure_response, problem_response
from gateway.routers.params import IdempotencyKey, PageSize, PageToken, page_size
from gateway.routers.sharing import DateQuery
from gateway.schemas import records as schema
from gateway.schemas.sharing import SharingAgreement
from services.common.channels import MAX_MESSAGE_BYTES
from services.common.errors import ResourceExhausted
from services.common.grpc_errors import parse_rpc_error

router = APIRouter(prefix="/v1", tags=["sharing"], responses=ERROR_RESPONSES)
RecordId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
AgreementId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
IndustryPrefix = Annotated[str, Query(max_length=5, pattern=r"^([A-T][0-9]{0,4})?$")]
IMPORT_MAX_BYTES = MAX_MESSAGE_BYTES - 64 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows are published one by one; a large file needs longer than an ordinary call. Rows not done
# by the deadline come back as IMPORT_TIME_EXHAUSTED (import the file again to continue).
IMPORT_TIMEOUT_SECONDS = 120.0

# path segment -> (record type, message name, REST out model, create body, correct body)
TYPES = {
    "disease-cases": ("disease_cases", "DiseaseCase", schema.DiseaseCase, schema.DiseaseCaseCreate,
                      schema.DiseaseCaseCorrect),
    "recognitions": ("recognitions", "Recognition", schema.Recognition, schema.RecognitionCreate,
                     schema.RecognitionCorrect),
    "hazard-reports": ("hazard_reports", "HazardReport", schema.HazardReport, schema.HazardReportCreate,
                       schema.HazardReportCorrect),
    "measurements": ("measurements", "Measurement", schema.Measurement, schema.MeasurementCreate,
                     schema.MeasurementCorrect),
}
COLLECTIONS = {"accidents": "accidents", "disease-cases": "diseaseCases", "recognitions": "recognitions",
               "hazard-reports": "hazardReports", "measurements": "measurements"}
RECORD_TYPE_OF = {"accidents": "accidents", **{segment: spec[0] for segment, spec in TYPES.items()}}


def _add_record_routes(segment: str) -> None:
    record_type, message, out, create_body, correct_body = TYPES[segment]
    single = record_type.removesuffix("s")
    collection = COLLECTIONS[segment]
    stub = lambda backends, verb: getattr(backends.sharing, f"{verb}{message}")  # noqa: E731

    async def create(body: create_body, caller: CurrentCaller, backends: BackendsDep,
                     idempotency_key: IdempotencyKey = None):
        request = getattr(sharing_pb2, f"Create{message}Request")(
            **{single: body.to_proto(body.publisher_record_id)}, request_id=idempotency_key or "")
        response = await stub(backends, "Create")(request, timeout=backends.timeout)
        return out.from_proto(getattr(response, single))

    async def get(record_id: RecordId, caller: CurrentCaller, backends: BackendsDep):
        request = getattr(sharing_pb2, f"Get{message}Request")(name=f"{collection}/{record_id}")
        response = await stub(backends, "Get")(request, timeout=backends.timeout)
        return out.from_proto(getattr(response, single))

    async def correct(record_id: RecordId, body: correct_body, caller: CurrentCaller, backends: BackendsDep,
                      idempotency_key: IdempotencyKey = None):
        request = getattr(sharing_pb2, f"Correct{message}Request")(
            name=f"{collection}/{record_id}", **{single: body.to_proto()}, request_id=idempotency_key or "")
        response = await stub(backends, "Correct")(request, timeout=backends.timeout)
        return out.from_proto(getattr(response, single))

    async def void(record_id: RecordId, body: schema.RecordVoid, caller: CurrentCaller, backends: BackendsDep,
                   idempotency_key: IdempotencyKey = None):
        request = getattr(sharing_pb2, f"Void{message}Request")(
            name=f"{collection}/{record_id}", reason=body.reason, request_id=idempotency_key or "")
        response = await stub(backends, "Void")(request, timeout=backends.timeout)
        return out.from_proto(getattr(response, single))

    router.add_api_route(f"/{segment}", create, methods=["POST"], response_model=out, status_code=201,
                         response_model_exclude_unset=True, name=f"create_{single}",
                         summary=f"Publish a {single.replace('_', ' ')}",
                         description="Idempotent by `publisher_record_id`: the same id and content replays the "
                                     "stored record (201); different content is 409 PUBLISHER_RECORD_ID_EXISTS.")
    router.add_api_route(f"/{segment}/{{record_id}}", get, methods=["GET"], response_model=out,
                         response_model_exclude_unset=True, name=f"get_{single}")
    router.add_api_route(f"/{segment}/{{record_id}}/correct", correct, methods=["POST"], response_model=out,
                         response_model_exclude_unset=True, name=f"correct_{single}",
                         description="A new version with all data fields replaced; only the publisher may "
                                     "correct; 409 if voided.")
    router.add_api_route(f"/{segment}/{{record_id}}/void", void, methods=["POST"], response_model=out,
                         response_model_exclude_unset=True, name=f"void_{single}",
                         description="Final; voiding a voided record changes nothing. Only the publisher may void.")


# The list routes are written out: each type has its own filter names.


@router.get("/disease-cases", response_model=schema.DiseaseCaseList, response_model_exclude_unset=True)
async def list_disease_cases(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                             page_token: PageToken = "", diagnosed_from: DateQuery = "", diagnosed_to: DateQuery = "",
                             industry_prefix: IndustryPrefix = "",
                             category: schema.DiseaseCategory | None = None) -> schema.DiseaseCaseList:
    response = await backends.sharing.ListDiseaseCases(sharing_pb2.ListDiseaseCasesRequest(
        page_size=page_size(page_size_), page_token=page_token, diagnosed_from=diagnosed_from,
        diagnosed_to=diagnosed_to, industry_prefix=industry_prefix, category=category or ""), timeout=backends.timeout)
    return schema.DiseaseCaseList(disease_cases=[schema.DiseaseCase.from_proto(r) for r in response.disease_cases],
                                  next_page_token=response.next_page_token)


@router.get("/recognitions", response_model=schema.RecognitionList, response_model_exclude_unset=True)
async def list_recognitions(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                            page_token: PageToken = "", injured_from: DateQuery = "", injured_to: DateQuery = "",
                            industry_prefix: IndustryPrefix = "") -> schema.RecognitionList:
    response = await backends.sharing.ListRecognitions(sharing_pb2.ListRecognitionsRequest(
        page_size=page_size(page_size_), page_token=page_token, injured_from=injured_from, injured_to=injured_to,
        industry_prefix=industry_prefix), timeout=backends.timeout)
    return schema.RecognitionList(recognitions=[schema.Recognition.from_proto(r) for r in response.recognitions],
                                  next_page_token=response.next_page_token)


@router.get("/hazard-reports", response_model=schema.HazardReportList, response_model_exclude_unset=True)
async def list_hazard_reports(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                              page_token: PageToken = "", reported_from: DateQuery = "", reported_to: DateQuery = "",
                              industry_prefix: IndustryPrefix = "",
                              level: schema.HazardLevel | None = None) -> schema.HazardReportList:
    response = await backends.sharing.ListHazardReports(sharing_pb2.ListHazardReportsRequest(
        page_size=page_size(page_size_), page_token=page_token, reported_from=reported_from, reported_to=reported_to,
        industry_prefix=industry_prefix, level=level or ""), timeout=backends.timeout)
    return schema.HazardReportList(
        hazard_reports=[schema.HazardReport.from_proto(r) for r in response.hazard_reports],
        next_page_token=response.next_page_token)


@router.get("/measurements", response_model=schema.MeasurementList, response_model_exclude_unset=True)
async def list_measurements(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                            page_token: PageToken = "", measured_from: DateQuery = "", measured_to: DateQuery = "",
                            industry_prefix: IndustryPrefix = "",
                            factor: schema.MeasurementFactor | None = None) -> schema.MeasurementList:
    response = await backends.sharing.ListMeasurements(sharing_pb2.ListMeasurementsRequest(
        page_size=page_size(page_size_), page_token=page_token, measured_from=measured_from, measured_to=measured_to,
        industry_prefix=industry_prefix, factor=factor or ""), timeout=backends.timeout)
    return schema.MeasurementList(measurements=[schema.Measurement.from_proto(r) for r in response.measurements],
                                  next_page_token=response.next_page_token)


for _segment in TYPES:
    _add_record_routes(_segment)


# -- import and export of every record type -----------------------------------------------------


def _add_file_routes(segment: str) -> None:
    record_type = RECORD_TYPE_OF[segment]

    async def import_records(caller: CurrentCaller, backends: BackendsDep, file: Annotated[UploadFile, File(
            description="CSV (UTF-8 with or without BOM, or GB18030) or XLSX with a header row naming the "
                        "columns by field name: publisher_record_id and the record's data fields")]):
        content = await file.read(IMPORT_MAX_BYTES + 1)
        if len(content) > IMPORT_MAX_BYTES:
            raise ResourceExhausted(f"the file exceeds {IMPORT_MAX_BYTES} bytes", reason="PAYLOAD_TOO_LARGE")
        response = await backends.sharing.ImportRecords(sharing_pb2.ImportRecordsRequest(
            record_type=record_type, content=content, filename=file.filename or ""),
            timeout=max(backends.timeout, IMPORT_TIMEOUT_SECONDS))
        return schema.ImportResult.from_proto(response)

    async def export_records(request: Request, caller: CurrentCaller, backends: BackendsDep,
                             reason: Annotated[str, Query(max_length=500, description=(
                                 "Why the records are exported: required (400 without it); written to the "
                                 "exchange log"))] = "",
                             format: Annotated[Literal["csv", "xlsx"], Query()] = "csv"):
        filters = {k: v for k, v in request.query_params.items() if k not in ("reason", "format") and v}
        try:
            response = await backends.sharing.ExportRecords(sharing_pb2.ExportRecordsRequest(
                record_type=record_type, format=format, reason=reason, filters=filters), timeout=backends.timeout)
        except grpc.aio.AioRpcError as error:
            failure = parse_rpc_error(error)
            retry_after = failure.metadata.get("retry_after_seconds")
            if failure.reason == "EXPORT_QUOTA_EXCEEDED" and retry_after:
                return problem_response(429, failure.message, request=request, reason=failure.reason,
                                        headers={"Retry-After": retry_after})
            return failure_response(request, failure)
        return Response(response.content, media_type=response.content_type,
                        headers={"Content-Disposition": f'attachment; filename="{response.filename}"'})

    label = record_type.replace("_", " ")
    router.add_api_route(
        f"/{segment}:import", import_records, methods=["POST"], response_model=schema.ImportResult,
        name=f"import_{record_type}", summary=f"Import {label} from a CSV or XLSX file",
        description="One result per data row (created, replayed or failed with the bad columns). Rows are published "
                    "one by one through the idempotent publish path: importing the same file again changes nothing. "
                    "A header that misses a required column or names an unknown one refuses the whole file (400).",
        responses={413: {"description": "The file is too large"}})
    router.add_api_route(
        f"/{segment}:export", export_records, methods=["GET"], response_class=Response, name=f"export_{record_type}",
        summary=f"Export {label} as CSV or XLSX",
        description="The records the list with the same filters shows (its query parameters apply), with the "
                    "caller's visible fields only. Audited with the stated reason; limited per caller and hour "
                    "(429 with Retry-After beyond it).",
        responses={200: {"content": {"text/csv": {"schema": {"type": "string"}},
                                     XLSX: {"schema": {"type": "string", "format": "binary"}}}}})


for _segment in RECORD_TYPE_OF:
    _add_file_routes(_segment)


# -- sharing agreements: get, suspend, resume (SH-2) ------------------------------------------------


@router.get("/sharing-agreements/{agreement_id}", response_model=SharingAgreement)
async def get_sharing_agreement(agreement_id: AgreementId, caller: CurrentCaller,
                                backends: BackendsDep) -> SharingAgreement:
    response = await backends.sharing.GetSharingAgreement(
        sharing_pb2.GetSharingAgreementRequest(name=f"sharingAgreements/{agreement_id}"), timeout=backends.timeout)
    return SharingAgreement.from_proto(response.sharing_agreement)


@router.post("/sharing-agreements/{agreement_id}/suspend", response_model=SharingAgreement)
async def suspend_sharing_agreement(agreement_id: AgreementId, caller: CurrentCaller,
                                    backends: BackendsDep) -> SharingAgreement:
    """A suspended agreement grants nothing until resumed; 409 AGREEMENT_REVOKED if revoked."""
    response = await backends.sharing.SuspendSharingAgreement(
        sharing_pb2.SuspendSharingAgreementRequest(name=f"sharingAgreements/{agreement_id}"), timeout=backends.timeout)
    return SharingAgreement.from_proto(response.sharing_agreement)


@router.post("/sharing-agreements/{agreement_id}/resume", response_model=SharingAgreement)
async def resume_sharing_agreement(agreement_id: AgreementId, caller: CurrentCaller,
                                   backends: BackendsDep) -> SharingAgreement:
    response = await backends.sharing.ResumeSharingAgreement(
        sharing_pb2.ResumeSharingAgreementRequest(name=f"sharingAgreements/{agreement_id}"), timeout=backends.timeout)
    return SharingAgreement.from_proto(response.sharing_agreement)

