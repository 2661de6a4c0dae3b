from __future__ import annotations

import json

from google.protobuf import timestamp_pb2
from prevention.identity.v1 import identity_pb2

from services.common.clock import as_utc
from services.common.enums import EnumLabels
from services.identity.models import ApiClient, AuditEventRow, Tenant, User

_LEVELS = EnumLabels(identity_pb2.TenantLevel).to_proto


def tenant_to_proto(tenant: Tenant) -> identity_pb2.Tenant:
    return identity_pb2.Tenant(
        name=f"tenants/{tenant.code}",
        code=tenant.code,
        display_name=tenant.display_name,
        display_name_en=tenant.display_name_en,
        parent_code=tenant.parent_code or "",
        level=_LEVELS.get(tenant.level, identity_pb2.TENANT_LEVEL_UNSPECIFIED),
    )


def timestamp(value) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(as_utc(value))
    return ts


def user_to_proto(user: User, personal: dict[str, str]) -> identity_pb2.User:
    return identity_pb2.User(
        name=f"users/{user.id}", username=user.username, display_name=user.display_name,
        tenant_code=user.tenant_code,
        organisation=f"organisations/{user.organisation_id}" if user.organisation_id else "",
        roles=list(user.roles), citizen_id=personal["citizen_id"], phone=personal["phone"], email=personal["email"],
        enabled=user.enabled, totp_enabled=user.totp_enabled, create_time=timestamp(user.create_time),
    )


def client_to_proto(client: ApiClient) -> identity_pb2.ApiClient:
    return identity_pb2.ApiClient(
        name=f"apiClients/{client.client_id}", client_id=client.client_id, display_name=client.display_name,
        tenant_code=client.tenant_code,
        organisation=f"organisations/{client.organisation_id}" if client.organisation_id else "",
        roles=list(client.roles), scopes=list(client.scopes), enabled=client.enabled,
        create_time=timestamp(client.create_time),
    )


def audit_to_proto(row: AuditEventRow) -> identity_pb2.AuditEvent:
    return identity_pb2.AuditEvent(
        name=f"auditEvents/{row.id}", event_time=timestamp(row.event_time), kind=row.kind,
        tenant_code=row.tenant_code, actor=row.actor, target=row.target, outcome=row.outcome,
        detail_json=json.dumps(row.detail, ensure_ascii=False, sort_keys=True),
    )
