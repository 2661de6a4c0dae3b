"""The learning-record seam (services.training.completions) as the store calls it: only
completed/passed statements on an existing course's activity id count; a repeated statement id
changes nothing; voiding stops it counting (SPEC 7.7, TR-5)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.training.helpers import course, create, po, statement, trainee, void

TENANT = "310000"
WHEN = datetime(2027, 6, 1, tzinfo=UTC)
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"


async def trained(platform, issuer) -> int:
    response = await platform.client.get("/v1/coverage", params={"year": 2027}, headers=po(issuer, TENANT))
    assert response.status_code == 200, response.text
    return response.json()["trained"]


@pytest.mark.db
async def test_only_qualifying_statements_count_once_until_voided(platform, issuer):
    headers = po(issuer, TENANT)
    course_id = await course(platform, headers)
    account = f"learner-{uuid.uuid4().hex[:8]}"
    person = await trainee(platform, headers, industry="G5410", employer="bus-1", position="front_line_team_leader",
                           account=account)
    programme = await create(platform, "/v1/programmes", {"title": "Transport 2027", "year": 2027}, headers)
    await platform.client.post(f"/v1/programmes/{programme['id']}/enrolments", json={"trainee_id": person["id"]},
                               headers=headers)
    assert await trained(platform, issuer) == 0

    await statement(platform, tenant=TENANT, course_id=course_id, account=account, when=WHEN, verb=EXPERIENCED)
    await statement(platform, tenant=TENANT, course_id=uuid.uuid4().hex, account=account, when=WHEN)
    await statement(platform, tenant="320000", course_id=course_id, account=account, when=WHEN)
    assert await trained(platform, issuer) == 0, "other verbs, unknown courses and other tenants do not count"

    statement_id = str(uuid.uuid4())
    for _ in range(2):
        await statement(platform, tenant=TENANT, course_id=course_id, account=account, when=WHEN,
                        statement_id=statement_id)
    assert await trained(platform, issuer) == 1
    await void(platform, tenant=TENANT, statement_id=statement_id)
    assert await trained(platform, issuer) == 0
    await statement(platform, tenant=TENANT, course_id=course_id, account=account, when=WHEN,
                    statement_id=statement_id)
    assert await trained(platform, issuer) == 0, "a voided statement id stays voided"
