"""Users, TOTP enrolment, API clients and the security audit (SPEC ID-3, ID-4, ID-7)."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Path, Query
from prevention.identity.v1 import identity_pb2

from gateway.deps import BackendsDep, CurrentCaller
from gateway.problems import ERROR_RESPONSES
from gateway.routers.params import IdempotencyKey, PageSize, PageToken, page_size
from gateway.schemas.identity_users import (
    ApiClient,
    ApiClientCreate,
    ApiClientCreated,
    ApiClientList,
    ApiClientUpdate,
    AuditEvent,
    AuditEventList,
    RotatedSecret,
    SecretRotation,
    TotpConfirm,
    TotpEnrolment,
    User,
    UserCreate,
    UserList,
    UserUpdate,
)

router = APIRouter(prefix="/v1", tags=["identity"], responses=ERROR_RESPONSES)
UserId = Annotated[str, Path(pattern=r"^([0-9a-f]{32}|me)$", description="a user id, or `me`")]
ClientId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{2,47}$")]


@router.post("/users", response_model=User, status_code=201)
async def create_user(body: UserCreate, caller: CurrentCaller, backends: BackendsDep,
                      idempotency_key: IdempotencyKey = None) -> User:
    response = await backends.identity.CreateUser(body.to_request(idempotency_key or ""), timeout=backends.timeout)
    return User.from_proto(response.user)


@router.get("/users", response_model=UserList)
async def list_users(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                     page_token: PageToken = "") -> UserList:
    response = await backends.identity.ListUsers(
        identity_pb2.ListUsersRequest(page_size=page_size(page_size_), page_token=page_token), timeout=backends.timeout
    )
    return UserList(users=[User.from_proto(u) for u in response.users], next_page_token=response.next_page_token)


@router.get("/users/{user_id}", response_model=User)
async def get_user(user_id: UserId, caller: CurrentCaller, backends: BackendsDep) -> User:
    response = await backends.identity.GetUser(identity_pb2.GetUserRequest(name=f"users/{user_id}"),
                                               timeout=backends.timeout)
    return User.from_proto(response.user)


@router.patch("/users/{user_id}", response_model=User)
async def update_user(user_id: UserId, body: UserUpdate, caller: CurrentCaller, backends: BackendsDep) -> User:
    response = await backends.identity.UpdateUser(body.to_request(user_id), timeout=backends.timeout)
    return User.from_proto(response.user)


@router.post("/users/me/totp", response_model=TotpEnrolment, status_code=201)
async def enroll_totp(caller: CurrentCaller, backends: BackendsDep) -> TotpEnrolment:
    """Starts TOTP enrolment; the secret is shown once. Confirm with a current code."""
    response = await backends.identity.EnrollTotp(identity_pb2.EnrollTotpRequest(), timeout=backends.timeout)
    return TotpEnrolment(secret=response.secret, otpauth_uri=response.otpauth_uri)


@router.post("/users/me/totp/confirm", status_code=204)
async def confirm_totp(body: TotpConfirm, caller: CurrentCaller, backends: BackendsDep) -> None:
    """Turns TOTP on; the caller logs in again to get a full token."""
    await backends.identity.ConfirmTotp(identity_pb2.ConfirmTotpRequest(code=body.code), timeout=backends.timeout)


@router.post("/api-clients", response_model=ApiClientCreated, status_code=201)
async def create_api_client(body: ApiClientCreate, caller: CurrentCaller, backends: BackendsDep,
                            idempotency_key: IdempotencyKey = None) -> ApiClientCreated:
    response = await backends.identity.CreateApiClient(body.to_request(idempotency_key or ""),
                                                       timeout=backends.timeout)
    return ApiClientCreated(api_client=ApiClient.from_proto(response.api_client),
                            client_secret=response.client_secret)


@router.get("/api-clients", response_model=ApiClientList)
async def list_api_clients(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                           page_token: PageToken = "") -> ApiClientList:
    response = await backends.identity.ListApiClients(
        identity_pb2.ListApiClientsRequest(page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout,
    )
    return ApiClientList(api_clients=[ApiClient.from_proto(c) for c in response.api_clients],
                         next_page_token=response.next_page_token)


@router.patch("/api-clients/{client_id}", response_model=ApiClient)
async def update_api_client(client_id: ClientId, body: ApiClientUpdate, caller: CurrentCaller,
                            backends: BackendsDep) -> ApiClient:
    response = await backends.identity.UpdateApiClient(body.to_request(client_id), timeout=backends.timeout)
    return ApiClient.from_proto(response.api_client)


@router.post("/api-clients/{client_id}/rotate-secret", response_model=RotatedSecret)
async def rotate_api_client_secret(client_id: ClientId, body: SecretRotation, caller: CurrentCaller,
                                   backends: BackendsDep) -> RotatedSecret:
    """A new secret; the previous one keeps working for the overlap (default one day)."""
    response = await backends.identity.RotateApiClientSecret(
        identity_pb2.RotateApiClientSecretRequest(name=f"apiClients/{client_id}",
                                                  overlap_seconds=body.overlap_seconds),
        timeout=backends.timeout,
    )
    return RotatedSecret(client_secret=response.client_secret,
                         previous_secret_expire_time=response.previous_secret_expire_time.ToDatetime(tzinfo=UTC))


@router.get("/audit-events", response_model=AuditEventList)
async def list_audit_events(caller: CurrentCaller, backends: BackendsDep,
                            kind: Annotated[str, Query(max_length=48, pattern=r"^[A-Z_]*$")] = "",
                            page_size_: PageSize = 0, page_token: PageToken = "") -> AuditEventList:
    response = await backends.identity.ListAuditEvents(
        identity_pb2.ListAuditEventsRequest(kind=kind, page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout,
    )
    return AuditEventList(audit_events=[AuditEvent.from_proto(e) for e in response.audit_events],
                          next_page_token=response.next_page_token)
