from __future__ import annotations

from typing import Literal

from prevention.identity.v1 import identity_pb2
from pydantic import BaseModel

_LEVELS = {
    identity_pb2.TENANT_LEVEL_NATIONAL: "national",
    identity_pb2.TENANT_LEVEL_PROVINCE: "province",
    identity_pb2.TENANT_LEVEL_POOLING_REGION: "pooling_region",
}


class Tenant(BaseModel):
    code: str
    display_name: str
    display_name_en: str
    parent_code: str | None
    level: Literal["national", "province", "pooling_region"]

    @classmethod
    def from_proto(cls, m: identity_pb2.Tenant) -> Tenant:
        return cls(code=m.code, display_name=m.display_name, display_name_en=m.display_name_en,
                   parent_code=m.parent_code or None, level=_LEVELS[m.level])


class TenantList(BaseModel):
    tenants: list[Tenant]
    next_page_token: str
