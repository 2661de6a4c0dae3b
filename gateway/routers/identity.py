from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from prevention.identity.v1 import identity_pb2

from gateway.deps import BackendsDep, CurrentCaller
from gateway.problems import ERROR_RESPONSES
from gateway.routers.params import IdempotencyKey, PageSize, PageToken, page_size
from gateway.schemas.identity import PoolingRegionCreate, Tenant, TenantList

router = APIRouter(prefix="/v1", tags=["identity"], responses=ERROR_RESPONSES)
TenantCode = Annotated[str, Path(pattern=r"^\d{6}$", description="GB/T 2260 code")]
ParentCode = Annotated[str | None, Query(pattern=r"^\d{6}$", description="Only the children of this tenant")]


@router.get("/tenants", response_model=TenantList)
async def list_tenants(caller: CurrentCaller, backends: BackendsDep, parent: ParentCode = None,
                       page_size_: PageSize = 0, page_token: PageToken = "") -> TenantList:
    response = await backends.identity.ListTenants(
        identity_pb2.ListTenantsRequest(parent=f"tenants/{parent}" if parent else "",
                                        page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout,
    )
    return TenantList(tenants=[Tenant.from_proto(t) for t in response.tenants],
                      next_page_token=response.next_page_token)


@router.get("/tenants/{code}", response_model=Tenant)
async def get_tenant(code: TenantCode, caller: CurrentCaller, backends: BackendsDep) -> Tenant:
    response = await backends.identity.GetTenant(identity_pb2.GetTenantRequest(name=f"tenants/{code}"),
                                                 timeout=backends.timeout)
    return Tenant.from_proto(response.tenant)


@router.post("/tenants", response_model=Tenant, status_code=201)
async def create_pooling_region(body: PoolingRegionCreate, caller: CurrentCaller, backends: BackendsDep,
                                idempotency_key: IdempotencyKey = None) -> Tenant:
    """Adds a pooling region (统筹地区) under a province (ministry operators)."""
    response = await backends.identity.CreateTenant(body.to_request(idempotency_key or ""), timeout=backends.timeout)
    return Tenant.from_proto(response.tenant)
