"""The real platform for the console's browser tests: all four services, the gateway served on a
free loopback port with the embedded issuer and the demo users (operators TOTP-enrolled), some
accident records in two provinces and notifications in the operators' inboxes; and Debian's
chromium driven by Playwright (never `playwright install`). Under CI=true nothing here skips."""

from __future__ import annotations

import os
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import grpc
import httpx
import pyotp
import pytest
from prevention.identity.v1 import identity_pb2, identity_pb2_grpc

from gateway.app import create_app
from services.common.db import Database
from services.common.settings import PlatformSettings
from services.identity import seed as identity_seed
from tests.browser.conftest_names import BEIJING, MINISTRY, TIANJIN
from tests.browser.seed_pages import seed_assessment, seed_pages
from tests.support.platform import ServedGateway, free_port, start_services

CHROMIUM = Path(os.environ.get("PREVENTION_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "browser"
TOKEN = "/realms/prevention/protocol/openid-connect/token"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def parse_credentials(lines: list[str]) -> dict:
    result = {}
    for line in lines:
        words = line.split()
        result[words[1]] = dict(zip(words[2::2], words[3::2], strict=False))
    return result


@dataclass
class ConsolePlatform:
    url: str
    client: httpx.AsyncClient
    addresses: dict
    credentials: dict
    settings: PlatformSettings
    tokens: dict = field(default_factory=dict)

    def totp(self, username: str) -> str:
        return pyotp.TOTP(self.credentials[username]["totp-secret"]).now()

    async def token(self, username: str) -> str:
        """A fresh access token through the password grant, as a script would get one."""
        response = await self.client.post(TOKEN, data={
            "grant_type": "password", "client_id": "prevention-console", "username": username,
            "password": self.credentials[username]["password"], "totp": self.totp(username)})
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    async def get(self, username: str, path: str, **params) -> dict:
        response = await self.client.get(path, params=params,
                                         headers={"Authorization": f"Bearer {await self.token(username)}"})
        assert response.status_code == 200, response.text
        return response.json()

    async def all_accidents(self, username: str, **params) -> list[dict]:
        """Every page of GET /v1/accidents, as the console pages it."""
        token, items = "", []
        while True:
            page = await self.get(username, "/v1/accidents", page_size=100, **params,
                                  **({"page_token": token} if token else {}))
            items += page["accidents"]
            token = page["next_page_token"]
            if not token:
                return items


def accident(occurred_at: str, severity: str) -> dict:
    return {"publisher_record_id": f"rec-{uuid.uuid4().hex}", "occurred_at": occurred_at,
            "employer": f"organisations/{uuid.uuid4().hex}", "industry_code": "C2611", "severity": severity,
            "accident_type": "machinery_injury", "persons_injured": 1,
            "fatalities": 1 if severity == "fatal" else 0, "days_lost": 10, "description": "browser test record"}


# Distinct figures per province, so one province's numbers are recognisable on another's page.
ACCIDENTS = {
    BEIJING: [(-4, "minor", 2), (-2, "serious", 3), (-1, "minor", 4), (-1, "fatal", 1), (0, "serious", 1)],
    TIANJIN: [(-3, "minor", 7), (-2, "fatal", 5), (-1, "serious", 9), (-6, "minor", 6)],
}


async def _seed_data(p: ConsolePlatform) -> None:
    year = datetime.now(UTC).year
    for user, rows in ACCIDENTS.items():
        headers = {"Authorization": f"Bearer {await p.token(user)}"}
        for offset, severity, count in rows:
            for _ in range(count):
                day = f"{year + offset}-03-15" if offset else f"{year}-01-02"
                response = await p.client.post("/v1/accidents", json=accident(day, severity), headers=headers)
                assert response.status_code == 201, response.text
        # A voided record does not count.
        created = await p.client.post("/v1/accidents", json=accident(f"{year - 1}-06-01", "minor"), headers=headers)
        voided = await p.client.post(f"/v1/accidents/{created.json()['id']}/void", json={"reason": "duplicate"},
                                     headers=headers)
        assert voided.status_code == 200, voided.text
    await seed_pages(p)
    await seed_assessment(p)
    ministry = await p.token(MINISTRY)
    async with grpc.aio.insecure_channel(p.addresses["identity"]) as channel:
        stub = identity_pb2_grpc.IdentityServiceStub(channel)
        for title in ("年度实施情况报告即将到期", "整改通知已逾期"):
            await stub.Notify(identity_pb2.NotifyRequest(roles=["ministry_operator", "provincial_operator"],
                                                         tenant_code="100000", kind="DEADLINE_REMINDER",
                                                         title=title, body="请在截止日期前处理。"),
                              metadata=[("authorization", f"Bearer {ministry}")], timeout=10)


@pytest.fixture(scope="session")
async def console_platform(tmp_path_factory, db_factory):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = PlatformSettings(
        data_dir=tmp_path_factory.mktemp("console"), oidc_issuer=f"{base}/realms/prevention",
        oidc_jwks_cooldown_seconds=0.0, gateway_port=port, health_interval_seconds=0.1,
    )
    identity_url = await db_factory.prepared("identity")
    database = Database(identity_url)
    async with database.session() as session:
        seeded = await identity_seed.seed(session, demo=True, settings=settings)
    await database.dispose()
    runtimes, _, addresses = await start_services(settings, db_factory, prepared={"identity": identity_url})
    stack = AsyncExitStack()
    try:
        await stack.enter_async_context(ServedGateway(create_app(settings, addresses=addresses), port))
        client = await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=30))
        platform = ConsolePlatform(url=base, client=client, addresses=addresses,
                                   credentials=parse_credentials(seeded["credentials"]), settings=settings)
        await _seed_data(platform)
        yield platform
    finally:
        await stack.aclose()
        for runtime in reversed(list(runtimes.values())):
            await runtime.stop(grace=1.0)


@pytest.fixture(scope="session")
async def chromium():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("playwright is missing: it is in the dev extras (`make setup`)")
        pytest.skip("playwright is not installed")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS,
                                                   headless=True)
        yield browser
        await browser.close()


@pytest.fixture
def artifacts(request) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
