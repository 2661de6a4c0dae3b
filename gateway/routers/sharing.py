from __future__ import annotations

from fastapi import APIRouter
from prevention.sharing.v1 import sharing_pb2

from gateway.deps import BackendsDep, CurrentCaller
from gateway.problems import ERROR_RESPONSES
from gateway.routers.params import PageSize, PageToken, page_size
from gateway.schemas.sharing import KeyIndustry, KeyIndustryList

router = APIRouter(prefix="/v1", tags=["sharing"], responses=ERROR_RESPONSES)


@router.get("/key-industries", response_model=KeyIndustryList)
async def list_key_industries(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                              page_token: PageToken = "") -> KeyIndustryList:
    response = await backends.sharing.ListKeyIndustries(
        sharing_pb2.ListKeyIndustriesRequest(page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout,
    )
    return KeyIndustryList(key_industries=[KeyIndustry.from_proto(k) for k in response.key_industries],
                           next_page_token=response.next_page_token)
