"""The SH-1 record types besides accidents over REST and gRPC: validation naming every bad field,
idempotent publishing, correction, voiding, filters, the change hook, and the read scope of each
role, including department liaisons through agreements that are suspended and resumed."""

from __future__ import annotations

import uuid

import grpc
import pytest
from prevention.sharing.v1 import sharing_pb2, sharing_pb2_grpc

from gateway.schemas import records as rest_schema
from gateway.schemas import sharing as sharing_schema
from services.common.grpc_errors import parse_rpc_error
from services.sharing import changes, record_types
from tests.gateway.helpers import assert_problem, bearer, violation_fields

TENANT = "150000"  # Inner Mongolia: only this file publishes these types there
PO = {"tenant": TENANT, "roles": ("provincial_operator",)}
METADATA = {"id", "tenant_code", "version", "status", "publisher_organisation", "fields", "create_time",
            "update_time"}


def body(segment: str, **overrides) -> dict:
    employer = f"organisations/{uuid.uuid4().hex}"
    bodies = {
        "disease-cases": {"diagnosed_at": "2024-06-01", "employer": employer, "industry_code": "B0610",
                          "category": "pneumoconiosis", "persons": 2},
        "recognitions": {"injured_at": "2024-05-01", "recognised_at": "2024-07-01", "employer": employer,
                         "industry_code": "E4720", "disability_grade": 7, "fatal": False,
                         "accident": f"accidents/{uuid.uuid4().hex}"},
        "hazard-reports": {"reported_at": "2024-06-01", "employer": employer, "industry_code": "E4720",
                           "level": "major", "category": "material", "description": "scaffold guardrail missing"},
        "measurements": {"measured_at": "2024-06-01", "employer": employer, "industry_code": "B0610",
                         "factor": "silica_dust", "value": 1.5, "unit": "mg/m3", "limit_value": 1.0},
    }
    return {"publisher_record_id": f"rec-{uuid.uuid4().hex}", **bodies[segment], **overrides}


SEGMENTS = ("disease-cases", "recognitions", "hazard-reports", "measurements")
KINDS = {"disease-cases": record_types.DISEASE_CASES, "recognitions": record_types.RECOGNITIONS,
         "hazard-reports": record_types.HAZARD_REPORTS, "measurements": record_types.MEASUREMENTS}
LIST_KEYS = {"disease-cases": "disease_cases", "recognitions": "recognitions", "hazard-reports": "hazard_reports",
             "measurements": "measurements"}


async def publish(platform, issuer, segment: str, data: dict, **who):
    return await platform.client.post(f"/v1/{segment}", json=data, headers=bearer(issuer, **(who or PO)))


def without_record_id(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "publisher_record_id"}


def test_the_gateway_lists_match_the_domain():
    assert rest_schema.DISEASE_CATEGORIES == record_types.DISEASE_CATEGORIES
    assert rest_schema.HAZARD_LEVELS == record_types.HAZARD_LEVELS
    assert rest_schema.HAZARD_CATEGORIES == record_types.HAZARD_CATEGORIES
    assert rest_schema.MEASUREMENT_FACTORS == record_types.MEASUREMENT_FACTORS
    assert rest_schema.RECORD_TYPES == tuple(record_types.RECORD_TYPES)
    assert sharing_schema.RECORD_FIELDS == record_types.RECORD_FIELDS
    assert "pneumoconiosis" in record_types.DISEASE_CATEGORIES
    # Counted, not described: no personal or diagnosis field on a disease case.
    assert not {"name", "citizen_id", "diagnosis", "phone"} & set(record_types.DISEASE_CASE_FIELDS)


@pytest.mark.parametrize("segment", SEGMENTS)
async def test_create_get_replay_correct_and_void(platform, issuer, segment):
    data = body(segment)
    created = await publish(platform, issuer, segment, data)
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["tenant_code"] == TENANT and record["version"] == 1 and record["status"] == "active"
    assert set(record["fields"]) == set(KINDS[segment].fields)
    again = await publish(platform, issuer, segment, data)
    assert again.status_code == 201 and again.json()["id"] == record["id"] and again.json()["version"] == 1
    changed = {**data, "industry_code": "C2611"}
    assert_problem(await publish(platform, issuer, segment, changed), 409, reason="PUBLISHER_RECORD_ID_EXISTS")

    url = f"/v1/{segment}/{record['id']}"
    headers = bearer(issuer, **PO)
    got = await platform.client.get(url, headers=headers)
    assert got.status_code == 200 and got.json() == record
    corrected = await platform.client.post(f"{url}/correct", json=without_record_id(changed), headers=headers)
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["version"] == 2 and corrected.json()["industry_code"] == "C2611"
    assert corrected.json()["publisher_record_id"] == data["publisher_record_id"]
    # A retry of the original publish after the correction still replays (content first published).
    assert (await publish(platform, issuer, segment, data)).json()["version"] == 2
    voided = await platform.client.post(f"{url}/void", json={"reason": "entered twice"}, headers=headers)
    assert voided.status_code == 200 and voided.json()["status"] == "voided" and voided.json()["version"] == 3
    assert (await platform.client.post(f"{url}/void", json={}, headers=headers)).json()["version"] == 3
    refused = await platform.client.post(f"{url}/correct", json=without_record_id(changed), headers=headers)
    assert_problem(refused, 409, reason="RECORD_VOIDED")


EMPTY_VIOLATIONS = {
    "DiseaseCase": {"publisher_record_id", "diagnosed_at", "employer", "industry_code", "category"},
    "Recognition": {"publisher_record_id", "injured_at", "recognised_at", "employer", "industry_code"},
    "HazardReport": {"publisher_record_id", "reported_at", "employer", "industry_code", "level", "category",
                     "description"},
    "Measurement": {"publisher_record_id", "measured_at", "employer", "industry_code", "factor", "unit",
                    "limit_value"},
}


@pytest.mark.parametrize("message", sorted(EMPTY_VIOLATIONS))
async def test_an_empty_record_names_every_missing_field_over_grpc(platform, issuer, message):
    token = issuer.token(tenant=TENANT, roles=["provincial_operator"])
    single = {"DiseaseCase": "disease_case", "Recognition": "recognition", "HazardReport": "hazard_report",
              "Measurement": "measurement"}[message]
    request = getattr(sharing_pb2, f"Create{message}Request")(**{single: getattr(sharing_pb2, message)()})
    async with grpc.aio.insecure_channel(platform.addresses["sharing"]) as channel:
        stub = sharing_pb2_grpc.SharingServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await getattr(stub, f"Create{message}")(request, metadata=[("authorization", f"Bearer {token}")],
                                                    timeout=10)
    failure = parse_rpc_error(raised.value)
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in failure.violations} == {f"{single}.{f}" for f in EMPTY_VIOLATIONS[message]}


async def test_domain_rules_are_field_violations(platform, issuer):
    future = "2999-01-01"
    problem = assert_problem(await publish(platform, issuer, "disease-cases", body(
        "disease-cases", diagnosed_at=future, industry_code="A26", employer="acme")), 400)
    assert set(violation_fields(problem)) == {"disease_case.diagnosed_at", "disease_case.industry_code",
                                              "disease_case.employer"}
    problem = assert_problem(await publish(platform, issuer, "recognitions", body(
        "recognitions", injured_at="2024-05-02", recognised_at="2024-05-01")), 400)
    assert violation_fields(problem) == ["recognition.recognised_at"]
    problem = assert_problem(await publish(platform, issuer, "hazard-reports", body(
        "hazard-reports", reported_at=future, description="   ")), 400)
    assert set(violation_fields(problem)) == {"hazard_report.reported_at", "hazard_report.description"}
    # Out-of-range values are refused by the contract already, naming the field.
    for segment, field, value in (("recognitions", "disability_grade", 11), ("disease-cases", "persons", 0),
                                  ("measurements", "limit_value", 0), ("measurements", "factor", "dust"),
                                  ("disease-cases", "category", "flu"), ("hazard-reports", "level", "minor")):
        problem = assert_problem(await publish(platform, issuer, segment, body(segment, **{field: value})), 400)
        assert any(f.endswith(field) for f in violation_fields(problem)), (segment, field, problem)
    # Nothing was stored by any refused publish.
    listed = await platform.client.get("/v1/hazard-reports", params={"reported_from": "2999-01-01"},
                                       headers=bearer(issuer, **PO))
    assert listed.json()["hazard_reports"] == []


async def test_measurement_exceedance_is_computed_by_the_service(platform, issuer):
    over = (await publish(platform, issuer, "measurements", body("measurements", value=1.5, limit_value=1.0))).json()
    assert over["exceedance"] is True
    at_limit = await publish(platform, issuer, "measurements", body("measurements", value=1.0, limit_value=1.0))
    assert at_limit.json()["exceedance"] is False
    # A client cannot send it (unknown field), and a correction recomputes it.
    assert_problem(await publish(platform, issuer, "measurements", body("measurements", exceedance=False)), 400)
    corrected = await platform.client.post(
        f"/v1/measurements/{over['id']}/correct",
        json=without_record_id(body("measurements", value=0.2, limit_value=1.0)), headers=bearer(issuer, **PO))
    assert corrected.json()["exceedance"] is False


async def test_list_filters_and_pages(platform, issuer):
    tenant = "210000"  # Liaoning: no other test publishes disease cases there
    who = {"tenant": tenant, "roles": ("provincial_operator",)}
    for day, industry, category in (("2023-01-10", "B0610", "pneumoconiosis"),
                                    ("2023-02-10", "C2611", "chemical_poisoning"),
                                    ("2023-03-10", "B0620", "pneumoconiosis")):
        created = await publish(platform, issuer, "disease-cases", body(
            "disease-cases", diagnosed_at=day, industry_code=industry, category=category), **who)
        assert created.status_code == 201, created.text
    headers = bearer(issuer, **who)
    page = (await platform.client.get("/v1/disease-cases", params={"industry_prefix": "B", "page_size": 1},
                                      headers=headers)).json()
    assert [r["diagnosed_at"] for r in page["disease_cases"]] == ["2023-03-10"] and page["next_page_token"]
    second = (await platform.client.get("/v1/disease-cases", params={
        "industry_prefix": "B", "page_size": 1, "page_token": page["next_page_token"]}, headers=headers)).json()
    assert [r["diagnosed_at"] for r in second["disease_cases"]] == ["2023-01-10"]
    ranged = (await platform.client.get("/v1/disease-cases", params={
        "diagnosed_from": "2023-01-01", "diagnosed_to": "2023-02-28", "category": "chemical_poisoning"},
        headers=headers)).json()
    assert [r["industry_code"] for r in ranged["disease_cases"]] == ["C2611"]


@pytest.mark.parametrize("segment", SEGMENTS)
async def test_employer_officer_reads_only_its_employer(platform, issuer, segment):
    employer = uuid.uuid4().hex
    own = (await publish(platform, issuer, segment, body(segment, employer=f"organisations/{employer}"))).json()
    other = (await publish(platform, issuer, segment, body(segment))).json()
    officer = bearer(issuer, tenant=TENANT, roles=("employer_officer",), org=employer)
    assert (await platform.client.get(f"/v1/{segment}/{own['id']}", headers=officer)).status_code == 200
    assert_problem(await platform.client.get(f"/v1/{segment}/{other['id']}", headers=officer), 404)
    listed = (await platform.client.get(f"/v1/{segment}", headers=officer)).json()
    assert [r["id"] for r in listed[LIST_KEYS[segment]]] == [own["id"]]


@pytest.mark.parametrize("segment", SEGMENTS)
async def test_liaison_reads_through_an_active_agreement_only(platform, issuer, segment):
    kind = KINDS[segment]
    health = uuid.uuid4().hex
    liaison = bearer(issuer, tenant=TENANT, roles=("department_liaison",), org=health)
    operator = bearer(issuer, **PO)
    record = (await publish(platform, issuer, segment, body(segment))).json()
    url = f"/v1/{segment}/{record['id']}"
    assert_problem(await platform.client.get(url, headers=liaison), 404)
    assert (await platform.client.get(f"/v1/{segment}", headers=liaison)).json()[LIST_KEYS[segment]] == []

    granted = [kind.date_field, "industry_code"]
    created = await platform.client.post("/v1/sharing-agreements", headers=operator, json={
        "provider_organisation": f"organisations/{uuid.uuid4().hex}",
        "consumer_organisation": f"organisations/{health}",
        "record_type": kind.name, "granted_fields": granted, "purpose": "joint prevention",
        "legal_basis": "Occupational Disease Prevention Law", "valid_from": "2020-01-01", "valid_until": "2099-12-31"})
    assert created.status_code == 201, created.text
    agreement = f"/v1/sharing-agreements/{created.json()['id']}"
    seen = await platform.client.get(url, headers=liaison)
    assert seen.status_code == 200, seen.text
    assert set(seen.json()) - METADATA == set(granted) and sorted(seen.json()["fields"]) == sorted(granted)
    listed = (await platform.client.get(f"/v1/{segment}", headers=liaison)).json()[LIST_KEYS[segment]]
    assert record["id"] in [r["id"] for r in listed] and all(set(r) - METADATA <= set(granted) for r in listed)

    suspended = await platform.client.post(f"{agreement}/suspend", headers=operator)
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    assert_problem(await platform.client.get(url, headers=liaison), 404)
    assert (await platform.client.get(agreement, headers=liaison)).json()["status"] == "suspended"
    resumed = await platform.client.post(f"{agreement}/resume", headers=operator)
    assert resumed.status_code == 200 and resumed.json()["status"] == "active"
    assert (await platform.client.get(url, headers=liaison)).status_code == 200
    assert (await platform.client.post(f"{agreement}/revoke", headers=operator)).json()["status"] == "revoked"
    assert_problem(await platform.client.get(url, headers=liaison), 404)
    assert_problem(await platform.client.post(f"{agreement}/resume", headers=operator), 409,
                   reason="AGREEMENT_REVOKED")


async def test_agreements_accept_each_types_own_fields_only(platform, issuer):
    operator = bearer(issuer, **PO)

    def agreement(record_type: str, fields: list[str]) -> dict:
        return {"provider_organisation": f"organisations/{uuid.uuid4().hex}",
                "consumer_organisation": f"organisations/{uuid.uuid4().hex}", "record_type": record_type,
                "granted_fields": fields, "purpose": "p", "legal_basis": "l", "valid_from": "2020-01-01",
                "valid_until": "2099-12-31"}

    ok = await platform.client.post("/v1/sharing-agreements", headers=operator,
                                    json=agreement("measurements", ["factor", "exceedance"]))
    assert ok.status_code == 201, ok.text
    wrong = await platform.client.post("/v1/sharing-agreements", headers=operator,
                                       json=agreement("disease_cases", ["severity"]))
    assert "sharing_agreement.granted_fields" in violation_fields(assert_problem(wrong, 400))


async def test_every_write_calls_the_change_hook(platform, issuer, monkeypatch):
    calls = []

    async def record_changed(session, **kwargs):
        calls.append(kwargs)

    monkeypatch.setattr(changes, "record_changed", record_changed)
    data = body("disease-cases", category="pneumoconiosis", persons=3)
    record = (await publish(platform, issuer, "disease-cases", data)).json()
    await publish(platform, issuer, "disease-cases", data)  # a replay changes nothing: no call
    url = f"/v1/disease-cases/{record['id']}"
    headers = bearer(issuer, **PO)
    await platform.client.post(f"{url}/correct", json=without_record_id({**data, "persons": 4}), headers=headers)
    await platform.client.post(f"{url}/void", json={}, headers=headers)
    recognition = (await publish(platform, issuer, "recognitions", body("recognitions", fatal=True))).json()

    assert [(c["record_type"], c["kind"]) for c in calls] == [
        ("disease_cases", "published"), ("disease_cases", "corrected"), ("disease_cases", "voided"),
        ("recognitions", "published")]
    published, corrected, voided, recognised = calls
    assert published["record_id"] == record["id"] and published["before"] is None
    assert published["after"] == {**without_record_id(data), "publisher_record_id": data["publisher_record_id"],
                                  "tenant_code": TENANT, "status": "active"}
    assert corrected["before"]["persons"] == 3 and corrected["after"]["persons"] == 4
    assert voided["after"]["status"] == "voided" and voided["before"]["status"] == "active"
    assert recognised["record_id"] == recognition["id"]
    assert recognised["after"]["fatal"] is True and recognised["after"]["injured_at"] == "2024-05-01"
    assert recognised["after"]["industry_code"] == "E4720"
