from __future__ import annotations

from prevention.sharing.v1 import sharing_pb2
from pydantic import BaseModel


class KeyIndustry(BaseModel):
    code: str
    display_name: str
    display_name_en: str
    divisions: list[str]
    tenant_code: str

    @classmethod
    def from_proto(cls, m: sharing_pb2.KeyIndustry) -> KeyIndustry:
        return cls(code=m.code, display_name=m.display_name, display_name_en=m.display_name_en,
                   divisions=list(m.divisions), tenant_code=m.tenant_code)


class KeyIndustryList(BaseModel):
    key_industries: list[KeyIndustry]
    next_page_token: str
