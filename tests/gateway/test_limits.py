"""RELIABILITY S8 at the gateway: request bodies over the size limit are refused with 413 before
they are read to the end, page sizes are clamped (SPEC 7.4) and page tokens are checked."""

from __future__ import annotations

import base64
import json

import pytest

from services.common.pagination import MAX_PAGE_SIZE
from tests.gateway.helpers import assert_problem, bearer, course_body, unique, violation_fields

MINISTRY = dict(tenant="100000", roles=("ministry_operator",))
PO_BEIJING = dict(tenant="110000", roles=("provincial_operator",))


def padded_body(size: int) -> bytes:
    """A course as JSON, padded with whitespace to exactly ``size`` bytes."""
    body = json.dumps(course_body()).encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


async def course_titles(client, headers) -> set[str]:
    titles, token = set(), ""
    while True:
        r = await client.get("/v1/courses", params={"page_size": MAX_PAGE_SIZE, "page_token": token},
                             headers=headers)
        assert r.status_code == 200, r.text
        titles |= {c["title"] for c in r.json()["courses"]}
        if not (token := r.json()["next_page_token"]):
            return titles


# --- 413 ------------------------------------------------------------------------------------------

async def test_body_at_the_limit_is_read(platform, issuer):
    limit = platform.settings.gateway_max_body_bytes
    r = await platform.client.post("/v1/courses", content=padded_body(limit),
                                   headers={**bearer(issuer, **PO_BEIJING), "Content-Type": "application/json"})
    assert r.status_code == 201, r.text[:500]


async def test_body_over_the_limit_with_content_length_is_413(platform, issuer):
    limit = platform.settings.gateway_max_body_bytes
    headers = {**bearer(issuer, **PO_BEIJING), "Content-Type": "application/json"}
    body = json.dumps({**course_body(), "description": "x" * limit}).encode()
    r = await platform.client.post("/v1/courses", content=body, headers=headers)
    problem = assert_problem(r, 413, reason="PAYLOAD_TOO_LARGE")
    assert str(limit) in problem["detail"]
    assert json.loads(body)["title"] not in await course_titles(platform.client, headers)


async def test_chunked_body_over_the_limit_is_413_without_reading_it_all(platform, issuer):
    limit = platform.settings.gateway_max_body_bytes
    title = unique()
    chunk = 64 * 1024
    sent = 0

    async def stream():
        nonlocal sent
        head = json.dumps({"title": title, "content_category": "accident_prevention", "description": ""})
        yield head[:-2].encode()  # ... "description": "   (left open)
        sent += len(head) - 2
        while sent <= 4 * limit:  # would go on far past the limit if the gateway kept reading
            yield b"x" * chunk
            sent += chunk
        yield b'"}'

    headers = {**bearer(issuer, **PO_BEIJING), "Content-Type": "application/json"}
    r = await platform.client.post("/v1/courses", content=stream(), headers=headers)
    assert "content-length" not in r.request.headers and r.request.headers["transfer-encoding"] == "chunked"
    assert_problem(r, 413, reason="PAYLOAD_TOO_LARGE")
    assert sent <= limit + 2 * chunk, "the gateway read on past the limit"
    assert title not in await course_titles(platform.client, headers)


# --- page size -------------------------------------------------------------------------------------

async def test_huge_page_size_is_clamped_not_refused(platform, issuer):
    # A province of its own, so that it holds more courses than one page can
    tenant = "650000"
    headers = bearer(issuer, tenant=tenant, roles=("provincial_operator",))
    visible = len(await course_titles(platform.client, headers))
    for _ in range(MAX_PAGE_SIZE + 1 - visible):
        r = await platform.client.post("/v1/courses", json=course_body(), headers=headers)
        assert r.status_code == 201, r.text
    r = await platform.client.get("/v1/courses", params={"page_size": 1_000_000}, headers=headers)
    assert r.status_code == 200, r.text
    assert len(r.json()["courses"]) == MAX_PAGE_SIZE
    assert r.json()["next_page_token"]
    # beyond what a protobuf int32 holds: still clamped, never an overflow
    r = await platform.client.get("/v1/tenants", params={"page_size": 2**64}, headers=bearer(issuer, **MINISTRY))
    assert r.status_code == 200, r.text
    assert len(r.json()["tenants"]) <= MAX_PAGE_SIZE


@pytest.mark.parametrize("path", ["/v1/tenants", "/v1/courses", "/v1/key-industries", "/v1/action-plans"])
async def test_negative_page_size_is_400(platform, issuer, path):
    r = await platform.client.get(path, params={"page_size": -1}, headers=bearer(issuer, **PO_BEIJING))
    assert violation_fields(assert_problem(r, 400, reason="INVALID_ARGUMENT")) == ["page_size"]


# --- page tokens ------------------------------------------------------------------------------------

def _token(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize("path", ["/v1/tenants", "/v1/courses"])
@pytest.mark.parametrize(
    "token",
    ["not a token", "%%%", _token({"k": "110000"}), _token([1, 2]), _token({"k": ["110000"], "q": "0" * 16})],
    ids=["words", "symbols", "key-not-a-list", "not-an-object", "foreign-query"],
)
async def test_malformed_page_token_is_400_naming_it(platform, issuer, path, token):
    r = await platform.client.get(path, params={"page_token": token}, headers=bearer(issuer, **MINISTRY))
    assert violation_fields(assert_problem(r, 400, reason="INVALID_ARGUMENT")) == ["page_token"]


async def test_page_token_of_another_query_is_400(platform, issuer):
    headers = bearer(issuer, **MINISTRY)
    r = await platform.client.get("/v1/tenants", params={"page_size": 1}, headers=headers)
    token = r.json()["next_page_token"]
    assert token
    r = await platform.client.get("/v1/tenants", params={"page_token": token, "parent": "100000"}, headers=headers)
    assert violation_fields(assert_problem(r, 400)) == ["page_token"]


async def test_paging_through_tenants_returns_each_once(platform, issuer):
    headers = bearer(issuer, **MINISTRY)
    pages, token = [], ""
    while True:
        r = await platform.client.get("/v1/tenants", params={"page_size": 5, "page_token": token}, headers=headers)
        assert r.status_code == 200, r.text
        pages.append([t["code"] for t in r.json()["tenants"]])
        if not (token := r.json()["next_page_token"]):
            break
        assert len(pages) < 100, "paging does not end"
    codes = [code for page in pages for code in page]
    assert all(len(page) == 5 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 5
    # national + 31 provinces + XPCC, plus whatever pooling regions other tests of the session added
    assert len(codes) == len(set(codes)) >= 33
    assert sum(1 for c in codes if c.endswith("0000")) == 33
    assert codes == sorted(codes)
    r = await platform.client.get("/v1/tenants", params={"page_size": MAX_PAGE_SIZE}, headers=headers)
    assert [t["code"] for t in r.json()["tenants"]] == codes
    assert {"100000", "110000", "650000", "660000"} <= set(codes)


FORGED_QUERIES = {
    "/v1/tenants": {"parent": None}, "/v1/key-industries": {}, "/v1/courses": {}, "/v1/action-plans": {},
    "/v1/users": {}, "/v1/api-clients": {}, "/v1/audit-events": {"kind": ""},
    "/v1/organisations": {"type": ""}, "/v1/notifications": {"unread_only": False},
}


@pytest.mark.parametrize("path", sorted(FORGED_QUERIES))
@pytest.mark.parametrize("key", [[123, {"x": 1}], [None], [[1]], ["a", "b", "c"], [True]])
async def test_forged_page_tokens_are_400_not_500(platform, issuer, path, key):
    """Page tokens are opaque but not signed: one made by hand with the right query but the wrong
    key shape is refused as malformed."""
    from services.common.pagination import encode_page_token

    token = encode_page_token(key, FORGED_QUERIES[path])
    r = await platform.client.get(path, params={"page_token": token}, headers=bearer(issuer, **MINISTRY))
    assert r.status_code == 400, r.text
    assert r.json()["violations"][0]["field"] == "page_token"


async def test_a_forged_course_cursor_with_a_bad_time_is_400(platform, issuer):
    from services.common.pagination import encode_page_token

    r = await platform.client.get("/v1/courses", params={"page_token": encode_page_token(["not-a-time", "x"], {})},
                                  headers=bearer(issuer, **MINISTRY))
    assert r.status_code == 400 and r.json()["violations"][0]["field"] == "page_token"


async def test_presigned_uploads_are_not_bound_by_the_api_body_limit(platform, tmp_path):
    """SPEC 7.5: uploads over 4 MiB go by presigned PUT; the API's body limit must not stop them
    (the store enforces its own limit). Here the API limit is 1 KiB and the upload 64 KiB."""
    from contextlib import AsyncExitStack
    from urllib.parse import urlsplit

    from gateway.app import create_app
    from services.common.storage import object_key
    from tests.conftest import open_gateway

    settings = platform.settings.model_copy(update={"gateway_max_body_bytes": 1024, "data_dir": tmp_path})
    app = create_app(settings, addresses=platform.addresses)
    async with AsyncExitStack() as stack:
        client = await open_gateway(stack, app)
        key = object_key("110000", "training", "materials", "upload-1")
        url = urlsplit(app.state.object_store.presign_put(key, content_type="application/pdf"))
        body = b"%PDF" + bytes(64 * 1024)
        put = await client.put(f"{url.path}?{url.query}", content=body, headers={"Content-Type": "application/pdf"})
        assert put.status_code < 300, put.text
        assert await app.state.object_store.get(key) == body
        api = await client.post("/v1/courses", content=b"x" * 2048, headers={"Content-Type": "application/json"})
        assert api.status_code == 413
