from __future__ import annotations

from prevention.identity.v1 import identity_pb2

from services.identity.models import Tenant

_LEVELS = {
    "national": identity_pb2.TENANT_LEVEL_NATIONAL,
    "province": identity_pb2.TENANT_LEVEL_PROVINCE,
    "pooling_region": identity_pb2.TENANT_LEVEL_POOLING_REGION,
}


def tenant_to_proto(tenant: Tenant) -> identity_pb2.Tenant:
    return identity_pb2.Tenant(
        name=f"tenants/{tenant.code}",
        code=tenant.code,
        display_name=tenant.display_name,
        display_name_en=tenant.display_name_en,
        parent_code=tenant.parent_code or "",
        level=_LEVELS.get(tenant.level, identity_pb2.TENANT_LEVEL_UNSPECIFIED),
    )
