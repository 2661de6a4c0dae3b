"""Bulletins (SPEC SH-7): the ministry circulates typical accidents; each province acknowledges."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from prevention.sharing.v1 import sharing_pb2

from gateway.deps import BackendsDep, CurrentCaller
from gateway.problems import ERROR_RESPONSES
from gateway.routers.params import IdempotencyKey, PageSize, PageToken, page_size
from gateway.schemas.bulletins import Bulletin, BulletinCreate, BulletinList, UnacknowledgedProvinces

router = APIRouter(prefix="/v1", tags=["bulletins"], responses=ERROR_RESPONSES)
BulletinId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.post("/bulletins", response_model=Bulletin, status_code=201)
async def create_bulletin(body: BulletinCreate, caller: CurrentCaller, backends: BackendsDep,
                          idempotency_key: IdempotencyKey = None) -> Bulletin:
    """Ministry operators. A retry with the same Idempotency-Key creates nothing new."""
    response = await backends.sharing.CreateBulletin(
        sharing_pb2.CreateBulletinRequest(bulletin=body.to_proto(), request_id=idempotency_key or ""),
        timeout=backends.timeout,
    )
    return Bulletin.from_proto(response.bulletin)


@router.get("/bulletins", response_model=BulletinList)
async def list_bulletins(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                         page_token: PageToken = "") -> BulletinList:
    """Newest first, each with whether the caller's province has acknowledged it."""
    response = await backends.sharing.ListBulletins(
        sharing_pb2.ListBulletinsRequest(page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout,
    )
    return BulletinList(bulletins=[Bulletin.from_proto(b) for b in response.bulletins],
                        next_page_token=response.next_page_token)


@router.get("/bulletins/{bulletin_id}", response_model=Bulletin)
async def get_bulletin(bulletin_id: BulletinId, caller: CurrentCaller, backends: BackendsDep) -> Bulletin:
    response = await backends.sharing.GetBulletin(sharing_pb2.GetBulletinRequest(name=f"bulletins/{bulletin_id}"),
                                                  timeout=backends.timeout)
    return Bulletin.from_proto(response.bulletin)


@router.post("/bulletins/{bulletin_id}/acknowledge", response_model=Bulletin)
async def acknowledge_bulletin(bulletin_id: BulletinId, caller: CurrentCaller, backends: BackendsDep) -> Bulletin:
    """A provincial operator, for its province; acknowledging again returns the first acknowledgement."""
    response = await backends.sharing.AcknowledgeBulletin(
        sharing_pb2.AcknowledgeBulletinRequest(name=f"bulletins/{bulletin_id}"), timeout=backends.timeout,
    )
    return Bulletin.from_proto(response.bulletin)


@router.get("/bulletins/{bulletin_id}/unacknowledged", response_model=UnacknowledgedProvinces)
async def list_unacknowledged(bulletin_id: BulletinId, caller: CurrentCaller,
                              backends: BackendsDep) -> UnacknowledgedProvinces:
    """Ministry operators: the provinces (of the 32) that have not acknowledged the bulletin."""
    response = await backends.sharing.ListUnacknowledged(
        sharing_pb2.ListUnacknowledgedRequest(name=f"bulletins/{bulletin_id}"), timeout=backends.timeout,
    )
    return UnacknowledgedProvinces.from_proto(response)
