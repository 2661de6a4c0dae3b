"""Organisations and employers (ID-1, ID-2), and the bulk import of employers."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable
from typing import Annotated, Literal, TypeVar

import grpc
from fastapi import APIRouter, Body, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import Response
from prevention.identity.v1 import identity_pb2

from gateway.deps import BackendsDep, CurrentCaller
from gateway.problems import ERROR_RESPONSES, PROBLEM, TITLES, Problem, failure_response
from gateway.routers.params import IdempotencyKey, PageSize, PageToken, page_size
from gateway.schemas.organisations import (
    TYPE_TO_PROTO,
    ImportReport,
    Organisation,
    OrganisationCreate,
    OrganisationList,
    OrganisationPatch,
    OrganisationType,
)
from services.common.channels import MAX_MESSAGE_BYTES
from services.common.errors import FieldViolation, ResourceExhausted
from services.common.grpc_errors import parse_rpc_error

router = APIRouter(prefix="/v1", tags=["organisations"], responses=ERROR_RESPONSES)
OrganisationId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]

# What the identity service accepts (10 MiB), bounded by what one gRPC message to it can carry.
IMPORT_MAX_BYTES = min(10 * 1024 * 1024, MAX_MESSAGE_BYTES - 64 * 1024)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TOO_LARGE = {413: {"model": Problem, "description": TITLES[413], "content": {PROBLEM: {}}}}

T = TypeVar("T")


async def _call(request: Request, rpc: Awaitable[T]) -> T | Response:
    """The service names fields by their place in the gRPC request (``organisation.employer.uscc``);
    a REST client sent the organisation itself as the body, so its problem names ``employer.uscc``.
    Returns the problem response for such an error; other errors propagate to the app's handlers."""
    try:
        return await rpc
    except grpc.aio.AioRpcError as error:
        failure = parse_rpc_error(error)
        if not failure.violations:
            raise
        failure.violations = [FieldViolation(v.field.removeprefix("organisation."), v.description)
                              for v in failure.violations]
        failure.message = failure.message.replace("organisation.", "")
        return failure_response(request, failure)


@router.post("/organisations", response_model=Organisation, status_code=201)
async def create_organisation(request: Request, body: OrganisationCreate, caller: CurrentCaller,
                              backends: BackendsDep, idempotency_key: IdempotencyKey = None) -> Organisation | Response:
    """Creates an organisation of the caller's tenant (ministry operators may name `tenant_code`).
    Government departments need `department_type` (industry regulators also `sector`); employers need
    `employer` with a valid USCC. A USCC already registered answers 409."""
    response = await _call(request, backends.identity.CreateOrganisation(
        identity_pb2.CreateOrganisationRequest(organisation=body.to_proto(), tenant_code=body.tenant_code or "",
                                               request_id=idempotency_key or ""),
        timeout=backends.timeout,
    ))
    if isinstance(response, Response):
        return response
    return Organisation.from_proto(response.organisation)


@router.get("/organisations", response_model=OrganisationList)
async def list_organisations(caller: CurrentCaller, backends: BackendsDep,
                             type: Annotated[OrganisationType | None, Query(description="Only this type")] = None,
                             page_size_: PageSize = 0, page_token: PageToken = "") -> OrganisationList:
    """The organisations the caller may see, newest first: operators their tenant subtree (ministry:
    all), department liaisons, employer officers and service institutions their own organisation."""
    response = await backends.identity.ListOrganisations(
        identity_pb2.ListOrganisationsRequest(type=TYPE_TO_PROTO[type] if type else 0,
                                              page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout,
    )
    return OrganisationList(organisations=[Organisation.from_proto(o) for o in response.organisations],
                            next_page_token=response.next_page_token)


@router.get("/organisations/{organisation_id}", response_model=Organisation)
async def get_organisation(organisation_id: OrganisationId, caller: CurrentCaller,
                           backends: BackendsDep) -> Organisation:
    response = await backends.identity.GetOrganisation(
        identity_pb2.GetOrganisationRequest(name=f"organisations/{organisation_id}"), timeout=backends.timeout
    )
    return Organisation.from_proto(response.organisation)


@router.patch("/organisations/{organisation_id}", response_model=Organisation)
async def update_organisation(request: Request, organisation_id: OrganisationId, caller: CurrentCaller,
                              backends: BackendsDep,
                              body: Annotated[OrganisationPatch | None, Body()] = None) -> Organisation | Response:
    """Merge-style update: the fields present in the body change (AIP-134 update mask); an empty
    body changes nothing. Employer officers may change only `contact_name` and `contact_phone` of
    their own employer (403 naming the field otherwise)."""
    body = body or OrganisationPatch()
    response = await _call(request, backends.identity.UpdateOrganisation(
        identity_pb2.UpdateOrganisationRequest(organisation=body.to_proto(organisation_id),
                                               update_mask=body.update_mask()),
        timeout=backends.timeout,
    ))
    if isinstance(response, Response):
        return response
    return Organisation.from_proto(response.organisation)


@router.post("/employers:import", response_model=ImportReport, responses=_TOO_LARGE)
async def import_employers(
    caller: CurrentCaller, backends: BackendsDep,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 with or without BOM, or GB18030) or XLSX; "
                                                  "a header row, see /v1/employers/import-template")],
    # A form field is text: exactly `true` or `false`, so that no other spelling passes silently.
    validate_only: Annotated[Literal["true", "false"], Form(description="`true`: check every row, write nothing")
                             ] = "false",
    idempotency_key: IdempotencyKey = None,
) -> ImportReport:
    """Imports employers of the caller's tenant (a ministry operator's rows go to the province of
    each row's pooling region): all rows or none.

    The answer is always the import report with **200**: `errors` lists every bad field of every bad
    row (`row` 1 is the first data row; problems of the file or its header are `row` 0), and when it
    is non-empty nothing was written (`created` = 0). With `validate_only` nothing is written either.
    A report is the result of the import, not a malformed request, so it is not a 400; clients check
    `errors` (or `created`). A file over the size limit answers 413, a USCC taken by a concurrent
    request 409.
    """
    content = await file.read(IMPORT_MAX_BYTES + 1)
    if len(content) > IMPORT_MAX_BYTES:
        raise ResourceExhausted(f"the file exceeds {IMPORT_MAX_BYTES} bytes", reason="PAYLOAD_TOO_LARGE")
    response = await backends.identity.ImportEmployers(
        identity_pb2.ImportEmployersRequest(content=content, filename=file.filename or "",
                                            validate_only=validate_only == "true", request_id=idempotency_key or ""),
        timeout=backends.timeout,
    )
    return ImportReport.from_proto(response)


@router.get(
    "/employers/import-template",
    response_class=Response,
    responses={200: {"description": "The header row of an employer import file",
                     "content": {"text/csv": {"schema": {"type": "string"}},
                                 XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def employer_import_template(
    backends: BackendsDep,
    format: Annotated[Literal["csv", "xlsx"], Query(description="csv (UTF-8 with BOM) or xlsx")] = "csv",
    language: Annotated[Literal["zh", "en"], Query(description="Chinese headers or English column names")] = "zh",
) -> Response:
    """An empty import file: just the header row (no data, so no login needed)."""
    template = await backends.identity.GetEmployerImportTemplate(identity_pb2.GetEmployerImportTemplateRequest(),
                                                                 timeout=backends.timeout)
    columns = [c.header_zh if language == "zh" else c.name for c in template.columns]
    if format == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "employers"
        sheet.append(columns)
        buffer = io.BytesIO()
        workbook.save(buffer)
        content, media_type = buffer.getvalue(), XLSX
    else:
        text = io.StringIO()
        csv.writer(text, lineterminator="\r\n").writerow(columns)
        content, media_type = "\ufeff".encode() + text.getvalue().encode(), "text/csv; charset=utf-8"
    filename = f"employers-template.{format}"
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
