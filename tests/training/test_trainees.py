"""Trainees, programmes and enrolment (SPEC TR-2), personal data masked by default and encrypted
at rest (SPEC 7.3, NF-8), and a trainee's own learning-data export (NF-8)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from tests.gateway.helpers import assert_problem, bearer
from tests.training.helpers import course, create, po, statement

TENANT, OTHER = "350000", "340000"
CITIZEN_ID = "11010519491231002X"


def body(**overrides) -> dict:
    values = {"display_name": "陈大文", "employer_id": "mine-7", "employer_name": "Fujian Mine No. 7",
              "industry_code": "B0610", "key_position": "head_of_safety_management"}
    values.update(overrides)
    return values


@pytest.mark.db
async def test_personal_data_is_encrypted_and_masked_by_reader(platform, issuer):
    user = uuid.uuid4().hex
    created = await platform.client.post("/v1/trainees", json=body(citizen_id=CITIZEN_ID, user_id=user),
                                         headers=po(issuer, TENANT))
    assert created.status_code == 201, created.text
    item = created.json()
    assert (item["display_name"], item["citizen_id"], item["key_industry"]) == ("陈大文", CITIZEN_ID, "mining")
    url = f"/v1/trainees/{item['id']}"

    async with platform.runtimes["training"].database.sessionmaker() as session:
        row = (await session.execute(text("SELECT * FROM trainees WHERE id = :id"),
                                     {"id": item["id"]})).mappings().one()
    assert CITIZEN_ID not in json.dumps({k: str(v) for k, v in row.items()}) and "陈大文" not in str(dict(row))

    officer = bearer(issuer, tenant=TENANT, roles=("employer_officer",), org="mine-7")
    seen = (await platform.client.get(url, headers=officer)).json()
    assert seen["display_name"] == "陈**" and seen["citizen_id"] != CITIZEN_ID and "*" in seen["citizen_id"]
    assert_problem(await platform.client.get(url, headers=bearer(issuer, tenant=TENANT, roles=("employer_officer",),
                                                                 org="another")), 404)
    mine = (await platform.client.get(url, headers=bearer(issuer, tenant=TENANT, roles=("trainee",), sub=user))).json()
    assert (mine["display_name"], mine["citizen_id"]) == ("陈大文", CITIZEN_ID)
    assert_problem(await platform.client.get(url, headers=bearer(issuer, tenant=TENANT, roles=("trainee",))), 404)
    assert_problem(await platform.client.get(url, headers=po(issuer, OTHER)), 404)

    again = await platform.client.post("/v1/trainees", json=body(citizen_id=CITIZEN_ID), headers=po(issuer, TENANT))
    assert_problem(again, 409)
    elsewhere = await platform.client.post("/v1/trainees", json=body(citizen_id=CITIZEN_ID),
                                           headers=po(issuer, OTHER))
    assert elsewhere.status_code == 201, "one person may be a trainee in two tenants"


@pytest.mark.db
async def test_employer_officer_enrols_own_employees_only(platform, issuer):
    officer = bearer(issuer, tenant=TENANT, roles=("employer_officer",), org="quarry-3")
    refused = await platform.client.post("/v1/trainees", json=body(employer_id="someone-else"), headers=officer)
    assert [v["field"] for v in assert_problem(refused, 400)["violations"]] == ["trainee.employer_id"]
    own = await platform.client.post("/v1/trainees", json=body(employer_id="quarry-3"), headers=officer)
    assert own.status_code == 201, own.text
    programme = await create(platform, "/v1/programmes", {"title": "Quarry 2026", "year": 2026}, po(issuer, TENANT))
    url = f"/v1/programmes/{programme['id']}/enrolments"
    first = await platform.client.post(url, json={"trainee_id": own.json()["id"]}, headers=officer)
    second = await platform.client.post(url, json={"trainee_id": own.json()["id"]}, headers=po(issuer, TENANT))
    assert first.status_code == second.status_code == 201 and first.json()["id"] == second.json()["id"]
    stranger = await create(platform, "/v1/trainees", body(employer_id="not-quarry"), po(issuer, TENANT))
    assert_problem(await platform.client.post(url, json={"trainee_id": stranger["id"]}, headers=officer), 404)
    assert_problem(await platform.client.post(url, json={"trainee_id": own.json()["id"]},
                                              headers=po(issuer, OTHER)), 404)


@pytest.mark.parametrize(("field", "value"), [
    ("industry_code", "A26"), ("key_position", "chief"), ("citizen_id", "110105194912310021"),
    ("display_name", " "),
])
async def test_bad_trainee_fields_are_named(platform, issuer, field, value):
    response = await platform.client.post("/v1/trainees", json=body(**{field: value}), headers=po(issuer, TENANT))
    problem = assert_problem(response, 400)
    assert any(v["field"].endswith(field) for v in problem["violations"]), problem
    if field == "citizen_id":  # personal data never echoed in an error
        assert value not in json.dumps(problem, ensure_ascii=False)


@pytest.mark.db
async def test_trainee_exports_own_learning_data(platform, issuer):
    user = uuid.uuid4().hex
    headers = po(issuer, TENANT)
    course_id = await course(platform, headers)
    person = await create(platform, "/v1/trainees", body(user_id=user, accounts=[
        {"home_page": "https://learn.example.com", "name": f"u-{user[:6]}"}]), headers)
    programme = await create(platform, "/v1/programmes", {"title": "Export 2026", "year": 2026,
                                                          "course_ids": [course_id]}, headers)
    await platform.client.post(f"/v1/programmes/{programme['id']}/enrolments", json={"trainee_id": person["id"]},
                               headers=headers)
    statement_id = await statement(platform, tenant=TENANT, course_id=course_id, account=f"u-{user[:6]}",
                                   when=datetime(2026, 3, 1, tzinfo=UTC))

    exported = await platform.client.get("/v1/trainees/me/learning-data",
                                         headers=bearer(issuer, tenant=TENANT, roles=("trainee",), sub=user))
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-disposition"].startswith("attachment")
    data = exported.json()
    [mine] = data["trainees"]
    assert mine["id"] == person["id"] and mine["name"] == "陈大文"
    assert mine["xapi_accounts"] == [{"homePage": "https://learn.example.com", "name": f"u-{user[:6]}"}]
    assert [e["programme"] for e in mine["enrolments"]] == [f"programmes/{programme['id']}"]
    assert [c["statement_id"] for c in mine["completions"]] == [statement_id]

    nobody = await platform.client.get("/v1/trainees/me/learning-data",
                                       headers=bearer(issuer, tenant=TENANT, roles=("trainee",)))
    assert nobody.status_code == 200 and nobody.json()["trainees"] == []
    assert_problem(await platform.client.get("/v1/trainees/me/learning-data", headers=headers), 403)
