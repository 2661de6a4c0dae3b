from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Literal

from prevention.identity.v1 import identity_pb2
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.schemas.common import NOT_BLANK, PHONE, Strict

Role = Literal["ministry_operator", "provincial_operator", "department_liaison", "employer_officer", "trainee",
               "expert", "training_platform", "service_institution"]
MachineRole = Literal["training_platform", "service_institution"]
Scope = Literal["learning_records.write", "learning_records.read", "xapi", "openid", "profile"]
USERNAME = r"^[a-z0-9][a-z0-9._-]{2,63}$"
DISPLAY_NAME = NOT_BLANK
CITIZEN_ID = r"^([0-9]{17}[0-9X])?$"
EMAIL = r"^([^@\s]{1,64}@[^@\s.]{1,63}\.[A-Za-z]{2,})?$"
ORGANISATION = r"^(organisations/[0-9a-f]{32})?$"


class UserCreate(Strict):
    username: str = Field(pattern=USERNAME, max_length=64)
    display_name: str = Field(min_length=1, max_length=128, pattern=DISPLAY_NAME)
    roles: list[Role] = Field(min_length=1, max_length=8,
                              description="A provincial operator cannot grant ministry_operator")
    password: str = Field(min_length=12, max_length=256, description="At least 12 characters with letters and digits")
    organisation: str = Field(default="", pattern=ORGANISATION,
                              description="An existing organisation of the user's tenant")
    citizen_id: str = Field(default="", pattern=CITIZEN_ID,
                            description="Personal data (GB 11643-1999, check character validated); stored encrypted")
    phone: str = Field(default="", pattern=PHONE, description="Personal data")
    email: str = Field(default="", pattern=EMAIL, max_length=320, description="Personal data")
    tenant_code: str = Field(default="", pattern=r"^([0-9]{6})?$",
                             description="Ministry operators only: the tenant to create the user in")

    def to_request(self, request_id: str) -> identity_pb2.CreateUserRequest:
        return identity_pb2.CreateUserRequest(
            user=identity_pb2.User(username=self.username, display_name=self.display_name, roles=self.roles,
                                   organisation=self.organisation, citizen_id=self.citizen_id, phone=self.phone,
                                   email=self.email),
            password=self.password, tenant_code=self.tenant_code, request_id=request_id,
        )


class AtLeastOneField(Strict):
    """PATCH bodies name at least one field (they become the update mask); a field present must
    carry a value (null is not a value: fields default to None only when absent)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    @model_validator(mode="after")
    def _not_empty(self):
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        return self


class UserUpdate(AtLeastOneField):
    display_name: str = Field(default=None, min_length=1, max_length=128, pattern=DISPLAY_NAME)
    roles: list[Role] = Field(default=None, min_length=1, max_length=8)
    enabled: bool = None
    phone: str = Field(default=None, pattern=PHONE)
    email: str = Field(default=None, pattern=EMAIL, max_length=320)
    organisation: str = Field(default=None, pattern=ORGANISATION)

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
                   totp_enabled=m.totp_enabled, create_time=m.create_time.ToDatetime(tzinfo=UTC))


class UserList(BaseModel):
    users: list[User]
    next_page_token: str


class TotpEnrolment(BaseModel):
    secret: str
    otpauth_uri: str


class TotpConfirm(Strict):
    code: str = Field(pattern=r"^[0-9]{6,8}$")


class ApiClientCreate(Strict):
    display_name: str = Field(min_length=1, max_length=128, pattern=DISPLAY_NAME)
    client_id: str = Field(default="", pattern=r"^([a-z0-9][a-z0-9-]{2,47})?$", description="Generated when empty")
    organisation: str = Field(default="", pattern=ORGANISATION)
    roles: list[MachineRole] = Field(min_length=1, max_length=2)
    scopes: list[Scope] = Field(default_factory=list, max_length=5)
    tenant_code: str = Field(default="", pattern=r"^([0-9]{6})?$", description="Ministry operators only")

    def to_request(self, request_id: str) -> identity_pb2.CreateApiClientRequest:
        return identity_pb2.CreateApiClientRequest(
            api_client=identity_pb2.ApiClient(client_id=self.client_id, display_name=self.display_name,
                                              organisation=self.organisation, roles=self.roles, scopes=self.scopes),
            tenant_code=self.tenant_code, request_id=request_id,
        )


class ApiClientUpdate(AtLeastOneField):
    display_name: str = Field(default=None, min_length=1, max_length=128, pattern=DISPLAY_NAME)
    roles: list[MachineRole] = Field(default=None, min_length=1, max_length=2)
    scopes: list[Scope] = Field(default=None, max_length=5)
    enabled: bool = None

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
                   enabled=m.enabled, create_time=m.create_time.ToDatetime(tzinfo=UTC))


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
        return cls(id=m.name.removeprefix("auditEvents/"), event_time=m.event_time.ToDatetime(tzinfo=UTC), kind=m.kind,
                   tenant_code=m.tenant_code, actor=m.actor, target=m.target, outcome=m.outcome,
                   detail=json.loads(m.detail_json or "{}"))


class AuditEventList(BaseModel):
    audit_events: list[AuditEvent]
    next_page_token: str
