"""Helpers for the rectification and inspection tests: bodies, identities, organisations and
users in identity, overdue notices and the deadline job driven with injected times."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import grpc
from prevention.identity.v1 import identity_pb2_grpc

from services.common.clock import CST, cst_date
from services.common.context import Caller
from services.common.db import Database
from services.sharing import rectification
from services.sharing.rectification_jobs import DeadlineJob, identity_notifier
from tests.gateway.helpers import bearer
from tests.isolation.resources import harness_uscc

TENANT = "140000"  # Shanxi: no other test writes rectification notices there


def hex_id() -> str:
    return uuid.uuid4().hex


def org() -> str:
    return f"organisations/{hex_id()}"


def today_cst() -> date:
    return cst_date(datetime.now(UTC))


def notice_body(employer: str, **overrides) -> dict:
    body = {"employer": employer, "source": f"hazardReports/{hex_id()}", "source_type": "hazard_report",
            "required_action": "Fit guardrails to the mezzanine edge.",
            "deadline_date": (today_cst() + timedelta(days=10)).isoformat()}
    body.update(overrides)
    return body


def po(issuer, tenant: str = TENANT) -> dict:
    return bearer(issuer, tenant=tenant, roles=("provincial_operator",))


def dl(issuer, department: str, tenant: str = TENANT, **extra) -> dict:
    return bearer(issuer, tenant=tenant, roles=("department_liaison",), org=department.removeprefix("organisations/"),
                  **extra)


def eo(issuer, employer: str, tenant: str = TENANT, **extra) -> dict:
    return bearer(issuer, tenant=tenant, roles=("employer_officer",), org=employer.removeprefix("organisations/"),
                  **extra)


class ServiceTokenStub:
    """The scheduler's service identity in tests: tokens of the test issuer (the platform's
    services trust it) for a tenant-100000 department liaison, the role the design names."""

    def __init__(self, issuer, *, fail: bool = False):
        self.issuer, self.fail, self.calls = issuer, fail, 0

    async def token(self) -> str:
        self.calls += 1
        if self.fail:
            from services.common.errors import Unavailable
            raise Unavailable("token endpoint unavailable", reason="SERVICE_TOKEN_UNAVAILABLE")
        return self.issuer.token(tenant="100000", roles=["department_liaison"], sub="service-account-sharing")


class Runner:
    """A deadline-job runner against the platform's sharing database and identity service."""

    def __init__(self, platform, issuer, *, tokens=None, notifier=None):
        self.database = Database(platform.urls["sharing"])
        self.channel = grpc.aio.insecure_channel(platform.addresses["identity"])
        notifier = notifier or identity_notifier(identity_pb2_grpc.IdentityServiceStub(self.channel))
        self.job = DeadlineJob(sessionmaker=self.database.sessionmaker, tokens=tokens or ServiceTokenStub(issuer),
                               notifier=notifier)

    async def __aenter__(self) -> Runner:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.channel.close()
        await self.database.dispose()


def cst(d: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, second, tzinfo=CST).astimezone(UTC)


async def raise_notice_at(platform, *, now: datetime, department: str, employer: str, deadline: date,
                          tenant: str = TENANT, source_type: str = "hazard_report") -> str:
    """A notice issued at ``now`` (in the past: its deadline may have passed by today), through the
    domain function other code calls in its own transaction."""
    database = Database(platform.urls["sharing"])
    caller = Caller(subject=f"liaison-{hex_id()[:8]}", tenant=tenant, roles=frozenset({"department_liaison"}),
                    organisation=department.removeprefix("organisations/"))
    try:
        async with database.session() as session:
            row, created = await rectification.raise_notice(
                session, caller, source=f"hazardReports/{hex_id()}", source_type=source_type, employer=employer,
                required_action="Repair the dust extraction.", deadline_date=deadline, now=now)
            assert created
            await session.commit()
            return row.id
    finally:
        await database.dispose()


async def create_organisation(platform, issuer, tenant: str, kind: str) -> str:
    if kind == "employer":
        body = {"type": "employer", "display_name": f"employer {hex_id()[:8]}",
                "employer": {"uscc": harness_uscc(), "industry_code": "C2611", "risk_class": 3, "headcount": 10,
                             "insured_headcount": 8, "pooling_region_code": tenant}}
    else:
        body = {"type": "government_department", "display_name": f"department {hex_id()[:8]}",
                "department_type": "health"}
    response = await platform.client.post("/v1/organisations", json=body, headers=po(issuer, tenant))
    assert response.status_code == 201, response.text
    return f"organisations/{response.json()['id']}"


async def create_user(platform, issuer, tenant: str, role: str, organisation: str) -> str:
    body = {"username": f"rect-{hex_id()[:12]}", "display_name": "Rectification Tester", "roles": [role],
            "password": "rectification-pass-1234", "organisation": organisation}
    response = await platform.client.post("/v1/users", json=body, headers=po(issuer, tenant))
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def inbox(platform, headers: dict) -> list[dict]:
    response = await platform.client.get("/v1/notifications", params={"page_size": 100}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["notifications"]
