"""Samples the harness needs per route: a valid body for writes (so the role check, not body
validation, decides), and for routes with a path parameter the ids of an object in the caller's
own tenant and in another tenant (or `foreign=None` with the reason the data is not tenant data).

Tenant A is Beijing (110000), tenant B Tianjin (120000)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

TENANT_A, TENANT_B = "110000", "120000"

Params = dict[str, str]


@dataclass
class Sample:
    own: Callable[[object, object], Awaitable[Params]] | None = None
    foreign: Callable[[object, object], Awaitable[Params]] | None = None
    not_tenant_data: str = ""
    body: Callable[[], dict] | None = None


def fixed(params: Params):
    async def make(platform, issuer) -> Params:
        return params
    return make


def course_in(tenant: str):
    async def make(platform, issuer) -> Params:
        token = issuer.token(tenant=tenant, roles=["provincial_operator"])
        response = await platform.client.post(
            "/v1/courses", json=course_body(), headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 201, response.text
        return {"course_id": response.json()["id"]}
    return make


def course_body() -> dict:
    return {"title": f"harness {uuid.uuid4().hex[:8]}", "content_category": "warning_education",
            "contact_phone": "13912345678"}


SAMPLES: dict[str, Sample] = {
    "GET /v1/tenants/{code}": Sample(own=fixed({"code": TENANT_A}), foreign=fixed({"code": TENANT_B})),
    "GET /v1/courses/{course_id}": Sample(own=course_in(TENANT_A), foreign=course_in(TENANT_B)),
    "GET /v1/action-plans/{plan_id}": Sample(
        own=fixed({"plan_id": "2021-2025"}), not_tenant_data="action-plan cycles are national reference data"
    ),
    "POST /v1/courses": Sample(body=course_body),
}


# -- identity: users, API clients ---------------------------------------------------------------


def user_body() -> dict:
    return {"username": f"harness-{uuid.uuid4().hex[:10]}", "display_name": "Harness User", "roles": ["trainee"],
            "password": "harness-password-1234", "citizen_id": "11010519491231002X", "phone": "13912345678"}


def user_in(tenant: str):
    async def make(platform, issuer) -> Params:
        token = issuer.token(tenant=tenant, roles=["provincial_operator"])
        response = await platform.client.post("/v1/users", json=user_body(),
                                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
        return {"user_id": response.json()["id"]}
    return make


def client_body() -> dict:
    return {"display_name": "Harness platform", "roles": ["training_platform"],
            "scopes": ["learning_records.write"]}


def client_in(tenant: str):
    async def make(platform, issuer) -> Params:
        token = issuer.token(tenant=tenant, roles=["provincial_operator"])
        response = await platform.client.post("/v1/api-clients", json=client_body(),
                                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
        return {"client_id": response.json()["api_client"]["client_id"]}
    return make


SAMPLES.update({
    "POST /v1/users": Sample(body=user_body),
    "GET /v1/users/{user_id}": Sample(own=user_in(TENANT_A), foreign=user_in(TENANT_B)),
    "PATCH /v1/users/{user_id}": Sample(own=user_in(TENANT_A), foreign=user_in(TENANT_B),
                                        body=lambda: {"display_name": "Renamed"}),
    "POST /v1/users/me/totp": Sample(body=dict),
    "POST /v1/users/me/totp/confirm": Sample(body=lambda: {"code": "000000"}),
    "POST /v1/api-clients": Sample(body=client_body),
    "PATCH /v1/api-clients/{client_id}": Sample(own=client_in(TENANT_A), foreign=client_in(TENANT_B),
                                                body=lambda: {"display_name": "Renamed"}),
    "POST /v1/api-clients/{client_id}/rotate-secret": Sample(own=client_in(TENANT_A), foreign=client_in(TENANT_B),
                                                             body=dict),
})
