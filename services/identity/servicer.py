"""gRPC adapter: proto <-> domain; owns the transaction."""

from __future__ import annotations

from pathlib import Path

from prevention.identity.v1 import identity_pb2, identity_pb2_grpc

from services.common.clock import SystemClock
from services.common.context import current_caller
from services.common.db import Database
from services.common.pagination import clamp_page_size, decode_page_token, encode_page_token
from services.common.pii import PiiKeyring
from services.common.policy import Policy
from services.common.server import Registration
from services.identity import service
from services.identity.convert import tenant_to_proto
from services.identity.rpc_organisations import OrganisationRpcs
from services.identity.rpc_tokens import TokenRpcs
from services.identity.rpc_users import UserRpcs


class IdentityServicer(OrganisationRpcs, UserRpcs, TokenRpcs, identity_pb2_grpc.IdentityServiceServicer):
    """The RPCs of IdentityService, one mixin per area (rpc_*.py). Every mixin may use
    ``self.db`` (Database), ``self.keyring`` (services.common.pii.PiiKeyring), ``self.clock``
    (services.common.clock.Clock) and ``self.settings`` (PlatformSettings)."""

    def __init__(self, database: Database, *, keyring, clock, settings):
        self.db = database
        self.keyring = keyring
        self.clock = clock
        self.settings = settings

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


def build(*, database: Database, settings, clock=None, keyring=None, **_) -> Registration:
    keyring = keyring or PiiKeyring.from_settings(settings)
    servicer = IdentityServicer(database, keyring=keyring, clock=clock or SystemClock(), settings=settings)
    return Registration(
        add_to_server=lambda server: identity_pb2_grpc.add_IdentityServiceServicer_to_server(servicer, server),
        service_names=[identity_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name],
        policy=Policy.load(POLICY_FILE),
    )
