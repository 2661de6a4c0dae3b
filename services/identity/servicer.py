"""gRPC adapter: proto <-> domain; owns the transaction."""

from __future__ import annotations

from pathlib import Path

from prevention.identity.v1 import identity_pb2, identity_pb2_grpc

from services.common.context import current_caller
from services.common.db import Database
from services.common.pagination import clamp_page_size, decode_page_token, encode_page_token
from services.common.policy import Policy
from services.common.server import Registration
from services.identity import service
from services.identity.convert import tenant_to_proto


class IdentityServicer(identity_pb2_grpc.IdentityServiceServicer):
    def __init__(self, database: Database):
        self.db = database

    async def GetTenant(self, request, context):
        code = service.parse_tenant_name(request.name)
        async with self.db.session() as session:
            tenant = await service.get_tenant(session=session, caller=current_caller(), code=code)
        return identity_pb2.GetTenantResponse(tenant=tenant_to_proto(tenant))

    async def ListTenants(self, request, context):
        parent = service.parse_tenant_name(request.parent, "parent") if request.parent else None
        size = clamp_page_size(request.page_size)
        query = {"parent": parent}
        after = decode_page_token(request.page_token, query)
        async with self.db.session() as session:
            rows = await service.list_tenants(
                session=session, caller=current_caller(), parent_code=parent,
                after=after[0] if after else None, limit=size + 1,
            )
        next_token = encode_page_token([rows[size - 1].code], query) if len(rows) > size else ""
        return identity_pb2.ListTenantsResponse(
            tenants=[tenant_to_proto(t) for t in rows[:size]], next_page_token=next_token
        )


POLICY_FILE = Path(__file__).with_name("policy.yaml")


def build(*, database: Database, **_) -> Registration:
    servicer = IdentityServicer(database)
    return Registration(
        add_to_server=lambda server: identity_pb2_grpc.add_IdentityServiceServicer_to_server(servicer, server),
        service_names=[identity_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name],
        policy=Policy.load(POLICY_FILE),
    )
