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


def key_industry_body() -> dict:
    # T98 (international organisations): no test's analytics data lies there.
    return {"code": f"harness_{uuid.uuid4().hex[:8]}", "display_name": "harness key industry", "divisions": ["T98"]}


def key_industry_in(tenant: str):
    async def make(platform, issuer) -> Params:
        token = issuer.token(tenant=tenant, roles=["provincial_operator"])
        response = await platform.client.post("/v1/key-industries", json=key_industry_body(),
                                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
        return {"code": response.json()["code"]}
    return make


SAMPLES.update({
    "POST /v1/key-industries": Sample(body=key_industry_body),
    "DELETE /v1/key-industries/{code}": Sample(
        own=key_industry_in(TENANT_A),
        not_tenant_data="a code names a key industry of the caller's own tenant, and the ministry adds none "
                        "(the national five are seed data); another tenant's code answering NOT_FOUND is tested "
                        "in tests/sharing/test_key_industries.py"),
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


# -- sharing: the other SH-1 record types, import/export, agreement lifecycle ------------------------

RECORD_BODIES = {
    "disease-cases": lambda: {"diagnosed_at": "2025-03-01", "employer": f"organisations/{uuid.uuid4().hex}",
                              "industry_code": "B0610", "category": "pneumoconiosis", "persons": 1},
    "recognitions": lambda: {"injured_at": "2025-03-01", "recognised_at": "2025-04-01",
                             "employer": f"organisations/{uuid.uuid4().hex}", "industry_code": "E4720",
                             "disability_grade": 7, "fatal": False},
    "hazard-reports": lambda: {"reported_at": "2025-03-01", "employer": f"organisations/{uuid.uuid4().hex}",
                               "industry_code": "E4720", "level": "major", "category": "material",
                               "description": "scaffold guardrail missing"},
    "measurements": lambda: {"measured_at": "2025-03-01", "employer": f"organisations/{uuid.uuid4().hex}",
                             "industry_code": "B0610", "factor": "silica_dust", "value": 1.2, "unit": "mg/m3",
                             "limit_value": 1.0},
}


def record_create_body(segment: str):
    return lambda: {"publisher_record_id": f"harness-{uuid.uuid4().hex}", **RECORD_BODIES[segment]()}


def record_in(segment: str, tenant: str):
    async def make(platform, issuer) -> Params:
        token = issuer.token(tenant=tenant, roles=["provincial_operator"])
        response = await platform.client.post(f"/v1/{segment}", json=record_create_body(segment)(),
                                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
        return {"record_id": response.json()["id"]}
    return make


def import_file() -> dict:
    return {"file": ("records.csv", b"publisher_record_id\r\n", "text/csv")}


for _segment in RECORD_BODIES:
    SAMPLES.update({
        f"POST /v1/{_segment}": Sample(body=record_create_body(_segment)),
        f"GET /v1/{_segment}/{{record_id}}": Sample(own=record_in(_segment, TENANT_A),
                                                    foreign=record_in(_segment, TENANT_B)),
        f"POST /v1/{_segment}/{{record_id}}/correct": Sample(own=record_in(_segment, TENANT_A),
                                                             not_tenant_data=PUBLISHER_ONLY,
                                                             body=RECORD_BODIES[_segment]),
        f"POST /v1/{_segment}/{{record_id}}/void": Sample(own=record_in(_segment, TENANT_A),
                                                          body=lambda: {"reason": "entered twice"},
                                                          not_tenant_data=PUBLISHER_ONLY),
    })
for _segment in ("accidents", *RECORD_BODIES):
    SAMPLES[f"POST /v1/{_segment}:import"] = Sample(body=dict, files=import_file)
SAMPLES.update({
    "GET /v1/sharing-agreements/{agreement_id}": Sample(own=agreement_in(TENANT_A), foreign=agreement_in(TENANT_B)),
    "POST /v1/sharing-agreements/{agreement_id}/suspend": Sample(own=agreement_in(TENANT_A),
                                                                 foreign=agreement_in(TENANT_B), body=dict),
    "POST /v1/sharing-agreements/{agreement_id}/resume": Sample(own=agreement_in(TENANT_A),
                                                                foreign=agreement_in(TENANT_B), body=dict),
})
# -- sharing: exposure data and analytics (SPEC SH-8); the subscribe feed is gRPC only ----------------

SAMPLES["PUT /v1/exposure"] = Sample(body=lambda: {"exposures": [
    {"industry_code": "C26", "year": 2025, "insured_persons": 120_000, "hours_worked": 240_000_000}]})
# -- sharing: rectification notices (SH-5) and joint inspections (SH-6) ------------------------------

RECTIFICATION_READERS = ("rectification notices are read by the issuing department, the tenant's PO and the "
                         "employer's officers only (not the ministry), so the ministry-reads-200 leg does not "
                         "apply; foreign ids answering 404 are tested in tests/sharing/test_rectification.py")
INSPECTION_READERS = ("joint inspections are read by the tenant's PO and DL only (not the ministry); foreign ids "
                      "answering 404 are tested in tests/sharing/test_inspections.py")


def rectification_notice_body(employer: str = "") -> dict:
    from datetime import timedelta

    from services.common.clock import SystemClock, cst_date

    deadline = cst_date(SystemClock().now()) + timedelta(days=30)
    return {"employer": employer or f"organisations/{uuid.uuid4().hex}",
            "source": f"hazardReports/{uuid.uuid4().hex}", "source_type": "hazard_report",
            "required_action": "Fit guardrails.", "deadline_date": deadline.isoformat()}


def rectification_notice_in(tenant: str, *, with_evidence: bool = False):
    async def make(platform, issuer) -> Params:
        employer = uuid.uuid4().hex
        token = issuer.token(tenant=tenant, roles=["provincial_operator"])
        response = await platform.client.post("/v1/rectification-notices",
                                              json=rectification_notice_body(f"organisations/{employer}"),
                                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
        params = {"notice_id": response.json()["id"]}
        if with_evidence:
            officer = issuer.token(tenant=tenant, roles=["employer_officer"], org=employer)
            upload = await platform.client.post(
                f"/v1/rectification-notices/{params['notice_id']}/evidence-uploads",
                json={"file_name": "photo.pdf", "content_type": "application/pdf"},
                headers={"Authorization": f"Bearer {officer}"})
            assert upload.status_code == 201, upload.text
            params["evidence_id"] = upload.json()["evidence"]["id"]
        return params
    return make


def joint_inspection_body() -> dict:
    employer = f"organisations/{uuid.uuid4().hex}"
    return {"title": f"harness {uuid.uuid4().hex[:8]}", "inspection_date": "2026-11-20",
            "participants": [f"organisations/{uuid.uuid4().hex}"], "employers": [employer],
            "findings": [{"employer": employer, "description": "Blocked exit.", "required_action": "Clear it.",
                          "law": "work_safety_law"}]}


def joint_inspection_in(tenant: str):
    async def make(platform, issuer) -> Params:
        token = issuer.token(tenant=tenant, roles=["provincial_operator"])
        response = await platform.client.post("/v1/joint-inspections", json=joint_inspection_body(),
                                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
        return {"inspection_id": response.json()["id"], "finding_id": response.json()["findings"][0]["id"]}
    return make


def _joint_inspection_update() -> dict:
    body = joint_inspection_body()
    body["findings"] = []
    return body


def _raise_body() -> dict:
    return {"deadline_date": rectification_notice_body()["deadline_date"]}


_NOTICE = rectification_notice_in(TENANT_A)
_INSPECTION = joint_inspection_in(TENANT_A)
SAMPLES.update({
    "POST /v1/rectification-notices": Sample(body=rectification_notice_body),
    "GET /v1/rectification-notices/{notice_id}": Sample(own=_NOTICE, not_tenant_data=RECTIFICATION_READERS),
    "POST /v1/rectification-notices/{notice_id}/evidence-uploads": Sample(
        own=_NOTICE, not_tenant_data=RECTIFICATION_READERS,
        body=lambda: {"file_name": "photo.pdf", "content_type": "application/pdf"}),
    "GET /v1/rectification-notices/{notice_id}/evidence/{evidence_id}/download": Sample(
        own=rectification_notice_in(TENANT_A, with_evidence=True), not_tenant_data=RECTIFICATION_READERS),
    "POST /v1/rectification-notices/{notice_id}/respond": Sample(
        own=_NOTICE, not_tenant_data=RECTIFICATION_READERS, body=lambda: {"response": "Done.", "evidence": []}),
    "POST /v1/rectification-notices/{notice_id}/verify": Sample(own=_NOTICE, not_tenant_data=RECTIFICATION_READERS,
                                                                body=dict),
    "POST /v1/rectification-notices/{notice_id}/return": Sample(own=_NOTICE, not_tenant_data=RECTIFICATION_READERS,
                                                                body=lambda: {"reason": "incomplete"}),
    "POST /v1/rectification-notices/{notice_id}/escalate": Sample(own=_NOTICE, not_tenant_data=RECTIFICATION_READERS,
                                                                  body=dict),
    "POST /v1/joint-inspections": Sample(body=joint_inspection_body),
    "GET /v1/joint-inspections/{inspection_id}": Sample(own=_INSPECTION, not_tenant_data=INSPECTION_READERS),
    "PUT /v1/joint-inspections/{inspection_id}": Sample(own=_INSPECTION, not_tenant_data=INSPECTION_READERS,
                                                        body=_joint_inspection_update),
    "DELETE /v1/joint-inspections/{inspection_id}": Sample(own=_INSPECTION, not_tenant_data=INSPECTION_READERS),
    "POST /v1/joint-inspections/{inspection_id}/findings/{finding_id}/raise-notice": Sample(
        own=_INSPECTION, not_tenant_data=INSPECTION_READERS, body=_raise_body),
})


# -- training core (issue 5): recommended platforms, trainees, programmes, coverage ----------------


def training_platform_body() -> dict:
    return {"display_name": "Harness platform", "kind": "platform",
            "base_url": f"https://learn-{uuid.uuid4().hex[:8]}.example.com",
            "qualifications": ["harness qualification"], "client_ids": [f"harness-{uuid.uuid4().hex[:8]}"]}


def trainee_body() -> dict:
    return {"display_name": "王小明", "employer_id": uuid.uuid4().hex, "employer_name": "Harness Mining",
            "industry_code": "B06", "key_position": "front_line_team_leader"}


def programme_body() -> dict:
    return {"title": f"harness {uuid.uuid4().hex[:8]}", "year": 2026}


def _created(path: str, body, key: str, field: str = "id"):
    def for_tenant(tenant: str):
        async def make(platform, issuer) -> Params:
            token = issuer.token(tenant=tenant, roles=["provincial_operator"])
            response = await platform.client.post(path, json=body(), headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 201, response.text
            return {key: response.json()[field]}
        return make
    return for_tenant


training_platform_in = _created("/v1/training-platforms", training_platform_body, "platform_id")
trainee_in = _created("/v1/trainees", trainee_body, "trainee_id")
programme_in = _created("/v1/programmes", programme_body, "programme_id")


def offline_session_in(tenant: str):
    async def make(platform, issuer) -> Params:
        headers = {"Authorization": f"Bearer {issuer.token(tenant=tenant, roles=['provincial_operator'])}"}
        course = await platform.client.post("/v1/courses", json=course_body(), headers=headers)
        programme = await platform.client.post("/v1/programmes", headers=headers,
                                               json={**programme_body(), "course_ids": [course.json()["id"]]})
        assert programme.status_code == 201, programme.text
        session = await platform.client.post(
            f"/v1/programmes/{programme.json()['id']}/offline-sessions", headers=headers,
            json={"course_id": course.json()["id"], "title": "harness class",
                  "start_time": "2026-03-01T09:00:00+08:00"})
        assert session.status_code == 201, session.text
        return {"session_id": session.json()["id"]}
    return make


PO_WRITE = ("a provincial operator's write on its own tenant's data (the ministry may not call it, so the "
            "ministry-reads-200 leg does not apply); a foreign id answering 404 is tested in tests/training/")

SAMPLES.update({
    "POST /v1/training-platforms": Sample(body=training_platform_body),
    "GET /v1/training-platforms/{platform_id}": Sample(own=training_platform_in(TENANT_A),
                                                       foreign=training_platform_in(TENANT_B)),
    "POST /v1/training-platforms/{platform_id}/state": Sample(
        own=training_platform_in(TENANT_A), not_tenant_data=PO_WRITE,
        body=lambda: {"state": "suspended", "reason": "harness"}),
    "POST /v1/trainees": Sample(body=trainee_body),
    "GET /v1/trainees/{trainee_id}": Sample(own=trainee_in(TENANT_A), foreign=trainee_in(TENANT_B)),
    "POST /v1/programmes": Sample(body=programme_body),
    "GET /v1/programmes/{programme_id}": Sample(own=programme_in(TENANT_A), foreign=programme_in(TENANT_B)),
    "POST /v1/programmes/{programme_id}/enrolments": Sample(
        own=programme_in(TENANT_A), not_tenant_data=PO_WRITE, body=lambda: {"trainee_id": uuid.uuid4().hex}),
    "POST /v1/programmes/{programme_id}/offline-sessions": Sample(
        own=programme_in(TENANT_A), not_tenant_data=PO_WRITE,
        body=lambda: {"course_id": uuid.uuid4().hex, "title": "harness", "start_time": "2026-03-01T09:00:00Z"}),
    "POST /v1/offline-sessions/{session_id}/attendance": Sample(
        own=offline_session_in(TENANT_A), not_tenant_data=PO_WRITE,
        body=lambda: {"trainee_ids": [uuid.uuid4().hex]}),
})


def material_body() -> dict:
    import base64
    return {"kind": "infographic", "title": "Harness poster", "content_type": "image/png",
            "publicity_topic": "work_safety", "public": False,
            "content_base64": base64.b64encode(b"\x89PNG\r\n\x1a\nharness").decode()}


def material_in(tenant: str):
    async def make(platform, issuer) -> Params:
        token = issuer.token(tenant=tenant, roles=["provincial_operator"])
        response = await platform.client.post("/v1/materials", json=material_body(),
                                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
        return {"material_id": response.json()["material"]["id"]}
    return make


def bank_body(course_id: str | None = None) -> dict:
    return {"course_id": course_id or uuid.uuid4().hex, "title": "Harness exam", "pass_mark": 60,
            "questions": [{"text": "Who signs the safety plan?", "options": ["the deputy head", "nobody"],
                           "answer": 0}]}


def bank_in(tenant: str):
    async def make(platform, issuer) -> Params:
        headers = {"Authorization": f"Bearer {issuer.token(tenant=tenant, roles=['provincial_operator'])}"}
        course = await platform.client.post("/v1/courses", json=course_body(), headers=headers)
        response = await platform.client.post("/v1/question-banks", json=bank_body(course.json()["id"]),
                                              headers=headers)
        assert response.status_code == 201, response.text
        return {"bank_id": response.json()["id"]}
    return make


TRAINEE_WRITE = ("a trainee's own exam attempt (no operator may attempt, so the ministry-reads-200 leg does not "
                 "apply); another tenant's bank answering 404 is tested in tests/training/test_exams.py")
COURSE_OWNER_WRITE = ("a write on a course the caller owns (a ministry operator owns national courses only, so the "
                      "ministry-reads-200 leg does not apply); a foreign id answering 404 is tested in tests/training/")

SAMPLES.update({
    "PUT /v1/courses/{course_id}/tags": Sample(own=course_in(TENANT_A), not_tenant_data=COURSE_OWNER_WRITE,
                                              body=lambda: {"industries": ["B06"],
                                                            "target_positions": ["deputy_head_in_charge"]}),
    "GET /v1/courses/{course_id}/catalogue": Sample(own=course_in(TENANT_A), foreign=course_in(TENANT_B)),
    "POST /v1/courses/{course_id}/modules": Sample(own=course_in(TENANT_A), not_tenant_data=COURSE_OWNER_WRITE,
                                                   body=lambda: {"title": "harness module"}),
    "POST /v1/materials": Sample(body=material_body),
    "GET /v1/materials/{material_id}": Sample(own=material_in(TENANT_A), foreign=material_in(TENANT_B)),
    "POST /v1/question-banks": Sample(body=bank_body),
    "GET /v1/question-banks/{bank_id}": Sample(own=bank_in(TENANT_A), foreign=bank_in(TENANT_B)),
    "POST /v1/question-banks/{bank_id}/attempts": Sample(own=bank_in(TENANT_A), not_tenant_data=TRAINEE_WRITE,
                                                         body=lambda: {"answers": [0]}),
})
SAMPLES.update({
    "POST /v1/technical-school-courses": Sample(body=lambda: {
        "school_name": "Harness Technical School", "course_title": "Safe operation",
        "content_categories": ["accident_prevention"], "academic_year": 2026}),
    "POST /v1/warning-education-bases": Sample(body=lambda: {
        "display_name": "Harness warning base", "address": "1 Harness Road", "industries": ["B06"],
        "website": "https://warning-base.example.com"}),
})
SAMPLES["POST /v1/exposure:import"] = Sample(body=dict, files=lambda: {"file": (
    "exposure.csv", b"industry_code,year,insured_persons,hours_worked\r\nC26,2025,120000,\r\n", "text/csv")})
# -- assessment (issue 6): samples live in their own module ---------------------------------------
from tests.isolation.assessment_samples import ASSESSMENT_SAMPLES  # noqa: E402

SAMPLES.update(ASSESSMENT_SAMPLES)
