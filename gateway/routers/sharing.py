from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from prevention.sharing.v1 import sharing_pb2

from gateway.deps import BackendsDep, CurrentCaller
from gateway.problems import ERROR_RESPONSES
from gateway.routers.params import IdempotencyKey, PageSize, PageToken, page_size
from gateway.schemas.sharing import (
    DATE,
    Accident,
    AccidentCorrect,
    AccidentCreate,
    AccidentList,
    AccidentVoid,
    KeyIndustry,
    KeyIndustryCreate,
    KeyIndustryList,
    Severity,
    SharingAgreement,
    SharingAgreementCreate,
    SharingAgreementList,
)
from services.common.enums import EnumLabels

router = APIRouter(prefix="/v1", tags=["sharing"], responses=ERROR_RESPONSES)
AccidentId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
AgreementId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
DateQuery = Annotated[str, Query(max_length=10, pattern=DATE.rstrip("$") + "$|^$",
                                 description="YYYY-MM-DD (CST), inclusive")]
_SEVERITY = EnumLabels(sharing_pb2.AccidentSeverity)


@router.get("/key-industries", response_model=KeyIndustryList)
async def list_key_industries(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                              page_token: PageToken = "") -> KeyIndustryList:
    response = await backends.sharing.ListKeyIndustries(
        sharing_pb2.ListKeyIndustriesRequest(page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout,
    )
    return KeyIndustryList(key_industries=[KeyIndustry.from_proto(k) for k in response.key_industries],
                           next_page_token=response.next_page_token)


@router.post("/key-industries", response_model=KeyIndustry, status_code=201)
async def create_key_industry(body: KeyIndustryCreate, caller: CurrentCaller, backends: BackendsDep,
                              response: Response) -> KeyIndustry:
    """Adds a local key industry to the caller's tenant; analytics count it at once. The same code
    with the same content replays (200)."""
    reply = await backends.sharing.CreateKeyIndustry(
        sharing_pb2.CreateKeyIndustryRequest(key_industry=body.to_proto()), timeout=backends.timeout)
    if reply.replayed:
        response.status_code = 200
    return KeyIndustry.from_proto(reply.key_industry)


@router.delete("/key-industries/{code}", status_code=204, response_class=Response)
async def delete_key_industry(code: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,63}$")], caller: CurrentCaller,
                              backends: BackendsDep) -> Response:
    """Removes a key industry the caller's tenant added."""
    await backends.sharing.DeleteKeyIndustry(sharing_pb2.DeleteKeyIndustryRequest(name=f"keyIndustries/{code}"),
                                             timeout=backends.timeout)
    return Response(status_code=204)


# -- accidents (SH-1, SH-3): fields a sharing agreement withholds are absent (exclude_unset) -----


@router.post("/accidents", response_model=Accident, status_code=201, response_model_exclude_unset=True)
async def create_accident(body: AccidentCreate, caller: CurrentCaller, backends: BackendsDep,
                          idempotency_key: IdempotencyKey = None) -> Accident:
    """Idempotent by `publisher_record_id`: the same id and content replays the stored record (201);
    the same id with different content is 409 PUBLISHER_RECORD_ID_EXISTS (correct the record instead)."""
    response = await backends.sharing.CreateAccident(
        sharing_pb2.CreateAccidentRequest(accident=body.to_proto(body.publisher_record_id),
                                          request_id=idempotency_key or ""),
        timeout=backends.timeout,
    )
    return Accident.from_proto(response.accident)


@router.get("/accidents", response_model=AccidentList, response_model_exclude_unset=True)
async def list_accidents(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                         page_token: PageToken = "", occurred_from: DateQuery = "", occurred_to: DateQuery = "",
                         industry_prefix: Annotated[str, Query(max_length=5, pattern=r"^([A-T][0-9]{0,4})?$")] = "",
                         severity: Severity | None = None) -> AccidentList:
    response = await backends.sharing.ListAccidents(
        sharing_pb2.ListAccidentsRequest(
            page_size=page_size(page_size_), page_token=page_token, occurred_from=occurred_from,
            occurred_to=occurred_to, industry_prefix=industry_prefix,
            severity=_SEVERITY.to_proto[severity] if severity else 0,
        ),
        timeout=backends.timeout,
    )
    return AccidentList(accidents=[Accident.from_proto(a) for a in response.accidents],
                        next_page_token=response.next_page_token)


@router.get("/accidents/{accident_id}", response_model=Accident, response_model_exclude_unset=True)
async def get_accident(accident_id: AccidentId, caller: CurrentCaller, backends: BackendsDep) -> Accident:
    response = await backends.sharing.GetAccident(sharing_pb2.GetAccidentRequest(name=f"accidents/{accident_id}"),
                                                  timeout=backends.timeout)
    return Accident.from_proto(response.accident)


@router.post("/accidents/{accident_id}/correct", response_model=Accident, response_model_exclude_unset=True)
async def correct_accident(accident_id: AccidentId, body: AccidentCorrect, caller: CurrentCaller,
                           backends: BackendsDep, idempotency_key: IdempotencyKey = None) -> Accident:
    """A new version with all data fields replaced; only the publisher may correct; 409 if voided."""
    response = await backends.sharing.CorrectAccident(
        sharing_pb2.CorrectAccidentRequest(name=f"accidents/{accident_id}", accident=body.to_proto(),
                                           request_id=idempotency_key or ""),
        timeout=backends.timeout,
    )
    return Accident.from_proto(response.accident)


@router.post("/accidents/{accident_id}/void", response_model=Accident, response_model_exclude_unset=True)
async def void_accident(accident_id: AccidentId, body: AccidentVoid, caller: CurrentCaller, backends: BackendsDep,
                        idempotency_key: IdempotencyKey = None) -> Accident:
    """Final; voiding a voided record changes nothing. Only the publisher may void."""
    response = await backends.sharing.VoidAccident(
        sharing_pb2.VoidAccidentRequest(name=f"accidents/{accident_id}", reason=body.reason,
                                        request_id=idempotency_key or ""),
        timeout=backends.timeout,
    )
    return Accident.from_proto(response.accident)


# -- sharing agreements (SH-2) ----------------------------------------------------------------------


@router.post("/sharing-agreements", response_model=SharingAgreement, status_code=201)
async def create_sharing_agreement(body: SharingAgreementCreate, caller: CurrentCaller, backends: BackendsDep,
                                   idempotency_key: IdempotencyKey = None) -> SharingAgreement:
    response = await backends.sharing.CreateSharingAgreement(
        sharing_pb2.CreateSharingAgreementRequest(sharing_agreement=body.to_proto(),
                                                  request_id=idempotency_key or ""),
        timeout=backends.timeout,
    )
    return SharingAgreement.from_proto(response.sharing_agreement)


@router.get("/sharing-agreements", response_model=SharingAgreementList)
async def list_sharing_agreements(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                                  page_token: PageToken = "") -> SharingAgreementList:
    response = await backends.sharing.ListSharingAgreements(
        sharing_pb2.ListSharingAgreementsRequest(page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout,
    )
    return SharingAgreementList(
        sharing_agreements=[SharingAgreement.from_proto(a) for a in response.sharing_agreements],
        next_page_token=response.next_page_token,
    )


@router.post("/sharing-agreements/{agreement_id}/revoke", response_model=SharingAgreement)
async def revoke_sharing_agreement(agreement_id: AgreementId, caller: CurrentCaller,
                                   backends: BackendsDep) -> SharingAgreement:
    response = await backends.sharing.RevokeSharingAgreement(
        sharing_pb2.RevokeSharingAgreementRequest(name=f"sharingAgreements/{agreement_id}"),
        timeout=backends.timeout,
    )
    return SharingAgreement.from_proto(response.sharing_agreement)
