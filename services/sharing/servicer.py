"""gRPC adapter: proto <-> domain; owns the transaction."""

from __future__ import annotations

from pathlib import Path

from prevention.sharing.v1 import sharing_pb2, sharing_pb2_grpc

from services.common.context import current_caller
from services.common.db import Database
from services.common.pagination import clamp_page_size, decode_page_token, encode_page_token
from services.common.policy import Policy
from services.common.server import Registration
from services.sharing import service
from services.sharing.models import KeyIndustry


def key_industry_to_proto(row: KeyIndustry) -> sharing_pb2.KeyIndustry:
    return sharing_pb2.KeyIndustry(
        name=f"keyIndustries/{row.code}",
        code=row.code,
        display_name=row.display_name,
        display_name_en=row.display_name_en,
        divisions=row.divisions,
        tenant_code=row.tenant_code,
    )


class SharingServicer(sharing_pb2_grpc.SharingServiceServicer):
    def __init__(self, database: Database):
        self.db = database

    async def ListKeyIndustries(self, request, context):
        size = clamp_page_size(request.page_size)
        after = decode_page_token(request.page_token, shape=(str, str))
        async with self.db.session() as session:
            rows = await service.list_key_industries(
                session=session, caller=current_caller(), after=tuple(after) if after else None, limit=size + 1
            )
        last = rows[size - 1] if len(rows) > size else None
        return sharing_pb2.ListKeyIndustriesResponse(
            key_industries=[key_industry_to_proto(r) for r in rows[:size]],
            next_page_token=encode_page_token([last.tenant_code, last.code]) if last else "",
        )


POLICY_FILE = Path(__file__).with_name("policy.yaml")


def build(*, database: Database, **_) -> Registration:
    servicer = SharingServicer(database)
    return Registration(
        add_to_server=lambda server: sharing_pb2_grpc.add_SharingServiceServicer_to_server(servicer, server),
        service_names=[sharing_pb2.DESCRIPTOR.services_by_name["SharingService"].full_name],
        policy=Policy.load(POLICY_FILE),
    )
