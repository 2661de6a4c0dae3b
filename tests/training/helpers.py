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


# -- the same through the public learning-record store: xAPI statements from a recommended platform --

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
PUBLIC_BASE_URL = "https://prevention.example.gov.cn"  # the test settings' public base URL
_PUSHERS: dict[tuple[int, str], object] = {}


async def _pusher(platform, issuer, tenant: str):
    """One recommended platform per tenant (registered on the real TR-6 list over REST)."""
    from tests.training.conftest import RecommendedList
    from tests.training.lrs_support import Platform

    key = (id(platform), tenant)
    if key not in _PUSHERS:
        _PUSHERS[key] = await RecommendedList(platform, issuer).register(Platform(issuer, tenant))
    return _PUSHERS[key]


async def xapi_statement(platform, issuer, *, tenant: str, course_id: str, account: str, when: datetime,
                         verb: str = COMPLETED) -> str:
    """POST /xapi/statements: a learner (an xAPI account of the platform) completing a course."""
    who = await _pusher(platform, issuer, tenant)
    body = {"id": str(uuid.uuid4()),
            "actor": {"objectType": "Agent", "account": {"homePage": PLATFORM_URL, "name": account}},
            "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
            "object": {"objectType": "Activity",
                       "id": completions.course_activity_id(PUBLIC_BASE_URL, course_id)},
            "timestamp": when.isoformat()}
    response = await platform.client.post("/xapi/statements", json=body, headers=who.headers())
    assert response.status_code == 200, response.text
    return body["id"]


async def xapi_void(platform, issuer, *, tenant: str, statement_id: str) -> None:
    who = await _pusher(platform, issuer, tenant)
    body = {"actor": {"objectType": "Agent", "account": {"homePage": PLATFORM_URL, "name": "registrar"}},
            "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": statement_id}}
    response = await platform.client.post("/xapi/statements", json=body, headers=who.headers())
    assert response.status_code == 200, response.text
