from __future__ import annotations

import uuid

import pytest

from tests.gateway.helpers import bearer
from tests.training.lrs_support import Platform


class RecommendedList:
    """The real TR-6 recommended list, driven over REST: registering a platform puts its API
    client on its tenant's list in state recommended; ``suspend`` takes it off."""

    def __init__(self, platform, issuer):
        self.platform = platform
        self.issuer = issuer
        self.items: dict[str, str] = {}  # client id -> list item id

    async def register(self, who: Platform) -> Platform:
        body = {"display_name": f"Platform {who.client_id}", "kind": "platform",
                "base_url": f"https://{who.client_id}.example.com", "qualifications": ["MEM training licence"],
                "client_ids": [who.client_id]}
        created = await self.platform.client.post("/v1/training-platforms", json=body, headers=self._po(who))
        assert created.status_code == 201, created.text
        self.items[who.client_id] = created.json()["id"]
        return who

    async def suspend(self, who: Platform) -> None:
        response = await self.platform.client.post(
            f"/v1/training-platforms/{self.items[who.client_id]}/state",
            json={"state": "suspended", "reason": f"review {uuid.uuid4().hex[:6]}"}, headers=self._po(who))
        assert response.status_code == 200, response.text

    def _po(self, who: Platform) -> dict:
        return bearer(self.issuer, tenant=who.tenant, roles=("provincial_operator",))


@pytest.fixture
def recommended_list(platform, issuer) -> RecommendedList:
    return RecommendedList(platform, issuer)


@pytest.fixture
async def lrs_platform(recommended_list, issuer) -> Platform:
    """A fresh recommended platform of tenant 110000 (its own records only: a clean slate per test)."""
    return await recommended_list.register(Platform(issuer))
