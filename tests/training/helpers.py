"""Shared helpers of the training tests: REST headers, creating trainees and programmes, and the
learning-record seam (services.training.completions) as the learning-record store calls it."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.training import completions
from tests.gateway.helpers import bearer

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
PLATFORM_URL = "https://learn.example.com"


def po(issuer, tenant: str) -> dict:
    return bearer(issuer, tenant=tenant, roles=("provincial_operator",))


async def create(platform, path: str, body: dict, headers: dict) -> dict:
    response = await platform.client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def course(platform, headers) -> str:
    body = {"title": f"course {uuid.uuid4().hex[:8]}", "content_category": "accident_prevention"}
    return (await create(platform, "/v1/courses", body, headers))["id"]


async def trainee(platform, headers, *, industry: str, employer: str, position: str, name: str = "李四",
                  account: str | None = None, **extra) -> dict:
    body = {"display_name": name, "employer_id": employer, "employer_name": f"Employer {employer}",
            "industry_code": industry, "key_position": position, **extra}
    if account:
        body["accounts"] = [{"home_page": PLATFORM_URL, "name": account}]
    return await create(platform, "/v1/trainees", body, headers)


async def statement(platform, *, tenant: str, course_id: str, account: str, when: datetime,
                    verb: str = COMPLETED, statement_id: str | None = None) -> str:
    """What the learning-record store does for a stored completed/passed statement."""
    statement_id = statement_id or str(uuid.uuid4())
    async with platform.runtimes["training"].database.sessionmaker() as session:
        await completions.record_statement(
            session, tenant_code=tenant, statement_id=statement_id, verb=verb,
            activity_id=completions.course_activity_id("https://prevention.example.gov.cn", course_id),
            account_home_page=PLATFORM_URL, account_name=account, timestamp=when)
        await session.commit()
    return statement_id


async def void(platform, *, tenant: str, statement_id: str) -> None:
    async with platform.runtimes["training"].database.sessionmaker() as session:
        await completions.void_statement(session, tenant_code=tenant, statement_id=statement_id)
        await session.commit()
