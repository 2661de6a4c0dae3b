"""The platform with the embedded OIDC issuer: the gateway served on a real port, every service
validating the identity service's tokens through the gateway's JWKS route (SPEC 7.2)."""

from __future__ import annotations

import functools
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pyotp
import pytest

from gateway.app import create_app
from services.common.clock import FrozenClock
from services.common.db import Database
from services.common.settings import PlatformSettings
from services.identity import seed as identity_seed
from services.identity.servicer import build as identity_build
from tests.support.platform import ServedGateway, free_port, start_services


@dataclass
class IssuerPlatform:
    url: str
    client: httpx.AsyncClient
    addresses: dict
    credentials: dict
    clock: FrozenClock
    settings: object

    async def login(self, username: str, *, password: str | None = None, totp: str | None = None,
                    client_id: str = "prevention-console") -> httpx.Response:
        data = {"grant_type": "password", "client_id": client_id, "username": username,
                "password": password if password is not None else self.credentials[username]["password"]}
        secret = self.credentials.get(username, {}).get("totp-secret")
        if totp is None and secret:
            totp = pyotp.TOTP(secret).at(self.clock.now())
        if totp:
            data["totp"] = totp
        return await self.client.post("/realms/prevention/protocol/openid-connect/token", data=data)

    async def token(self, username: str) -> str:
        response = await self.login(username)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]


def parse_credentials(lines: list[str]) -> dict:
    result = {}
    for line in lines:
        words = line.split()
        result[words[1]] = dict(zip(words[2::2], words[3::2], strict=False))
    return result


@pytest.fixture(scope="session")
async def issuer_platform(tmp_path_factory, db_factory):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = PlatformSettings(
        data_dir=tmp_path_factory.mktemp("issuer"), oidc_issuer=f"{base}/realms/prevention",
        oidc_jwks_cooldown_seconds=0.0, gateway_port=port, health_interval_seconds=0.1,
    )
    clock = FrozenClock(datetime.now(UTC))
    identity_url = await db_factory.prepared("identity")
    database = Database(identity_url)
    async with database.session() as session:
        seeded = await identity_seed.seed(session, demo=True, settings=settings)
    await database.dispose()
    builders = {"identity": functools.partial(identity_build, clock=clock)}
    runtimes, _, addresses = await start_services(settings, db_factory, builders=builders,
                                                     prepared={"identity": identity_url})
    stack = AsyncExitStack()
    app = create_app(settings, addresses=addresses)
    await stack.enter_async_context(ServedGateway(app, port))
    client = await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=30))
    yield IssuerPlatform(url=base, client=client, addresses=addresses,
                         credentials=parse_credentials(seeded["credentials"]), clock=clock, settings=settings)
    await stack.aclose()
    for runtime in reversed(list(runtimes.values())):
        await runtime.stop(grace=1.0)
