"""Accident records over REST and gRPC (SPEC SH-1, SH-3): validation, idempotent publishing,
correction, voiding, filters, the batch stream and the read scope of each role."""

from __future__ import annotations

import uuid

import grpc
from prevention.sharing.v1 import sharing_pb2, sharing_pb2_grpc

from gateway.schemas import sharing as rest_schema
from services.sharing import records
from tests.gateway.helpers import assert_problem, bearer, violation_fields

PO_A = {"tenant": "110000", "roles": ("provincial_operator",)}


def accident(**overrides) -> dict:
    body = {"publisher_record_id": f"rec-{uuid.uuid4().hex}", "occurred_at": "2025-05-04",
            "employer": f"organisations/{uuid.uuid4().hex}", "industry_code": "C2611", "severity": "serious",
            "accident_type": "machinery_injury", "persons_injured": 2, "fatalities": 0, "days_lost": 45,
            "description": "hand caught in a press"}
    body.update(overrides)
    return body


async def publish(platform, issuer, body: dict, **who):
    return await platform.client.post("/v1/accidents", json=body, headers=bearer(issuer, **(who or PO_A)))


def test_the_gateway_lists_match_the_domain():
    assert rest_schema.ACCIDENT_TYPES == records.ACCIDENT_TYPES
    assert rest_schema.ACCIDENT_FIELDS == records.ACCIDENT_FIELDS
    assert rest_schema.MAX_COUNT == records.MAX_COUNT


async def test_create_get_and_replay(platform, issuer):
    body = accident()
    created = await publish(platform, issuer, body)
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["tenant_code"] == "110000" and record["version"] == 1 and record["status"] == "active"
    assert record["industry_code"] == "C2611" and record["occurred_at"] == "2025-05-04"
    again = await publish(platform, issuer, body)
    assert again.status_code == 201 and again.json()["id"] == record["id"]
    conflict = await publish(platform, issuer, {**body, "days_lost": 46})
    assert_problem(conflict, 409, reason="PUBLISHER_RECORD_ID_EXISTS")
    got = await platform.client.get(f"/v1/accidents/{record['id']}", headers=bearer(issuer, **PO_A))
    assert got.status_code == 200 and got.json()["days_lost"] == 45


async def test_domain_rules_are_field_violations(platform, issuer):
    response = await publish(platform, issuer, accident(severity="fatal", fatalities=0, industry_code="A26",
                                                        occurred_at="2999-01-01"))
    problem = assert_problem(response, 400)
    assert set(violation_fields(problem)) >= {"accident.fatalities", "accident.industry_code",
                                               "accident.occurred_at"}
    response = await publish(platform, issuer, accident(persons_injured=-1))
    assert_problem(response, 400)
    response = await publish(platform, issuer, accident(severity="minor", fatalities=2))
    assert "accident.severity" in violation_fields(assert_problem(response, 400))


async def test_correct_and_void(platform, issuer):
    record = (await publish(platform, issuer, accident())).json()
    url = f"/v1/accidents/{record['id']}"
    correction = {k: v for k, v in accident(severity="fatal", fatalities=1).items() if k != "publisher_record_id"}
    corrected = await platform.client.post(f"{url}/correct", json=correction, headers=bearer(issuer, **PO_A))
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["version"] == 2 and corrected.json()["severity"] == "fatal"
    assert corrected.json()["publisher_record_id"] == record["publisher_record_id"]
    voided = await platform.client.post(f"{url}/void", json={"reason": "duplicate"}, headers=bearer(issuer, **PO_A))
    assert voided.status_code == 200 and voided.json()["status"] == "voided" and voided.json()["version"] == 3
    again = await platform.client.post(f"{url}/void", json={}, headers=bearer(issuer, **PO_A))
    assert again.status_code == 200 and again.json()["version"] == 3
    refused = await platform.client.post(f"{url}/correct", json=correction, headers=bearer(issuer, **PO_A))
    assert_problem(refused, 409, reason="RECORD_VOIDED")


async def test_foreign_records_cannot_be_written(platform, issuer):
    record = (await publish(platform, issuer, accident(), tenant="120000", roles=("provincial_operator",))).json()
    correction = {k: v for k, v in accident().items() if k != "publisher_record_id"}
    for suffix, body in (("/correct", correction), ("/void", {})):
        response = await platform.client.post(f"/v1/accidents/{record['id']}{suffix}", json=body,
                                              headers=bearer(issuer, **PO_A))
        assert_problem(response, 404)
    # A liaison of the same tenant did not publish it: 404 too.
    liaison = bearer(issuer, tenant="120000", roles=("department_liaison",), org=uuid.uuid4().hex)
    response = await platform.client.post(f"/v1/accidents/{record['id']}/void", json={}, headers=liaison)
    assert_problem(response, 404)


async def test_list_filters_and_pages(platform, issuer):
    tenant = "130000"  # Hebei: no other test publishes there
    who = {"tenant": tenant, "roles": ("provincial_operator",)}
    for day, industry, severity in (("2024-01-10", "C2611", "minor"), ("2024-02-10", "E4720", "serious"),
                                    ("2024-03-10", "E4810", "minor")):
        assert (await publish(platform, issuer, accident(occurred_at=day, industry_code=industry,
                                                         severity=severity), **who)).status_code == 201
    listed = await platform.client.get("/v1/accidents", params={"industry_prefix": "E", "page_size": 1},
                                       headers=bearer(issuer, **who))
    assert listed.status_code == 200
    page = listed.json()
    assert [a["occurred_at"] for a in page["accidents"]] == ["2024-03-10"] and page["next_page_token"]
    second = await platform.client.get("/v1/accidents", params={"industry_prefix": "E", "page_size": 1,
                                                                "page_token": page["next_page_token"]},
                                       headers=bearer(issuer, **who))
    assert [a["occurred_at"] for a in second.json()["accidents"]] == ["2024-02-10"]
    ranged = await platform.client.get("/v1/accidents", params={"occurred_from": "2024-01-01",
                                                                "occurred_to": "2024-02-28", "severity": "minor"},
                                       headers=bearer(issuer, **who))
    assert [a["industry_code"] for a in ranged.json()["accidents"]] == ["C2611"]


async def test_employer_officer_reads_only_its_employer(platform, issuer):
    employer = uuid.uuid4().hex
    own = (await publish(platform, issuer, accident(employer=f"organisations/{employer}"))).json()
    other = (await publish(platform, issuer, accident())).json()
    officer = bearer(issuer, tenant="110000", roles=("employer_officer",), org=employer)
    assert (await platform.client.get(f"/v1/accidents/{own['id']}", headers=officer)).status_code == 200
    assert_problem(await platform.client.get(f"/v1/accidents/{other['id']}", headers=officer), 404)
    listed = (await platform.client.get("/v1/accidents", headers=officer)).json()
    assert [a["id"] for a in listed["accidents"]] == [own["id"]]


async def test_publish_stream_reports_per_record_results(platform, issuer):
    token = issuer.token(tenant="110000", roles=["provincial_operator"])

    def message(**overrides):
        body = accident(**overrides)
        return sharing_pb2.Accident(
            publisher_record_id=body["publisher_record_id"], occurred_at=body["occurred_at"],
            employer=body["employer"], industry_code=body["industry_code"],
            severity=sharing_pb2.ACCIDENT_SEVERITY_SERIOUS, accident_type=body["accident_type"],
            persons_injured=1, days_lost=3)

    good, bad = message(), message(industry_code="Z99")
    batches = [sharing_pb2.PublishAccidentsRequest(accidents=[good, bad]),
               sharing_pb2.PublishAccidentsRequest(accidents=[good, message()])]

    async def requests():
        for batch in batches:
            yield batch

    async with grpc.aio.insecure_channel(platform.addresses["sharing"]) as channel:
        stub = sharing_pb2_grpc.SharingServiceStub(channel)
        response = await stub.PublishAccidents(requests(), metadata=[("authorization", f"Bearer {token}")],
                                               timeout=10)
    outcomes = [r.outcome for r in response.results]
    assert outcomes == [sharing_pb2.PUBLISH_OUTCOME_CREATED, sharing_pb2.PUBLISH_OUTCOME_FAILED,
                        sharing_pb2.PUBLISH_OUTCOME_REPLAYED, sharing_pb2.PUBLISH_OUTCOME_CREATED]
    assert [r.index for r in response.results] == [0, 1, 2, 3]
    assert response.results[1].violations[0].field == "accident.industry_code"
    assert response.results[0].name == response.results[2].name
    assert (response.created_count, response.replayed_count, response.failed_count) == (2, 1, 1)
