"""gRPC adapter: proto <-> domain; owns the transaction."""

from __future__ import annotations

from pathlib import Path

from prevention.identity.v1 import identity_pb2, identity_pb2_grpc

from services.common.clock import SystemClock
from services.common.context import current_caller
from services.common.db import Database
from services.common.idempotency import idempotent_rpc
from services.common.lease import leader_lock
from services.common.pagination import clamp_page_size, decode_page_token, encode_page_token
from services.common.pii import PiiKeyring
from services.common.policy import Policy
from services.common.server import Registration
from services.identity import notifications, service
from services.identity.convert import tenant_to_proto
from services.identity.models import IdempotencyKeys
from services.identity.provisioning import Provisioner, provisioner_from_env
from services.identity.rpc_notifications import NotificationRpcs
from services.identity.rpc_organisations import OrganisationRpcs
from services.identity.rpc_tokens import TokenRpcs
from services.identity.rpc_users import UserRpcs


class IdentityServicer(OrganisationRpcs, UserRpcs, TokenRpcs, NotificationRpcs,
                       identity_pb2_grpc.IdentityServiceServicer):
    """The RPCs of IdentityService, one mixin per area (rpc_*.py). Every mixin may use
    ``self.db`` (Database), ``self.keyring`` (services.common.pii.PiiKeyring), ``self.clock``
    (services.common.clock.Clock), ``self.settings`` (PlatformSettings) and ``self.provisioner``
    (services.identity.provisioning: the token issuer to mirror changes into)."""

    def __init__(self, database: Database, *, keyring, clock, settings, provisioner: Provisioner):
        self.db = database
        self.keyring = keyring
        self.clock = clock
        self.settings = settings
        self.provisioner = provisioner

    async def GetTenant(self, request, context):
        code = service.parse_tenant_name(request.name)
        async with self.db.session() as session:
            tenant = await service.get_tenant(session=session, caller=current_caller(), code=code)
        return identity_pb2.GetTenantResponse(tenant=tenant_to_proto(tenant))

    async def CreateTenant(self, request, context):
        caller = current_caller()
        t = request.tenant

        async def work(session):
            tenant = await service.create_pooling_region(session=session, code=t.code, parent_code=t.parent_code,
                                                         display_name=t.display_name,
                                                         display_name_en=t.display_name_en)
            return identity_pb2.CreateTenantResponse(tenant=tenant_to_proto(tenant))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method="CreateTenant",
                                    request=request, response_type=identity_pb2.CreateTenantResponse, work=work)

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


def build(*, database: Database, settings, clock=None, keyring=None, delivery=None, provisioner=None,
          **_) -> Registration:
    keyring = keyring or PiiKeyring.from_settings(settings)
    servicer = IdentityServicer(database, keyring=keyring, clock=clock or SystemClock(), settings=settings,
                                provisioner=provisioner or provisioner_from_env())
    # Notification e-mail/webhook copies (PREVENTION_SMTP_*, PREVENTION_WEBHOOK*): a periodic job when on.
    servicer.delivery = delivery or notifications.Delivery.from_settings(settings.profile)
    deliver = notifications.delivery_background(
        sessionmaker=database.sessionmaker, delivery=servicer.delivery, keyring=keyring, clock=servicer.clock,
        lock=leader_lock(settings, "identity-notification-delivery"),
    )
    return Registration(
        add_to_server=lambda server: identity_pb2_grpc.add_IdentityServiceServicer_to_server(servicer, server),
        service_names=[identity_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name],
        policy=Policy.load(POLICY_FILE),
        background=[deliver] if deliver else [],
    )
