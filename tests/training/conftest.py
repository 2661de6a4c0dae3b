from __future__ import annotations

import pytest

from services.training import recommended
from tests.training.lrs_support import Platform


class RecommendedList:
    """Stands in for the TR-6 list: platforms registered here may push for their tenant."""

    def __init__(self):
        self.allowed: set[tuple[str, str]] = set()

    def register(self, platform: Platform) -> Platform:
        self.allowed.add((platform.tenant, platform.client_id))
        return platform

    async def may_push(self, session, *, tenant_code: str, client_id: str) -> bool:
        return (tenant_code, client_id) in self.allowed


@pytest.fixture
def recommended_list(monkeypatch) -> RecommendedList:
    listed = RecommendedList()
    monkeypatch.setattr(recommended, "may_push", listed.may_push)
    return listed


@pytest.fixture
def lrs_platform(recommended_list, issuer) -> Platform:
    """A fresh recommended platform of tenant 110000 (its own records only: a clean slate per test)."""
    return recommended_list.register(Platform(issuer))
