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
    # Multipart routes: the files to upload (``body`` then holds the form fields).
    files: Callable[[], dict] | None = None


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


# -- identity: organisations, employers -----------------------------------------------------------


def harness_uscc() -> str:
    from services.common.validators import USCC_ALPHABET, uscc_check_char

    prefix = "91" + "".join(USCC_ALPHABET[b % 31] for b in uuid.uuid4().bytes)[:15]
    return prefix + uscc_check_char(prefix)


def employer_body(tenant: str = TENANT_A) -> dict:
    return {"type": "employer", "display_name": f"harness employer {uuid.uuid4().hex[:8]}",
            "employer": {"uscc": harness_uscc(), "industry_code": "C2611", "risk_class": 3, "headcount": 10,
                         "insured_headcount": 8, "pooling_region_code": tenant},
            "contact_name": "王小明", "contact_phone": "13912345678"}


def employer_in(tenant: str):
    async def make(platform, issuer) -> Params:
        token = issuer.token(tenant=tenant, roles=["provincial_operator"])
        response = await platform.client.post("/v1/organisations", json=employer_body(tenant),
                                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
        return {"organisation_id": response.json()["id"]}
    return make


def employer_import_file() -> dict:
    row = f"{harness_uscc()},harness employer,C2611,3,10,8,{TENANT_A}\r\n"
    content = ("uscc,display_name,industry_code,risk_class,headcount,insured_headcount,pooling_region_code\r\n"
               + row).encode()
    return {"file": ("employers.csv", content, "text/csv")}


SAMPLES.update({
    "POST /v1/organisations": Sample(body=employer_body),
    "GET /v1/organisations/{organisation_id}": Sample(own=employer_in(TENANT_A), foreign=employer_in(TENANT_B)),
    "PATCH /v1/organisations/{organisation_id}": Sample(own=employer_in(TENANT_A), foreign=employer_in(TENANT_B),
                                                        body=lambda: {"contact_phone": "13812345678"}),
    # validate_only: the matrix checks who may import, without filling the database.
    "POST /v1/employers:import": Sample(body=lambda: {"validate_only": "true"}, files=employer_import_file),
})


# -- identity: notifications (SPEC 7.8) ----------------------------------------------------------


def notification_in(tenant: str):
    """A notification sent by the tenant's provincial operator (a direct gRPC Notify, as services
    call it) to a user created over REST; its id is read from that user's own inbox."""
    async def make(platform, issuer) -> Params:
        import grpc
        from prevention.identity.v1 import identity_pb2, identity_pb2_grpc

        user_id = (await user_in(tenant)(platform, issuer))["user_id"]
        operator = issuer.token(tenant=tenant, roles=["provincial_operator"])
        recipient = issuer.token(tenant=tenant, roles=["trainee"], sub=user_id)
        async with grpc.aio.insecure_channel(platform.addresses["identity"]) as channel:
            stub = identity_pb2_grpc.IdentityServiceStub(channel)
            sent = await stub.Notify(identity_pb2.NotifyRequest(
                users=[f"users/{user_id}"], kind="HARNESS", title="Harness notification", link="/v1/tenants",
            ), metadata=[("authorization", f"Bearer {operator}")], timeout=10)
            assert sent.recipient_count == 1
            inbox = await stub.ListNotifications(identity_pb2.ListNotificationsRequest(),
                                                 metadata=[("authorization", f"Bearer {recipient}")], timeout=10)
        return {"notification_id": inbox.notifications[0].name.removeprefix("notifications/")}
    return make


SAMPLES.update({
    "POST /v1/notifications/{notification_id}/read": Sample(
        own=notification_in(TENANT_A), body=dict,
        not_tenant_data="an inbox is its recipient's alone, ministry included: another user's notification "
                        "is 404 for everyone (tests/identity/test_notifications.py)",
    ),
    "PUT /v1/notifications/settings": Sample(body=lambda: {"email_enabled": False}),
})


def pooling_region_body() -> dict:
    import random

    # Xizang: kept apart from the provinces other tests use without pooling regions.
    return {"code": f"54{random.randint(10, 99)}00", "parent_code": "540000", "display_name": "统筹地区"}


SAMPLES["POST /v1/tenants"] = Sample(body=pooling_region_body)


# -- sharing: accidents and sharing agreements (SPEC SH-1..SH-3) -----------------------------------


PUBLISHER_ONLY = ("only the publisher corrects or voids (the ministry may not write, so the ministry-reads-200 "
                  "leg does not apply); a foreign id answering 404 is tested in tests/sharing/test_records.py")


def accident_body() -> dict:
    return {"publisher_record_id": f"harness-{uuid.uuid4().hex}", "occurred_at": "2025-03-01",
            "employer": f"organisations/{uuid.uuid4().hex}", "industry_code": "E4720", "severity": "serious",
            "accident_type": "fall_from_height", "persons_injured": 1, "fatalities": 0, "days_lost": 30}


def accident_in(tenant: str):
    async def make(platform, issuer) -> Params:
        token = issuer.token(tenant=tenant, roles=["provincial_operator"])
        response = await platform.client.post("/v1/accidents", json=accident_body(),
                                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
        return {"accident_id": response.json()["id"]}
    return make


def agreement_body() -> dict:
    return {"provider_organisation": f"organisations/{uuid.uuid4().hex}",
            "consumer_organisation": f"organisations/{uuid.uuid4().hex}", "record_type": "accidents",
            "granted_fields": ["occurred_at", "industry_code", "severity"], "purpose": "joint prevention",
            "legal_basis": "Work Safety Law art. 10", "valid_from": "2025-01-01", "valid_until": "2030-12-31"}


def agreement_in(tenant: str):
    async def make(platform, issuer) -> Params:
        token = issuer.token(tenant=tenant, roles=["provincial_operator"])
        response = await platform.client.post("/v1/sharing-agreements", json=agreement_body(),
                                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
        return {"agreement_id": response.json()["id"]}
    return make


SAMPLES.update({
    "POST /v1/accidents": Sample(body=accident_body),
    "GET /v1/accidents/{accident_id}": Sample(own=accident_in(TENANT_A), foreign=accident_in(TENANT_B)),
    "POST /v1/accidents/{accident_id}/correct": Sample(
        own=accident_in(TENANT_A), not_tenant_data=PUBLISHER_ONLY,
        body=lambda: {k: v for k, v in accident_body().items() if k != "publisher_record_id"}),
    "POST /v1/accidents/{accident_id}/void": Sample(
        own=accident_in(TENANT_A), body=lambda: {"reason": "entered twice"}, not_tenant_data=PUBLISHER_ONLY),
    "POST /v1/sharing-agreements": Sample(body=agreement_body),
    "POST /v1/sharing-agreements/{agreement_id}/revoke": Sample(own=agreement_in(TENANT_A),
                                                                foreign=agreement_in(TENANT_B), body=dict),
})


# -- sharing: bulletins (SPEC SH-7) ------------------------------------------------------------------

NATIONAL_BULLETIN = "bulletins are national: every tenant reads the same bulletin (no foreign id exists)"


def bulletin_body() -> dict:
    return {"title": f"harness {uuid.uuid4().hex[:8]}", "body": "Guardrails were missing on the scaffold.",
            "occurred_at": "2025-03-01", "region_code": "320000", "industry_code": "E4720",
            "accident_type": "fall_from_height", "severity": "fatal", "fatalities": 1, "persons_injured": 2}


def national_bulletin():
    async def make(platform, issuer) -> Params:
        token = issuer.token(tenant="100000", roles=["ministry_operator"])
        response = await platform.client.post("/v1/bulletins", json=bulletin_body(),
                                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
        return {"bulletin_id": response.json()["id"]}
    return make


SAMPLES.update({
    "POST /v1/bulletins": Sample(body=bulletin_body),
    "GET /v1/bulletins/{bulletin_id}": Sample(own=national_bulletin(), not_tenant_data=NATIONAL_BULLETIN),
    "POST /v1/bulletins/{bulletin_id}/acknowledge": Sample(own=national_bulletin(), body=dict,
                                                           not_tenant_data=NATIONAL_BULLETIN),
    "GET /v1/bulletins/{bulletin_id}/unacknowledged": Sample(own=national_bulletin(),
                                                             not_tenant_data=NATIONAL_BULLETIN),
})


# -- sharing: joint meetings (SPEC SH-6) ---------------------------------------------------------------

PO_DL_ONLY = ("joint meetings are read by the tenant's PO and DL only (the ministry may not read them, so the "
              "ministry-reads-200 leg does not apply); a foreign id answering 404 is tested in "
              "tests/sharing/test_joint_meetings.py")


def joint_meeting_body() -> dict:
    return {"title": f"harness {uuid.uuid4().hex[:8]}", "meeting_date": "2025-05-10",
            "participants": [f"organisations/{uuid.uuid4().hex}", f"organisations/{uuid.uuid4().hex}"],
            "minutes": "Agreed a joint inspection of construction sites.",
            "action_items": [{"description": "inspect scaffolding", "owner": f"organisations/{uuid.uuid4().hex}",
                              "due_date": "2025-06-30"}]}


def joint_meeting_in(tenant: str):
    async def make(platform, issuer) -> Params:
        token = issuer.token(tenant=tenant, roles=["provincial_operator"])
        response = await platform.client.post("/v1/joint-meetings", json=joint_meeting_body(),
                                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
        return {"meeting_id": response.json()["id"]}
    return make


SAMPLES.update({
    "POST /v1/joint-meetings": Sample(body=joint_meeting_body),
    "GET /v1/joint-meetings/{meeting_id}": Sample(own=joint_meeting_in(TENANT_A), not_tenant_data=PO_DL_ONLY),
    "POST /v1/joint-meetings/{meeting_id}/minutes": Sample(
        own=joint_meeting_in(TENANT_A), not_tenant_data=PO_DL_ONLY,
        body=lambda: {"minutes": "revised", "action_items": []}),
})


# -- assessment (issue 6): samples live in their own module ---------------------------------------
from tests.isolation.assessment_samples import ASSESSMENT_SAMPLES  # noqa: E402

SAMPLES.update(ASSESSMENT_SAMPLES)
