"""Exams and certificates (SPEC TR-4): server-side scoring against the pass mark, a certificate PDF
in object storage with a verification code, the public verification endpoint (valid/invalid and the
masked name only), and a pass counting as trained for coverage."""

from __future__ import annotations

import uuid
from datetime import datetime
from urllib.parse import urlsplit

import pytest

from services.common.clock import CST
from tests.gateway.helpers import assert_problem, bearer
from tests.training.helpers import course, create, po, trainee

TENANT, OTHER = "370000", "360000"
# The pass is dated by the service's clock: the programme and the coverage are of that year.
YEAR = datetime.now(CST).year
QUESTIONS = [
    {"text": "Who is responsible for the employer's safety work?", "options": ["the principal", "the union"],
     "answer": 0},
    {"text": "Minimum annual safety training hours for team leaders?", "options": ["4", "20", "none"], "answer": 1},
    {"text": "Report a fatal accident within?", "options": ["1 hour", "1 week"], "answer": 0},
]


@pytest.fixture(scope="module")
async def setup(platform, issuer):
    headers = po(issuer, TENANT)
    course_id = await course(platform, headers)
    bank = await create(platform, "/v1/question-banks", {"course_id": course_id, "title": "Team leader exam",
                                                         "pass_mark": 60, "questions": QUESTIONS}, headers)
    user = uuid.uuid4().hex
    person = await trainee(platform, headers, industry="C2611", employer="chem-1", position="front_line_team_leader",
                           name="赵六顺", user_id=user)
    programme = await create(platform, "/v1/programmes", {"title": "Chem", "year": YEAR,
                                                          "course_ids": [course_id]}, headers)
    response = await platform.client.post(f"/v1/programmes/{programme['id']}/enrolments",
                                          json={"trainee_id": person["id"]}, headers=headers)
    assert response.status_code == 201
    return {"bank": bank, "user": user, "person": person, "course": course_id}


def as_trainee(issuer, user: str, tenant: str = TENANT) -> dict:
    return bearer(issuer, tenant=tenant, roles=("trainee",), sub=user)


@pytest.mark.db
async def test_trainee_sees_no_answers_and_a_fail_issues_nothing(platform, issuer, setup):
    bank_url = f"/v1/question-banks/{setup['bank']['id']}"
    seen = (await platform.client.get(bank_url, headers=as_trainee(issuer, setup["user"]))).json()
    assert [q["answer"] for q in seen["questions"]] == [-1, -1, -1]
    assert [q["answer"] for q in setup["bank"]["questions"]] == [0, 1, 0]
    failed = await platform.client.post(f"{bank_url}/attempts", json={"answers": [1, 1, 1]},
                                        headers=as_trainee(issuer, setup["user"]))
    assert failed.status_code == 201, failed.text
    assert (failed.json()["score"], failed.json()["passed"], failed.json()["certificate"]) == (33, False, None)
    wrong_count = await platform.client.post(f"{bank_url}/attempts", json={"answers": [0]},
                                             headers=as_trainee(issuer, setup["user"]))
    assert [v["field"] for v in assert_problem(wrong_count, 400)["violations"]] == ["answers"]
    stranger = await platform.client.post(f"{bank_url}/attempts", json={"answers": [0, 1, 0]},
                                          headers=as_trainee(issuer, uuid.uuid4().hex))
    assert_problem(stranger, 404)
    foreign = await platform.client.get(bank_url, headers=po(issuer, OTHER))
    assert_problem(foreign, 404)
    assert_problem(await platform.client.post(f"{bank_url}/attempts", json={"answers": [0, 1, 0]},
                                              headers=as_trainee(issuer, setup["user"], OTHER)), 404)


@pytest.mark.db
async def test_pass_issues_a_verifiable_certificate_and_counts_as_trained(platform, issuer, setup):
    before = (await platform.client.get("/v1/coverage", params={"year": YEAR}, headers=po(issuer, TENANT))).json()
    headers = {**as_trainee(issuer, setup["user"]), "Idempotency-Key": uuid.uuid4().hex}
    passed = await platform.client.post(f"/v1/question-banks/{setup['bank']['id']}/attempts",
                                        json={"answers": [0, 1, 1]}, headers=headers)
    assert passed.status_code == 201, passed.text
    body = passed.json()
    assert (body["score"], body["passed"]) == (66, True)
    code = body["certificate"]["verification_code"]
    replay = await platform.client.post(f"/v1/question-banks/{setup['bank']['id']}/attempts",
                                        json={"answers": [0, 1, 1]}, headers=headers)
    assert replay.json()["certificate"]["verification_code"] == code, "a retried attempt issues nothing new"

    url = urlsplit(body["certificate"]["download_url"])
    pdf = await platform.client.get(f"{url.path}?{url.query}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    verified = await platform.client.get(f"/v1/public/certificates/{code}")
    assert verified.status_code == 200 and verified.json() == {"valid": True, "masked_name": "赵**"}
    for unknown in ("ABCDEFGHJKMN", "not-a-code", code[:-1] + ("2" if code[-1] != "2" else "3")):
        assert (await platform.client.get(f"/v1/public/certificates/{unknown}")).json() == {
            "valid": False, "masked_name": ""}

    after = (await platform.client.get("/v1/coverage", params={"year": YEAR}, headers=po(issuer, TENANT))).json()
    assert (before["required"], before["trained"]) == (1, 0)
    assert (after["required"], after["trained"]) == (1, 1)
