from __future__ import annotations

from typing import Literal

from prevention.identity.v1 import identity_pb2
from pydantic import BaseModel, Field

from gateway.schemas.common import NOT_BLANK, Strict
from services.common.enums import EnumLabels

_LEVELS = EnumLabels(identity_pb2.TenantLevel).from_proto


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


class PoolingRegionCreate(Strict):
    code: str = Field(pattern=r"^[0-9]{4}00$", description="Prefecture-level GB/T 2260 code, not XX0000")
    parent_code: str = Field(pattern=r"^[0-9]{2}0000$", description="The province")
    display_name: str = Field(min_length=1, max_length=64, pattern=NOT_BLANK)
    display_name_en: str = Field(default="", max_length=64)

    def to_request(self, request_id: str) -> identity_pb2.CreateTenantRequest:
        return identity_pb2.CreateTenantRequest(
            tenant=identity_pb2.Tenant(code=self.code, parent_code=self.parent_code, display_name=self.display_name,
                                       display_name_en=self.display_name_en),
            request_id=request_id,
        )
