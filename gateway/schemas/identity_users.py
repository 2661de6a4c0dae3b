from __future__ import annotations

import json
from datetime import datetime

from prevention.identity.v1 import identity_pb2
from pydantic import BaseModel, Field

from gateway.schemas.common import Strict


class UserCreate(Strict):
    username: str = Field(min_length=3, max_length=64)
    display_name: str = Field(min_length=1, max_length=128)
    roles: list[str] = Field(min_length=1, max_length=8)
    password: str = Field(min_length=1, max_length=256)
    organisation: str = ""
    citizen_id: str = Field(default="", max_length=32, description="Personal data; stored encrypted, shown masked")
    phone: str = Field(default="", max_length=32, description="Personal data")
    email: str = Field(default="", max_length=320, description="Personal data")
    tenant_code: str = Field(default="", description="Ministry operators only: the tenant to create the user in")

    def to_request(self, request_id: str) -> identity_pb2.CreateUserRequest:
        return identity_pb2.CreateUserRequest(
            user=identity_pb2.User(username=self.username, display_name=self.display_name, roles=self.roles,
                                   organisation=self.organisation, citizen_id=self.citizen_id, phone=self.phone,
                                   email=self.email),
            password=self.password, tenant_code=self.tenant_code, request_id=request_id,
        )


class UserUpdate(Strict):
    display_name: str | None = Field(default=None, max_length=128)
    roles: list[str] | None = None
    enabled: bool | None = None
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=320)
    organisation: str | None = None

    def to_request(self, user_id: str) -> identity_pb2.UpdateUserRequest:
        present = self.model_dump(exclude_unset=True)
        user = identity_pb2.User(name=f"users/{user_id}", display_name=self.display_name or "",
                                 roles=self.roles or [], enabled=bool(self.enabled), phone=self.phone or "",
                                 email=self.email or "", organisation=self.organisation or "")
        return identity_pb2.UpdateUserRequest(user=user, update_mask=sorted(present))


class User(BaseModel):
    id: str
    username: str
    display_name: str
    tenant_code: str
    organisation: str | None
    roles: list[str]
    citizen_id: str
    phone: str
    email: str
    enabled: bool
    totp_enabled: bool
    create_time: datetime

    @classmethod
    def from_proto(cls, m: identity_pb2.User) -> User:
        return cls(id=m.name.removeprefix("users/"), username=m.username, display_name=m.display_name,
                   tenant_code=m.tenant_code, organisation=m.organisation or None, roles=list(m.roles),
                   citizen_id=m.citizen_id, phone=m.phone, email=m.email, enabled=m.enabled,
                   totp_enabled=m.totp_enabled, create_time=m.create_time.ToDatetime())


class UserList(BaseModel):
    users: list[User]
    next_page_token: str


class TotpEnrolment(BaseModel):
    secret: str
    otpauth_uri: str


class TotpConfirm(Strict):
    code: str = Field(min_length=6, max_length=8)


class ApiClientCreate(Strict):
    display_name: str = Field(min_length=1, max_length=128)
    client_id: str = Field(default="", max_length=48)
    organisation: str = ""
    roles: list[str] = Field(min_length=1)
    scopes: list[str] = Field(default_factory=list)
    tenant_code: str = Field(default="", description="Ministry operators only")

    def to_request(self, request_id: str) -> identity_pb2.CreateApiClientRequest:
        return identity_pb2.CreateApiClientRequest(
            api_client=identity_pb2.ApiClient(client_id=self.client_id, display_name=self.display_name,
                                              organisation=self.organisation, roles=self.roles, scopes=self.scopes),
            tenant_code=self.tenant_code, request_id=request_id,
        )


class ApiClientUpdate(Strict):
    display_name: str | None = Field(default=None, max_length=128)
    roles: list[str] | None = None
    scopes: list[str] | None = None
    enabled: bool | None = None

    def to_request(self, client_id: str) -> identity_pb2.UpdateApiClientRequest:
        present = self.model_dump(exclude_unset=True)
        client = identity_pb2.ApiClient(name=f"apiClients/{client_id}", display_name=self.display_name or "",
                                        roles=self.roles or [], scopes=self.scopes or [], enabled=bool(self.enabled))
        return identity_pb2.UpdateApiClientRequest(api_client=client, update_mask=sorted(present))


class ApiClient(BaseModel):
    client_id: str
    display_name: str
    tenant_code: str
    organisation: str | None
    roles: list[str]
    scopes: list[str]
    enabled: bool
    create_time: datetime

    @classmethod
    def from_proto(cls, m: identity_pb2.ApiClient) -> ApiClient:
        return cls(client_id=m.client_id, display_name=m.display_name, tenant_code=m.tenant_code,
                   organisation=m.organisation or None, roles=list(m.roles), scopes=list(m.scopes),
                   enabled=m.enabled, create_time=m.create_time.ToDatetime())


class ApiClientCreated(BaseModel):
    api_client: ApiClient
    client_secret: str = Field(description="Shown once; only its hash is stored")


class ApiClientList(BaseModel):
    api_clients: list[ApiClient]
    next_page_token: str


class SecretRotation(Strict):
    overlap_seconds: int = Field(default=0, ge=0, le=30 * 86400, description="0 = one day")


class RotatedSecret(BaseModel):
    client_secret: str
    previous_secret_expire_time: datetime


class AuditEvent(BaseModel):
    id: str
    event_time: datetime
    kind: str
    tenant_code: str
    actor: str
    target: str
    outcome: str
    detail: dict

    @classmethod
    def from_proto(cls, m: identity_pb2.AuditEvent) -> AuditEvent:
        return cls(id=m.name.removeprefix("auditEvents/"), event_time=m.event_time.ToDatetime(), kind=m.kind,
                   tenant_code=m.tenant_code, actor=m.actor, target=m.target, outcome=m.outcome,
                   detail=json.loads(m.detail_json or "{}"))


class AuditEventList(BaseModel):
    audit_events: list[AuditEvent]
    next_page_token: str
