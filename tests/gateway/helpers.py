"""Helpers shared by the gateway tests: bearer headers, problem+json assertions, unique data."""

from __future__ import annotations

import uuid

import httpx

from tests.support.tokens import TokenIssuer

PROBLEM = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail"}


def bearer(issuer: TokenIssuer, *, tenant: str = "110000", roles: tuple[str, ...] = ("provincial_operator",),
           **extra) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.token(tenant=tenant, roles=list(roles), **extra)}"}


def unique(prefix: str = "course") -> str:
    return f"{prefix} {uuid.uuid4().hex[:12]}"


def course_body(**overrides) -> dict:
    body = {"title": unique(), "content_category": "accident_prevention"}
    body.update(overrides)
    return body


def assert_problem(response: httpx.Response, status: int, *, reason: str | None = None) -> dict:
    """The response is an RFC 9457 problem with ``status`` (SPEC 7.4) and carries the request id."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM, response.headers
    body = response.json()
    assert PROBLEM_KEYS <= body.keys(), body
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    if reason is not None:
        assert body.get("reason") == reason, body
    return body


def violation_fields(problem: dict) -> list[str]:
    return [v["field"] for v in problem.get("violations", [])]
