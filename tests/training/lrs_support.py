"""Helpers for the learning-record store tests: statements, platform tokens, xAPI headers, and a
stand-in for the recommended-platform list (until TR-6 lands, the store's gate is injectable)."""

from __future__ import annotations

import uuid

from services.common.validators import citizen_id_check_char

TENANT = "110000"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
HOME = "https://platform.example.cn"


def learner(name: str | None = None) -> dict:
    return {"objectType": "Agent", "account": {"homePage": HOME, "name": name or f"learner-{uuid.uuid4().hex[:8]}"}}


def statement(*, verb: str = COMPLETED, activity: str | None = None, actor: dict | None = None, **extra) -> dict:
    body = {"id": str(uuid.uuid4()), "actor": actor or learner(), "verb": {"id": verb, "display": {"en-US": "did"}},
            "object": {"objectType": "Activity", "id": activity or f"https://courses.example.cn/{uuid.uuid4().hex}"}}
    body.update(extra)
    return body


def citizen_id() -> str:
    first17 = "11010519491231002"
    return first17 + citizen_id_check_char(first17)


class Platform:
    """A third-party platform: its API client id and bearer tokens with the xAPI scope."""

    def __init__(self, issuer, tenant: str = TENANT):
        self.issuer = issuer
        self.tenant = tenant
        self.client_id = f"platform-{uuid.uuid4().hex[:10]}"

    def token(self, scope: str = "xapi") -> str:
        return self.issuer.token(tenant=self.tenant, roles=["training_platform"],
                                 sub=f"service-account-{self.client_id}", azp=self.client_id, scope=scope)

    def headers(self, version: str = "1.0.3", scope: str = "xapi") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(scope)}", "X-Experience-API-Version": version}

    def metadata(self) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.token()}")]
