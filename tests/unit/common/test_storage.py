"""Object storage (SPEC 7.5, RELIABILITY S3 / D5): the same behaviour from the local store and S3.

The local store's presigned URLs are answered by gateway.objects mounted in a FastAPI app (driven
in-process through httpx.ASGITransport); the S3 store runs against a real SeaweedFS started once
for this module, which checks SigV4 signatures and expiry itself.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import secrets
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from fastapi import FastAPI

from gateway.objects import objects_router
from services.common.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unavailable,
)
from services.common.storage import (
    DEFAULT_CONTENT_TYPES,
    DEFAULT_EXPIRY,
    DEFAULT_MAX_SIZE,
    LocalObjectStore,
    ObjectInfo,
    ObjectStore,
    S3ObjectStore,
    object_key,
    object_store_from_settings,
    parse_object_key,
)
from tests.support.seaweed import SeaweedS3, SeaweedUnavailable

TENANT = "110000"
OTHER_TENANT = "120000"
BUCKET = "prevention-test"
BASE_URL = "http://gateway.test"
SIGNING_KEY = secrets.token_bytes(32)


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seaweed():
    server = SeaweedS3()
    try:
        server.start()
    except (SeaweedUnavailable, OSError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"SeaweedFS must run in CI but could not start: {exc}")
        pytest.skip(f"SeaweedFS could not start (set CI=true to make this a failure): {exc}")
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Harness:
    name: str
    store: ObjectStore
    http: httpx.AsyncClient  # fetches presigned URLs

    def key(self, kind: str = "doc", tenant: str = TENANT) -> str:
        return object_key(tenant, "training", kind, uuid.uuid4().hex)


def local_app(store: LocalObjectStore) -> FastAPI:
    app = FastAPI()
    app.include_router(objects_router(lambda: store))
    return app


def s3_store(server: SeaweedS3, **kw) -> S3ObjectStore:
    return S3ObjectStore(server.endpoint, server.access_key, server.secret_key, BUCKET, secure=False, **kw)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
async def harness(request, tmp_path: Path) -> AsyncIterator[Harness]:
    if request.param == "local":
        store = LocalObjectStore(tmp_path / "objects", base_url=BASE_URL, signing_key=SIGNING_KEY)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=local_app(store)))
    else:
        server = request.getfixturevalue("seaweed")
        store = s3_store(server)
        await store.ensure_bucket()
        http = httpx.AsyncClient(trust_env=False)
    async with http:
        yield Harness(request.param, store, http)


# -- URL helpers -----------------------------------------------------------------------------------


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    for name, value in changes.items():
        assert name in params, name
        params[name] = value
    return urlunsplit(parts._replace(query=urlencode(params)))


def signature_param(url: str) -> str:
    params = query(url)
    return "X-Amz-Signature" if "X-Amz-Signature" in params else "X-Prevention-Signature"


def tamper_signature(url: str) -> str:
    name = signature_param(url)
    sig = query(url)[name]
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    return with_query(url, **{name: flipped})


def expiry_of(url: str) -> datetime:
    """The instant a presigned URL stops working, from its query (S3 SigV4 or local store)."""
    params = query(url)
    if "X-Amz-Expires" in params:
        signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return signed_at + timedelta(seconds=int(params["X-Amz-Expires"]))
    return datetime.fromtimestamp(int(params["X-Prevention-Expires"]), UTC)


def whole_seconds(dt: datetime) -> datetime:
    return dt.replace(microsecond=0)


# -- keys ------------------------------------------------------------------------------------------


def test_object_key_layout():
    key = object_key("110000", "training", "certificate", "c-2026.0001_a")
    assert key == "110000/training/certificate/c-2026.0001_a"
    assert parse_object_key(key) == ("110000", "training", "certificate", "c-2026.0001_a")


@pytest.mark.parametrize(
    ("segments", "field"),
    [
        (("11000", "training", "doc", "x"), "tenant"),
        (("1100001", "training", "doc", "x"), "tenant"),
        (("11000a", "training", "doc", "x"), "tenant"),
        (("../110", "training", "doc", "x"), "tenant"),
        (("110000", "Training", "doc", "x"), "service"),
        (("110000", "", "doc", "x"), "service"),
        (("110000", "a/b", "doc", "x"), "service"),
        (("110000", "training", ".hidden", "x"), "kind"),
        (("110000", "training", "a..b", "x"), "kind"),
        (("110000", "training", "doc", ".."), "object_id"),
        (("110000", "training", "doc", "-x"), "object_id"),
        (("110000", "training", "doc", "x" * 129), "object_id"),
        (("110000", "training", "doc", "a b"), "object_id"),
        (("110000", "training", "doc", "a\x00b"), "object_id"),
    ],
)
def test_object_key_rejects_bad_segment(segments, field):
    with pytest.raises(InvalidArgument) as err:
        object_key(*segments)
    assert [v.field for v in err.value.violations] == [field]


def test_object_key_reports_every_bad_segment_without_echoing_values():
    citizen_id = "11010519491231002X"  # personal data must never reach an error message
    with pytest.raises(InvalidArgument) as err:
        object_key("beijing", "training", "Doc", citizen_id)
    assert [v.field for v in err.value.violations] == ["tenant", "kind", "object_id"]
    assert citizen_id not in err.value.message
    assert "beijing" not in err.value.message


def test_longest_segment_is_accepted():
    assert object_key(TENANT, "s" * 128, "k", "i" * 128).endswith("i" * 128)


# -- the behaviour both stores share ---------------------------------------------------------------


async def test_put_get_stat_delete_roundtrip(harness: Harness):
    key = harness.key()
    data = b"%PDF-1.7 certificate" + os.urandom(100)
    info = await harness.store.put(key, data, "application/pdf")
    expected = ObjectInfo(key, len(data), "application/pdf", hashlib.sha256(data).hexdigest())
    assert info == expected
    assert await harness.store.get(key) == data
    assert await harness.store.stat(key) == expected

    await harness.store.delete(key)
    with pytest.raises(NotFound):
        await harness.store.get(key)
    with pytest.raises(NotFound):
        await harness.store.stat(key)


async def test_put_replaces_and_keeps_content_type_parameters(harness: Harness):
    key = harness.key("import")
    await harness.store.put(key, b"old", "application/octet-stream")
    data = "姓名,单位\n".encode("gb18030")
    info = await harness.store.put(key, data, "text/csv; charset=gb18030")
    assert info.content_type == "text/csv; charset=gb18030"
    assert await harness.store.get(key) == data
    assert await harness.store.stat(key) == info


async def test_empty_object(harness: Harness):
    key = harness.key()
    info = await harness.store.put(key, b"", "application/json")
    assert info.size == 0
    assert info.sha256 == hashlib.sha256(b"").hexdigest()
    assert await harness.store.get(key) == b""
    assert (await harness.store.stat(key)).size == 0


async def test_missing_key_is_not_found_and_names_the_key(harness: Harness):
    key = harness.key()
    for call in (harness.store.get, harness.store.stat):
        with pytest.raises(NotFound) as err:
            await call(key)
        assert key in err.value.message


async def test_delete_of_missing_object_is_not_an_error(harness: Harness):
    await harness.store.delete(harness.key())


async def test_oversize_put_is_resource_exhausted(harness: Harness):
    key = harness.key()
    with pytest.raises(ResourceExhausted) as err:
        await harness.store.put(key, b"\0" * (DEFAULT_MAX_SIZE + 1), "application/octet-stream")
    assert err.value.reason == "OBJECT_TOO_LARGE"
    with pytest.raises(NotFound):
        await harness.store.stat(key)
    # exactly 4 MiB still goes through put
    info = await harness.store.put(key, b"\1" * DEFAULT_MAX_SIZE, "application/octet-stream")
    assert info.size == DEFAULT_MAX_SIZE
    assert (await harness.store.stat(key)).size == DEFAULT_MAX_SIZE


@pytest.mark.parametrize("content_type", ["text/html", "application/x-msdownload", "image/svg+xml", ""])
async def test_bad_content_type_is_invalid_argument(harness: Harness, content_type: str):
    key = harness.key()
    with pytest.raises(InvalidArgument) as err:
        await harness.store.put(key, b"<script>", content_type)
    assert [v.field for v in err.value.violations] == ["content_type"]
    with pytest.raises(InvalidArgument) as err:
        harness.store.presign_put(key, content_type=content_type)
    assert [v.field for v in err.value.violations] == ["content_type"]
    with pytest.raises(NotFound):
        await harness.store.stat(key)


@pytest.mark.parametrize(
    ("key", "field"),
    [
        ("110000/training/doc", "key"),
        ("110000/training/doc/x/y", "key"),
        ("110000/training/doc/../x", "key"),
        ("/110000/training/doc", "tenant"),  # leading slash: first segment empty
        ("../training/doc/x", "tenant"),
        ("110000/Training/doc/x", "service"),
        ("110000/training/doc/..", "object_id"),
        ("110000/training/doc/", "object_id"),
    ],
)
async def test_bad_keys_are_rejected_by_every_operation(harness: Harness, key: str, field: str):
    store = harness.store
    calls = [
        lambda: store.put(key, b"x", "application/json"),
        lambda: store.get(key),
        lambda: store.stat(key),
        lambda: store.delete(key),
    ]
    for call in calls:
        with pytest.raises(InvalidArgument) as err:
            await call()
        assert [v.field for v in err.value.violations] == [field]
    for presign in (lambda: store.presign_get(key), lambda: store.presign_put(key, content_type="text/csv")):
        with pytest.raises(InvalidArgument) as err:
            presign()
        assert [v.field for v in err.value.violations] == [field]


async def test_ping(harness: Harness):
    await harness.store.ping()


# -- presigned URLs --------------------------------------------------------------------------------


async def test_presigned_get(harness: Harness):
    key = harness.key()
    data = os.urandom(3000)
    await harness.store.put(key, data, "image/png")
    r = await harness.http.get(harness.store.presign_get(key))
    assert r.status_code == 200, r.text
    assert r.content == data
    assert r.headers["content-type"] == "image/png"


async def test_presigned_get_of_missing_object_is_404(harness: Harness):
    r = await harness.http.get(harness.store.presign_get(harness.key()))
    assert r.status_code == 404


async def test_presigned_put_then_readable(harness: Harness):
    key = harness.key("upload")
    data = os.urandom(70_000)
    url = harness.store.presign_put(key, content_type="video/mp4")
    r = await harness.http.put(url, content=data, headers={"Content-Type": "video/mp4"})
    assert r.status_code == 200, r.text
    assert await harness.store.get(key) == data
    assert await harness.store.stat(key) == ObjectInfo(
        key, len(data), "video/mp4", hashlib.sha256(data).hexdigest()
    )


async def test_presigned_put_may_exceed_the_put_limit(harness: Harness):
    key = harness.key("upload")
    data = b"\2" * (DEFAULT_MAX_SIZE + 1)
    url = harness.store.presign_put(key, content_type="application/octet-stream")
    r = await harness.http.put(url, content=data, headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    assert (await harness.store.stat(key)).size == len(data)


async def test_tampered_presigned_get_is_403(harness: Harness):
    key, other = harness.key(), harness.key(tenant=OTHER_TENANT)
    await harness.store.put(key, b"mine", "application/json")
    await harness.store.put(other, b"another tenant's", "application/json")
    url = harness.store.presign_get(key)

    assert (await harness.http.get(url)).status_code == 200
    for tampered in (url.replace(key, other), tamper_signature(url)):
        assert tampered != url
        r = await harness.http.get(tampered)
        assert r.status_code == 403, (tampered, r.text)
        assert b"another tenant" not in r.content


async def test_tampered_presigned_put_is_403_and_stores_nothing(harness: Harness):
    key, other = harness.key("upload"), harness.key("upload", tenant=OTHER_TENANT)
    url = harness.store.presign_put(key, content_type="application/pdf")
    headers = {"Content-Type": "application/pdf"}
    for tampered in (url.replace(key, other), tamper_signature(url)):
        assert tampered != url
        r = await harness.http.put(tampered, content=b"%PDF", headers=headers)
        assert r.status_code == 403, (tampered, r.text)
    for k in (key, other):
        with pytest.raises(NotFound):
            await harness.store.stat(k)


async def test_extended_expiry_is_403(harness: Harness):
    key = harness.key()
    await harness.store.put(key, b"{}", "application/json")
    url = harness.store.presign_get(key)
    params = query(url)
    if "X-Amz-Expires" in params:
        longer = with_query(url, **{"X-Amz-Expires": "604800"})
    else:
        longer = with_query(url, **{"X-Prevention-Expires": str(int(params["X-Prevention-Expires"]) + 86400)})
    assert (await harness.http.get(longer)).status_code == 403


async def test_expired_presigned_urls_are_403(harness: Harness):
    key = harness.key()
    await harness.store.put(key, b"{}", "application/json")
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)

    get_url = harness.store.presign_get(key, expires=timedelta(minutes=15), now=an_hour_ago)
    assert (await harness.http.get(get_url)).status_code == 403

    put_key = harness.key("upload")
    put_url = harness.store.presign_put(
        put_key, content_type="text/csv", expires=timedelta(minutes=15), now=an_hour_ago
    )
    r = await harness.http.put(put_url, content=b"a,b\n", headers={"Content-Type": "text/csv"})
    assert r.status_code == 403
    with pytest.raises(NotFound):
        await harness.store.stat(put_key)


async def test_default_expiry_is_15_minutes(harness: Harness):
    assert timedelta(minutes=15) == DEFAULT_EXPIRY
    key = harness.key()
    now = datetime(2026, 3, 1, 8, 30, 15, tzinfo=UTC)
    assert expiry_of(harness.store.presign_get(key, now=now)) == now + timedelta(minutes=15)
    assert expiry_of(harness.store.presign_put(key, content_type="text/csv", now=now)) == now + timedelta(
        minutes=15
    )
    params = query(harness.store.presign_get(key, now=now))
    if "X-Amz-Expires" in params:
        assert params["X-Amz-Expires"] == "900"


async def test_default_expiry_is_enforced_by_the_server(harness: Harness):
    key = harness.key()
    await harness.store.put(key, b"{}", "application/json")
    now = whole_seconds(datetime.now(UTC))
    fresh_enough = harness.store.presign_get(key, now=now - timedelta(minutes=14))
    too_old = harness.store.presign_get(key, now=now - timedelta(minutes=16))
    assert (await harness.http.get(fresh_enough)).status_code == 200
    assert (await harness.http.get(too_old)).status_code == 403


async def test_presign_rejects_expiry_out_of_range(harness: Harness):
    key = harness.key()
    for expires in (timedelta(0), timedelta(days=8)):
        with pytest.raises(InvalidArgument) as err:
            harness.store.presign_get(key, expires=expires)
        assert [v.field for v in err.value.violations] == ["expires"]


async def test_presign_refuses_naive_clock(harness: Harness):
    with pytest.raises(ValueError, match="timezone-aware"):
        harness.store.presign_get(harness.key(), now=datetime(2026, 1, 1, 12, 0))


# -- local store and gateway -----------------------------------------------------------------------


@pytest.fixture
def local_store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(
        tmp_path / "objects",
        base_url=BASE_URL + "/",
        signing_key=SIGNING_KEY,
        max_size=1000,
        max_presigned_size=5000,
    )


@pytest.fixture
async def local_http(local_store: LocalObjectStore) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=local_app(local_store))) as client:
        yield client


def test_local_presigned_url_shape(local_store: LocalObjectStore):
    key = object_key(TENANT, "training", "doc", "a1")
    now = datetime(2026, 3, 1, tzinfo=UTC)
    url = local_store.presign_put(key, content_type="text/csv", now=now)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE_URL
    assert parts.path == f"/objects/{key}"
    params = query(url)
    assert params["X-Prevention-Method"] == "PUT"
    assert params["X-Prevention-Expires"] == str(int(now.timestamp()) + 900)
    assert len(params["X-Prevention-Signature"]) == 64


def test_local_verify_presigned(local_store: LocalObjectStore):
    key = object_key(TENANT, "training", "doc", "a1")
    now = datetime(2026, 3, 1, tzinfo=UTC)
    p = query(local_store.presign_get(key, now=now))
    exp, sig = p["X-Prevention-Expires"], p["X-Prevention-Signature"]

    local_store.verify_presigned("GET", key, exp, sig, now=now)
    local_store.verify_presigned("GET", key, int(exp), sig, now=now + timedelta(minutes=15))
    bad = [
        ("PUT", key, exp, sig),
        ("DELETE", key, exp, sig),
        ("GET", object_key(OTHER_TENANT, "training", "doc", "a1"), exp, sig),
        ("GET", key, str(int(exp) + 1), sig),
        ("GET", key, "soon", sig),
        ("GET", key, None, sig),
        ("GET", key, exp, None),
        ("GET", key, exp, sig.upper()),
        ("GET", key, exp, "é" * 64),
        ("GET", key, exp, ""),
    ]
    for method, k, e, s in bad:
        with pytest.raises(PermissionDenied):
            local_store.verify_presigned(method, k, e, s, now=now)
    with pytest.raises(PermissionDenied) as err:
        local_store.verify_presigned("GET", key, exp, sig, now=now + timedelta(minutes=15, seconds=1))
    assert err.value.reason == "PRESIGNED_URL_EXPIRED"

    # a store with another signing key does not accept the URL
    other = LocalObjectStore(local_store.root, base_url=BASE_URL, signing_key=secrets.token_bytes(32))
    with pytest.raises(PermissionDenied):
        other.verify_presigned("GET", key, exp, sig, now=now)


def test_local_store_requires_a_real_signing_key(tmp_path: Path):
    with pytest.raises(ValueError, match="signing_key"):
        LocalObjectStore(tmp_path, base_url=BASE_URL, signing_key=b"short")


async def test_local_put_with_other_content_type_than_signed_is_403(
    local_store: LocalObjectStore, local_http: httpx.AsyncClient
):
    key = object_key(TENANT, "training", "upload", "u1")
    url = local_store.presign_put(key, content_type="image/png")
    for headers in ({"Content-Type": "application/pdf"}, {}):
        r = await local_http.put(url, content=b"\x89PNG", headers=headers)
        assert r.status_code == 403
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == 403
        assert r.json()["title"]
    with pytest.raises(NotFound):
        await local_store.stat(key)


async def test_local_url_for_one_method_does_not_serve_another(
    local_store: LocalObjectStore, local_http: httpx.AsyncClient
):
    key = object_key(TENANT, "training", "doc", "d1")
    await local_store.put(key, b"{}", "application/json")
    get_url = local_store.presign_get(key)
    r = await local_http.put(get_url, content=b"overwrite", headers={"Content-Type": "application/json"})
    assert r.status_code == 403
    put_url = local_store.presign_put(key, content_type="application/json")
    assert (await local_http.get(put_url)).status_code == 403
    assert (await local_http.get(put_url.split("?")[0])).status_code == 403  # no query at all
    assert await local_store.get(key) == b"{}"


async def test_local_presigned_get_response_headers(
    local_store: LocalObjectStore, local_http: httpx.AsyncClient
):
    key = object_key(TENANT, "training", "doc", "d2")
    info = await local_store.put(key, b"%PDF", "application/pdf")
    r = await local_http.get(local_store.presign_get(key))
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-length"] == "4"
    assert r.headers["etag"] == f'"{info.sha256}"'
    r = await local_http.get(local_store.presign_get(object_key(TENANT, "training", "doc", "nope")))
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 404


async def test_local_presigned_put_size_limit(local_store: LocalObjectStore, local_http: httpx.AsyncClient):
    key = object_key(TENANT, "training", "upload", "big")
    headers = {"Content-Type": "application/octet-stream"}
    url = local_store.presign_put(key, content_type="application/octet-stream")

    r = await local_http.put(url, content=b"x" * 5001, headers=headers)  # declared Content-Length
    assert r.status_code == 413
    assert r.json()["status"] == 413

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted while streaming
        for _ in range(6):
            yield b"y" * 1000

    r = await local_http.put(url, content=chunked(), headers=headers)
    assert r.status_code == 413
    with pytest.raises(NotFound):
        await local_store.stat(key)

    r = await local_http.put(url, content=b"z" * 5000, headers=headers)
    assert r.status_code == 200
    assert r.json()["size"] == 5000
    assert leftovers(local_store.root) == []


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if ".tmp-" in p.name]


async def test_local_layout_is_atomic_files_with_sidecar(local_store: LocalObjectStore):
    key = object_key(TENANT, "training", "doc", "f1")
    info = await local_store.put(key, b"abc", "application/json")
    await local_store.put(key, b"abcd", "application/json")
    data = local_store.root / TENANT / "training" / "doc" / "f1"
    sidecar = data.with_name(".f1.meta.json")
    assert data.read_bytes() == b"abcd"
    assert sidecar.is_file()
    assert hashlib.sha256(b"abcd").hexdigest() in sidecar.read_text()
    assert info.sha256 not in sidecar.read_text()
    assert leftovers(local_store.root) == []
    await local_store.delete(key)
    assert not data.exists()
    assert not sidecar.exists()


async def test_local_ping_unavailable_when_root_is_unusable(tmp_path: Path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_bytes(b"")
    store = LocalObjectStore(blocker / "objects", base_url=BASE_URL, signing_key=SIGNING_KEY)
    with pytest.raises(Unavailable):
        await store.ping()
    with pytest.raises(Unavailable):
        await store.put(object_key(TENANT, "training", "doc", "x"), b"{}", "application/json")


async def test_custom_limits_apply_to_put(tmp_path: Path):
    store = LocalObjectStore(
        tmp_path,
        base_url=BASE_URL,
        signing_key=SIGNING_KEY,
        max_size=10,
        allowed_content_types=frozenset({"text/plain"}),
    )
    key = object_key(TENANT, "training", "doc", "x")
    await store.put(key, b"0123456789", "text/plain; charset=utf-8")
    with pytest.raises(ResourceExhausted):
        await store.put(key, b"0123456789a", "text/plain")
    with pytest.raises(InvalidArgument):
        await store.put(key, b"{}", "application/json")


# -- S3 specifics ----------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_s3_unreachable_is_unavailable():
    store = S3ObjectStore(
        f"127.0.0.1:{closed_port()}", "k", "secret-key", BUCKET, secure=False, connect_timeout=1
    )
    key = object_key(TENANT, "training", "doc", "x")
    with pytest.raises(Unavailable):
        await store.ping()
    with pytest.raises(Unavailable):
        await store.get(key)
    with pytest.raises(Unavailable):
        await store.put(key, b"{}", "application/json")
    # presigning needs no network
    assert store.presign_get(key).startswith(f"http://{store.endpoint}/{BUCKET}/{key}?")


@pytest.mark.s3
async def test_s3_ping_reports_missing_bucket(seaweed: SeaweedS3):
    store = S3ObjectStore(
        seaweed.endpoint, seaweed.access_key, seaweed.secret_key, "no-such-bucket", secure=False
    )
    with pytest.raises(Unavailable):
        await store.ping()


@pytest.mark.s3
async def test_s3_wrong_credentials_are_unavailable_not_permission_denied(seaweed: SeaweedS3):
    await s3_store(seaweed).ensure_bucket()
    store = S3ObjectStore(seaweed.endpoint, seaweed.access_key, "wrong-secret", BUCKET, secure=False)
    with pytest.raises(Unavailable) as err:
        await store.get(object_key(TENANT, "training", "doc", "x"))
    assert not isinstance(err.value, PermissionDenied)


@pytest.mark.s3
async def test_s3_server_keeps_and_checks_the_sha256(seaweed: SeaweedS3):
    store = s3_store(seaweed)
    await store.ensure_bucket()
    key = object_key(TENANT, "training", "doc", uuid.uuid4().hex)
    data = b"checked"
    await store.put(key, data, "application/json")
    stat = store.client.stat_object(BUCKET, key, extra_headers={"x-amz-checksum-mode": "ENABLED"})
    assert stat.metadata["x-amz-checksum-sha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()

    # bytes that do not match the declared digest are refused by the server (RELIABILITY D5)
    bad_key = object_key(TENANT, "training", "doc", uuid.uuid4().hex)
    with pytest.raises(Unavailable) as err:
        await store._put_checked(bad_key, data, "application/json", hashlib.sha256(b"other").hexdigest())
    assert err.value.reason == "OBJECT_CHECKSUM_MISMATCH"
    with pytest.raises(NotFound):
        await store.stat(bad_key)


@pytest.mark.s3
async def test_s3_ensure_bucket_is_idempotent(seaweed: SeaweedS3):
    store = S3ObjectStore(
        seaweed.endpoint,
        seaweed.access_key,
        seaweed.secret_key,
        "bucket-" + uuid.uuid4().hex[:8],
        secure=False,
    )
    with pytest.raises(Unavailable):
        await store.ping()
    await store.ensure_bucket()
    await store.ensure_bucket()
    await store.ping()


@pytest.mark.s3
async def test_s3_stat_hashes_objects_uploaded_without_checksum(seaweed: SeaweedS3):
    store = s3_store(seaweed)
    await store.ensure_bucket()
    key = object_key(TENANT, "training", "doc", uuid.uuid4().hex)
    data = os.urandom(2 * 1024 * 1024 + 7)
    store.client.put_object(BUCKET, key, io.BytesIO(data), len(data), content_type="application/pdf")
    assert await store.stat(key) == ObjectInfo(
        key, len(data), "application/pdf", hashlib.sha256(data).hexdigest()
    )


# -- construction ----------------------------------------------------------------------------------


def test_store_from_settings_local_without_endpoint(tmp_path: Path):
    for endpoint in (None, ""):
        store = object_store_from_settings(
            data_dir=tmp_path,
            s3_endpoint=endpoint,
            s3_access_key="",
            s3_secret_key="",
            s3_bucket="prevention",
            s3_secure=True,
            public_base_url=BASE_URL,
            signing_key=SIGNING_KEY,
        )
        assert isinstance(store, LocalObjectStore)
        assert isinstance(store, ObjectStore)
        assert store.root == tmp_path / "objects"
        assert store.allowed_content_types == DEFAULT_CONTENT_TYPES
        assert store.max_size == DEFAULT_MAX_SIZE


@pytest.mark.parametrize(
    ("endpoint", "secure", "scheme"),
    [
        ("s3.internal:8333", False, "http"),
        ("s3.internal:8333", True, "https"),
        ("https://s3.internal:8333", False, "https"),
        ("http://s3.internal:8333/", True, "http"),
    ],
)
def test_store_from_settings_s3_with_endpoint(tmp_path: Path, endpoint: str, secure: bool, scheme: str):
    store = object_store_from_settings(
        data_dir=tmp_path,
        s3_endpoint=endpoint,
        s3_access_key="access",
        s3_secret_key="secret-key",
        s3_bucket="prevention",
        s3_secure=secure,
        public_base_url=BASE_URL,
        signing_key=SIGNING_KEY,
    )
    assert isinstance(store, S3ObjectStore)
    assert isinstance(store, ObjectStore)
    assert store.bucket == "prevention"
    url = store.presign_get(object_key(TENANT, "training", "doc", "x"))
    assert url.startswith(f"{scheme}://s3.internal:8333/prevention/{TENANT}/training/doc/x?")
