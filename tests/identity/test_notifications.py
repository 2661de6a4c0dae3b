"""Notifications (SPEC 7.8; RELIABILITY S11): the inbox over REST with real tokens of the demo
users, Notify over gRPC as services call it, and e-mail/webhook delivery from the transactional
outbox against a real local HTTP server and SMTP receiver, on an injected clock (no sleeps)."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import httpx
import pytest
from prevention.identity.v1 import identity_pb2, identity_pb2_grpc
from sqlalchemy import func, select

from services.common.clock import FrozenClock
from services.common.context import Caller
from services.common.db import Database
from services.common.errors import InvalidArgument, NotFound
from services.common.pii import PiiKeyring
from services.common.runner import build_runtime
from services.common.scheduler import LocalLock
from services.common.settings import PlatformSettings
from services.common.ssrf import OutboundPolicy, outbound_client
from services.identity import notifications as n
from services.identity import users as identity_users
from services.identity.models import User
from services.identity.notification_models import (
    WEBHOOK_URL_CONTEXT,
    Notification,
    NotificationDelivery,
    NotificationSettings,
)
from services.identity.servicer import build as identity_build
from tests.isolation.resources import harness_uscc
from tests.support.smtp_sink import SmtpSink

TENANT_A, TENANT_B = "110000", "120000"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# -- REST and gRPC on the platform with the embedded issuer ----------------------------------------


async def notify(p, token: str, **fields) -> identity_pb2.NotifyResponse:
    fields.setdefault("kind", "DEADLINE_REMINDER")
    fields.setdefault("title", "Implementation plan due")
    async with grpc.aio.insecure_channel(p.addresses["identity"]) as channel:
        stub = identity_pb2_grpc.IdentityServiceStub(channel)
        return await stub.Notify(identity_pb2.NotifyRequest(**fields), metadata=[("authorization", f"Bearer {token}")],
                                 timeout=10)


async def notify_code(p, token: str, **fields) -> grpc.StatusCode:
    try:
        await notify(p, token, **fields)
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


async def new_user(p, operator: str, *, roles=("trainee",), email: str = "") -> tuple[str, str]:
    """A fresh user created over REST; returns its id and an access token."""
    username = f"notify-{uuid.uuid4().hex[:10]}"
    created = await p.client.post("/v1/users", headers=bearer(await p.token(operator)), json={
        "username": username, "display_name": "Notified user", "roles": list(roles),
        "password": "notified-password-123", "email": email})
    assert created.status_code == 201, created.text
    login = await p.login(username, password="notified-password-123")
    assert login.status_code == 200, login.text
    return created.json()["id"], login.json()["access_token"]


async def inbox(p, token: str, **params) -> dict:
    response = await p.client.get("/v1/notifications", headers=bearer(token), params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def me(p, token: str) -> str:
    return (await p.client.get("/v1/users/me", headers=bearer(token))).json()["id"]


async def test_notify_a_user_and_a_role_then_read_the_inbox(issuer_platform):
    p = issuer_platform
    po = await p.token("demo-beijing-operator")
    user_id, token = await new_user(p, "demo-beijing-operator")
    sent = await notify(p, po, users=[f"users/{user_id}"], kind="RECTIFICATION_OVERDUE", title="Notice overdue",
                        body="Rectification notice 12 is past its deadline.", link="/v1/rectification-notices/12")
    assert sent.recipient_count == 1
    by_role = await notify(p, po, roles=["trainee"], tenant_code=TENANT_A, title="Course published")
    assert by_role.recipient_count >= 2  # the demo trainee and the new user at least
    demo_trainee = await p.token("demo-trainee")
    assert "Course published" in [x["title"] for x in (await inbox(p, demo_trainee))["notifications"]]

    listed = await inbox(p, token)
    assert [x["title"] for x in listed["notifications"]] == ["Course published", "Notice overdue"], "newest first"
    assert listed["unread_count"] == 2 and listed["next_page_token"] == ""
    overdue = listed["notifications"][1]
    assert overdue["kind"] == "RECTIFICATION_OVERDUE" and overdue["link"] == "/v1/rectification-notices/12"
    assert overdue["read_time"] is None and overdue["body"].startswith("Rectification notice 12")

    read = await p.client.post(f"/v1/notifications/{overdue['id']}/read", headers=bearer(token))
    assert read.status_code == 200, read.text
    assert read.json()["read_time"] is not None
    again = await p.client.post(f"/v1/notifications/{overdue['id']}/read", headers=bearer(token))
    assert again.json()["read_time"] == read.json()["read_time"], "marking read twice keeps the first time"

    unread = await inbox(p, token, unread_only="true")
    assert [x["title"] for x in unread["notifications"]] == ["Course published"] and unread["unread_count"] == 1
    first = await inbox(p, token, page_size=1)
    assert len(first["notifications"]) == 1 and first["next_page_token"]
    second = await inbox(p, token, page_size=1, page_token=first["next_page_token"])
    assert [x["id"] for x in second["notifications"]] == [overdue["id"]] and second["next_page_token"] == ""
    mixed = await p.client.get("/v1/notifications", headers=bearer(token),
                               params={"unread_only": "true", "page_token": first["next_page_token"]})
    assert mixed.status_code == 400, "a page token belongs to its query"


async def test_another_users_notification_is_not_found(issuer_platform):
    p = issuer_platform
    po = await p.token("demo-beijing-operator")
    user_id, token = await new_user(p, "demo-beijing-operator")
    await notify(p, po, users=[f"users/{user_id}"], title="For one user only")
    own = (await inbox(p, token))["notifications"][0]["id"]
    for other in ("demo-trainee", "demo-beijing-operator", "demo-ministry"):
        other_token = await p.token(other)
        response = await p.client.post(f"/v1/notifications/{own}/read", headers=bearer(other_token))
        assert response.status_code == 404, (other, response.text)
        assert own not in [x["id"] for x in (await inbox(p, other_token))["notifications"]]
    unknown = await p.client.post(f"/v1/notifications/{uuid.uuid4().hex}/read", headers=bearer(token))
    assert unknown.status_code == 404
    malformed = await p.client.post("/v1/notifications/not-an-id/read", headers=bearer(token))
    assert malformed.status_code == 400
    assert (await inbox(p, token))["notifications"][0]["read_time"] is None


async def test_recipients_outside_the_callers_tenant_are_refused_and_nothing_is_created(issuer_platform):
    p = issuer_platform
    beijing = await p.token("demo-beijing-operator")
    local_id, local_token = await new_user(p, "demo-beijing-operator")
    foreign_id, foreign_token = await new_user(p, "demo-tianjin-operator")
    mixed = await notify_code(p, beijing, users=[f"users/{local_id}", f"users/{foreign_id}"], title="Mixed")
    assert mixed == grpc.StatusCode.NOT_FOUND
    assert await notify_code(p, beijing, roles=["trainee"], tenant_code=TENANT_B) == grpc.StatusCode.NOT_FOUND
    assert await notify_code(p, beijing, users=[f"users/{uuid.uuid4().hex}"]) == grpc.StatusCode.NOT_FOUND
    for token in (local_token, foreign_token):
        assert (await inbox(p, token))["notifications"] == [], "a refused Notify creates nothing"
    liaison = await p.token("demo-liaison")
    assert await notify_code(p, liaison, users=[f"users/{foreign_id}"]) == grpc.StatusCode.NOT_FOUND
    ministry = await notify(p, await p.token("demo-ministry"), users=[f"users/{foreign_id}"], title="From the ministry")
    assert ministry.recipient_count == 1, "ministry operators notify any tenant"
    assert [x["title"] for x in (await inbox(p, foreign_token))["notifications"]] == ["From the ministry"]


async def test_notify_an_organisation_in_the_subtree_only(issuer_platform):
    p = issuer_platform

    async def employer(operator: str, tenant: str) -> str:
        async with grpc.aio.insecure_channel(p.addresses["identity"]) as channel:
            created = await identity_pb2_grpc.IdentityServiceStub(channel).CreateOrganisation(
                identity_pb2.CreateOrganisationRequest(organisation=identity_pb2.Organisation(
                    type=identity_pb2.ORGANISATION_TYPE_EMPLOYER, display_name="Notified employer",
                    employer=identity_pb2.EmployerProfile(uscc=harness_uscc(), industry_code="C2611", risk_class=3,
                                                          headcount=10, insured_headcount=8,
                                                          pooling_region_code=tenant))),
                metadata=[("authorization", f"Bearer {await p.token(operator)}")], timeout=10)
        return created.organisation.name

    beijing_org = await employer("demo-beijing-operator", TENANT_A)
    tianjin_org = await employer("demo-tianjin-operator", TENANT_B)
    po = await p.token("demo-beijing-operator")
    created = await p.client.post("/v1/users", headers=bearer(po), json={
        "username": f"officer-{uuid.uuid4().hex[:8]}", "display_name": "Officer", "roles": ["employer_officer"],
        "password": "officer-password-123", "organisation": beijing_org})
    assert created.status_code == 201, created.text
    sent = await notify(p, po, organisation=beijing_org, kind="RECTIFICATION_ISSUED", title="Rectify by Friday")
    assert sent.recipient_count == 1
    assert await notify_code(p, po, organisation=tianjin_org) == grpc.StatusCode.NOT_FOUND


async def test_who_may_notify(issuer_platform):
    p = issuer_platform
    for username in ("demo-trainee", "demo-employer", "demo-expert", "demo-institution"):
        code = await notify_code(p, await p.token(username), roles=["provincial_operator"])
        assert code == grpc.StatusCode.PERMISSION_DENIED, username
    liaison = await notify(p, await p.token("demo-liaison"), roles=["provincial_operator"], kind="JOINT_MEETING",
                           title="Joint meeting on Monday")
    assert liaison.recipient_count >= 1
    operator = await p.token("demo-beijing-operator")
    assert any(x["title"] == "Joint meeting on Monday" for x in (await inbox(p, operator))["notifications"])


async def test_notify_is_idempotent_by_request_id(issuer_platform):
    p = issuer_platform
    po = await p.token("demo-beijing-operator")
    user_id, token = await new_user(p, "demo-beijing-operator")
    request = {"users": [f"users/{user_id}"], "title": "Sent once", "request_id": f"overdue-{uuid.uuid4().hex}"}
    first, retried = await notify(p, po, **request), await notify(p, po, **request)
    assert first.recipient_count == retried.recipient_count == 1
    assert [x["title"] for x in (await inbox(p, token))["notifications"]] == ["Sent once"]
    assert await notify_code(p, po, **{**request, "title": "Changed"}) == grpc.StatusCode.FAILED_PRECONDITION


@pytest.mark.parametrize("fields", [
    {"title": "no recipients"},
    {"users": ["users/me"]},
    {"roles": ["superuser"]},
    {"tenant_code": TENANT_A, "users": ["users/" + "0" * 32]},
    {"roles": ["trainee"], "kind": "lower_case"},
    {"roles": ["trainee"], "title": ""},
    {"roles": ["trainee"], "title": "two\nlines"},
    {"roles": ["trainee"], "link": "https://evil.example/phish"},
    {"roles": ["trainee"], "link": "//evil.example/phish"},
    {"roles": ["trainee"], "link": "/\\evil.example"},
    {"roles": ["trainee"], "link": "javascript:alert(1)"},
])
async def test_invalid_notify_requests(issuer_platform, fields):
    p = issuer_platform
    assert await notify_code(p, await p.token("demo-beijing-operator"), **fields) == grpc.StatusCode.INVALID_ARGUMENT


SSRF_URLS = [
    "http://127.0.0.1:8080/hook",
    "https://127.0.0.1/hook",
    "https://[::1]/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.1/hook",
    "file:///etc/passwd",
    "https://user@93.184.216.34/hook",
    "gopher://93.184.216.34/",
]


async def test_settings_refuse_ssrf_urls_over_rest(issuer_platform):
    p = issuer_platform
    _, token = await new_user(p, "demo-beijing-operator")
    for url in SSRF_URLS:
        response = await p.client.put("/v1/notifications/settings", headers=bearer(token),
                                      json={"email_enabled": True, "webhook_url": url})
        assert response.status_code == 400, (url, response.text)
        # Non-http(s) schemes fail the gateway's schema (field `webhook_url`), the rest the service's check.
        assert response.json()["violations"][0]["field"] in ("webhook_url", "notification_settings.webhook_url")
    current = await p.client.get("/v1/notifications/settings", headers=bearer(token))
    assert current.json() == {"email_enabled": False, "webhook_url": "", "email_available": False,
                              "webhook_available": False}, "a refused update changes nothing"
    saved = await p.client.put("/v1/notifications/settings", headers=bearer(token),
                               json={"email_enabled": True, "webhook_url": "https://93.184.216.34/hook"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["webhook_url"] == "https://93.184.216.34/hook" and saved.json()["email_enabled"] is True
    extra = await p.client.put("/v1/notifications/settings", headers=bearer(token), json={"tenant_code": "120000"})
    assert extra.status_code == 400


# -- delivery from the outbox (domain level, one fresh database per test) ------------------------------

KEYRING = PiiKeyring({"k1": bytes(range(32))})
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
OPERATOR = Caller(subject="operator-110000", tenant=TENANT_A, roles=frozenset({"provincial_operator"}))
DEV_LOOPBACK = OutboundPolicy.from_values("dev", "127.0.0.1")


class HookServer:
    """A real HTTP server on 127.0.0.1 answering scripted status codes; counts connections."""

    def __init__(self, replies: list[int] | None = None, location: str = ""):
        self.requests: list[dict] = []
        self.connections = 0
        self.replies = list(replies or [])
        self.received = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = outer.replies.pop(0) if outer.replies else 204
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                outer.received.set()

            do_GET = do_POST

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def process_request(self, request, client_address):
                outer.connections += 1
                super().process_request(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
async def hook():
    server = HookServer()
    yield server
    server.close()


@pytest.fixture
async def db(db_factory):
    database = Database(await db_factory.prepared("identity"))
    yield database
    await database.dispose()


async def add_user(db, *, tenant=TENANT_A, roles=("trainee",), email="worker@example.com", webhook_url="",
                   email_enabled=False) -> User:
    """A user with delivery settings written directly (the save-time check is tested separately)."""
    async with db.session() as session:
        user = User(id=uuid.uuid4().hex, username=f"u-{uuid.uuid4().hex[:12]}", display_name="U", tenant_code=tenant,
                    roles=list(roles), password_hash="-",
                    email_enc=KEYRING.encrypt(email, context=identity_users.EMAIL) if email else None,
                    citizen_id_enc=KEYRING.encrypt("11010519491231002X", context=identity_users.CITIZEN_ID),
                    enabled=True, totp_enabled=False, failed_logins=0, create_time=START, update_time=START)
        session.add(user)
        await session.flush()
        session.add(NotificationSettings(
            user_id=user.id, email_enabled=email_enabled, update_time=START,
            webhook_url_enc=KEYRING.encrypt(webhook_url, context=WEBHOOK_URL_CONTEXT) if webhook_url else None))
        await session.commit()
    return user


async def send(db, delivery: n.Delivery, *recipients: User, title: str = "Notice overdue") -> None:
    async with db.session() as session:
        count = await n.notify(session, START, caller=OPERATOR, delivery=delivery,
                               content=n.Content(kind="RECTIFICATION_OVERDUE", title=title,
                                                 body="Rectification notice 12 is overdue.",
                                                 link="/v1/rectification-notices/12"),
                               recipients=n.Recipients(users=[f"users/{u.id}" for u in recipients], roles=[],
                                                       tenant_code="", organisation=""))
        await session.commit()
    assert count == len(recipients)


async def deliver(db, now: datetime, *, http: httpx.AsyncClient | None = None, smtp=None,
                  policy: OutboundPolicy | None = DEV_LOOPBACK, resolver=None) -> n.DeliveryReport:
    async with db.session() as session:
        if http is not None:
            return await n.deliver_pending(session, now, smtp=smtp, http=http, keyring=KEYRING,
                                           webhook_policy=policy, resolver=resolver)
        async with outbound_client(timeout=5) as client:
            return await n.deliver_pending(session, now, smtp=smtp, http=client, keyring=KEYRING,
                                           webhook_policy=policy, resolver=resolver)


async def deliveries(db) -> list[NotificationDelivery]:
    async with db.session() as session:
        return list((await session.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id))).all())


WEBHOOKS_ON = n.Delivery(webhooks_enabled=True, webhook_policy=DEV_LOOPBACK)


async def test_webhook_receives_the_json_exactly_once(db, hook):
    user = await add_user(db, webhook_url=hook.url)
    await send(db, WEBHOOKS_ON, user)
    [queued] = await deliveries(db)
    assert (queued.channel, queued.status, queued.attempts) == ("webhook", "pending", 0)
    assert (await deliver(db, START)).sent == 1
    assert (await deliver(db, START + timedelta(hours=1))).sent == 0, "a sent delivery is not sent again"
    [request] = hook.requests
    payload = json.loads(request["body"])
    async with db.session() as session:
        notification = (await session.scalars(select(Notification))).one()
    assert payload == {"id": str(queued.id), "notification": f"notifications/{notification.id}",
                       "kind": "RECTIFICATION_OVERDUE", "title": "Notice overdue",
                       "body": "Rectification notice 12 is overdue.", "link": "/v1/rectification-notices/12",
                       "create_time": START.isoformat()}
    assert request["path"] == "/hook" and request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["X-Prevention-Delivery"] == str(queued.id)
    assert "worker@example.com" not in request["body"].decode() and "11010519491231002X" not in request["body"].decode()
    [done] = await deliveries(db)
    assert (done.status, done.attempts, done.sent_time is not None, done.last_error) == ("sent", 1, True, None)


async def test_no_outbox_rows_when_the_channel_is_off_or_not_wanted(db, hook):
    wants_hook = await add_user(db, webhook_url=hook.url)
    plain = await add_user(db)
    await send(db, n.Delivery(webhook_policy=DEV_LOOPBACK), wants_hook, plain)  # webhooks off
    await send(db, WEBHOOKS_ON, plain)  # on, but not wanted
    assert await deliveries(db) == []


async def test_a_refused_notify_writes_neither_notification_nor_outbox_row(db, hook):
    local = await add_user(db, webhook_url=hook.url)
    foreign = await add_user(db, tenant=TENANT_B, webhook_url=hook.url)
    with pytest.raises(NotFound):
        await send(db, WEBHOOKS_ON, local, foreign)
    async with db.session() as session:
        assert (await session.scalar(select(func.count()).select_from(Notification))) == 0
    assert await deliveries(db) == []


async def test_webhook_retries_with_backoff_then_succeeds(db):
    server = HookServer(replies=[503, 500])
    try:
        user = await add_user(db, webhook_url=server.url)
        await send(db, WEBHOOKS_ON, user)
        clock = FrozenClock(START)
        assert (await deliver(db, clock.now())).retrying == 1
        [row] = await deliveries(db)
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, "the webhook answered 503")
        assert (await deliver(db, clock.advance(timedelta(seconds=29)))).retrying == 0, "not due before the backoff"
        assert len(server.requests) == 1
        assert (await deliver(db, clock.advance(timedelta(seconds=1)))).retrying == 1  # 30 s after the first
        assert (await deliver(db, clock.advance(timedelta(seconds=59)))) == n.DeliveryReport()
        assert (await deliver(db, clock.advance(timedelta(seconds=1)))).sent == 1  # 60 s after the second
        [row] = await deliveries(db)
        assert (row.status, row.attempts, len(server.requests)) == ("sent", 3, 3)
    finally:
        server.close()


async def test_webhook_marked_failed_after_the_last_attempt(db):
    server = HookServer(replies=[503] * 20)
    try:
        await send(db, WEBHOOKS_ON, await add_user(db, webhook_url=server.url))
        clock = FrozenClock(START)
        for attempt in range(1, n.MAX_ATTEMPTS + 1):
            report = await deliver(db, clock.now())
            assert (report.retrying, report.failed) == ((1, 0) if attempt < n.MAX_ATTEMPTS else (0, 1))
            clock.advance(n.backoff(attempt))
        assert (await deliver(db, clock.advance(timedelta(days=1)))) == n.DeliveryReport()
        [row] = await deliveries(db)
        assert (row.status, row.attempts, len(server.requests)) == ("failed", n.MAX_ATTEMPTS, n.MAX_ATTEMPTS)
    finally:
        server.close()


async def test_a_redirect_is_not_followed_and_the_delivery_fails(db):
    target = HookServer()
    redirector = HookServer(replies=[302], location=target.url)
    try:
        await send(db, WEBHOOKS_ON, await add_user(db, webhook_url=redirector.url))
        assert (await deliver(db, START)).failed == 1
        [row] = await deliveries(db)
        assert row.status == "failed" and "redirects are not followed" in row.last_error
        assert len(redirector.requests) == 1 and target.connections == 0
    finally:
        target.close()
        redirector.close()


async def test_a_client_error_fails_at_once(db):
    server = HookServer(replies=[404])
    try:
        await send(db, WEBHOOKS_ON, await add_user(db, webhook_url=server.url))
        assert (await deliver(db, START)).failed == 1
        assert (await deliveries(db))[0].last_error == "the webhook answered 404"
    finally:
        server.close()


def fake_dns(answers: dict[str, list[str]]):
    async def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("no such host")
        return answers[host]
    return resolve


async def test_ssrf_urls_are_refused_when_saved_without_connecting(db, hook):
    user = await add_user(db)
    caller = Caller(subject=user.id, tenant=TENANT_A, roles=frozenset({"trainee"}))
    not_listed = n.Delivery(webhooks_enabled=True, webhook_policy=OutboundPolicy.from_values("dev", ""))
    resolver = fake_dns({"internal.example": ["10.0.0.7"], "mixed.example": ["93.184.216.34", "127.0.0.1"]})
    urls = [hook.url, f"https://127.0.0.1:{hook.port}/hook", "http://[::1]/hook", "https://[::1]/hook",
            "https://169.254.169.254/latest/meta-data/", "https://10.0.0.1/", "file:///etc/passwd",
            "https://internal.example/hook", "https://mixed.example/hook", "https://[::ffff:127.0.0.1]/",
            "https://0.0.0.0/", "https://100.64.0.1/", "https://224.0.0.1/", "https://nowhere.example/"]
    for url in urls:
        async with db.session() as session:
            with pytest.raises(InvalidArgument) as refused:
                await n.update_settings(session, KEYRING, START, caller=caller, mask=["webhook_url"],
                                        email_enabled=False, webhook_url=url, delivery=not_listed, resolver=resolver)
        assert refused.value.violations[0].field == "notification_settings.webhook_url", url
        assert url not in refused.value.message, "the reason never repeats the URL"
    assert hook.connections == 0
    async with db.session() as session:
        view = await n.update_settings(session, KEYRING, START, caller=caller, mask=["webhook_url"],
                                       email_enabled=False, webhook_url=hook.url, delivery=WEBHOOKS_ON)
        await session.commit()
    assert view.webhook_url == hook.url, "an allow-listed host may use http in the dev profile"
    prod = n.Delivery(webhooks_enabled=True, webhook_policy=OutboundPolicy.from_values("prod", "127.0.0.1"))
    async with db.session() as session:
        with pytest.raises(InvalidArgument):
            await n.update_settings(session, KEYRING, START, caller=caller, mask=["webhook_url"],
                                    email_enabled=False, webhook_url=hook.url, delivery=prod)


async def test_ssrf_is_checked_again_before_each_send(db, hook):
    """URLs stored before a policy change, and a name rebinding to a private address after it
    was saved, are refused at send time without any request."""
    requests: list[httpx.Request] = []
    recording = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: requests.append(r) or httpx.Response(204)),
                                  follow_redirects=False)
    resolver = fake_dns({"rebinding.example": ["93.184.216.34"]})
    rebinding = await add_user(db)
    async with db.session() as session:
        await n.update_settings(session, KEYRING, START, caller=Caller(subject=rebinding.id, tenant=TENANT_A),
                                mask=["webhook_url"], email_enabled=False,
                                webhook_url="https://rebinding.example/hook", delivery=WEBHOOKS_ON, resolver=resolver)
        await session.commit()
    stored = [await add_user(db, webhook_url=url) for url in (
        f"http://127.0.0.1:{hook.port}/hook", "https://[::1]/hook", "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/hook", "file:///etc/passwd")]
    await send(db, WEBHOOKS_ON, rebinding, *stored)
    after = fake_dns({"rebinding.example": ["10.0.0.1"]})
    async with recording:
        report = await deliver(db, START, http=recording, policy=OutboundPolicy.from_values("dev", ""),
                               resolver=after)
    assert report == n.DeliveryReport(failed=6)
    assert requests == [] and hook.connections == 0
    assert all(row.status == "failed" and row.last_error.startswith("webhook URL") for row in await deliveries(db))


async def test_the_request_goes_to_the_checked_address_with_the_name_in_host(db, hook):
    """Pinning: the name is resolved once, checked, and the connection made to that address."""
    policy = OutboundPolicy.from_values("dev", "hooks.internal.test")
    resolver = fake_dns({"hooks.internal.test": ["127.0.0.1"]})
    user = await add_user(db, webhook_url=f"http://hooks.internal.test:{hook.port}/hook")
    await send(db, n.Delivery(webhooks_enabled=True, webhook_policy=policy), user)
    assert (await deliver(db, START, policy=policy, resolver=resolver)).sent == 1
    assert hook.requests[0]["headers"]["Host"] == f"hooks.internal.test:{hook.port}"


async def test_email_copy_through_smtp(db):
    async with SmtpSink() as sink:
        smtp = n.SmtpSender(host=sink.host, port=sink.port, sender="noreply@prevention.test", starttls=False)
        user = await add_user(db, email="worker@example.com", email_enabled=True)
        no_address = await add_user(db, email="", email_enabled=True)
        await send(db, n.Delivery(smtp=smtp), user, no_address)
        assert [r.channel for r in await deliveries(db)] == ["email"], "no address, no e-mail"
        assert (await deliver(db, START, smtp=smtp)).sent == 1
        assert (await deliver(db, START + timedelta(hours=1), smtp=smtp)).sent == 0
        [received] = sink.messages
        assert received.sender == "noreply@prevention.test" and received.recipients == ["worker@example.com"]
        message = received.message
        assert message["Subject"] == "Notice overdue" and message["To"] == "worker@example.com"
        text = message.get_content()
        assert "Rectification notice 12 is overdue." in text and "/v1/rectification-notices/12" in text
        assert "11010519491231002X" not in message.as_string()


async def test_email_retries_a_temporary_refusal_and_fails_a_permanent_one(db):
    async with SmtpSink(rcpt_replies=["451 try again later"]) as sink:
        smtp = n.SmtpSender(host=sink.host, port=sink.port, sender="noreply@prevention.test", starttls=False)
        await send(db, n.Delivery(smtp=smtp), await add_user(db, email_enabled=True))
        clock = FrozenClock(START)
        assert (await deliver(db, clock.now(), smtp=smtp)).retrying == 1
        assert (await deliver(db, clock.advance(n.backoff(1)), smtp=smtp)).sent == 1
        assert len(sink.messages) == 1
        sink.rcpt_replies.append("550 no such mailbox")
        await send(db, n.Delivery(smtp=smtp), await add_user(db, email_enabled=True))
        assert (await deliver(db, clock.now(), smtp=smtp)).failed == 1
    unreachable = n.SmtpSender(host="127.0.0.1", port=sink.port, sender="noreply@prevention.test", starttls=False)
    await send(db, n.Delivery(smtp=unreachable), await add_user(db, email_enabled=True))
    assert (await deliver(db, clock.now(), smtp=unreachable)).retrying == 1


async def test_opting_out_after_queueing_cancels_the_delivery(db, hook):
    user = await add_user(db, webhook_url=hook.url)
    await send(db, WEBHOOKS_ON, user)
    async with db.session() as session:
        await n.update_settings(session, KEYRING, START, caller=Caller(subject=user.id, tenant=TENANT_A),
                                mask=["webhook_url"], email_enabled=False, webhook_url="", delivery=WEBHOOKS_ON)
        await session.commit()
    assert (await deliver(db, START)).failed == 1 and hook.connections == 0


async def test_row_level_security_hides_another_tenants_notifications(db_factory):
    """PostgreSQL: an application role that is neither owner nor superuser sees only the
    notifications of its tenant scope even without the recipient filter (RELIABILITY S2)."""
    import psycopg
    from sqlalchemy import make_url

    from tests.support.platform import postgres_admin_url

    if postgres_admin_url() is None:
        pytest.skip("row-level security is PostgreSQL's; this test runs in the PostgreSQL pass of .ci/run")
    url = await db_factory.prepared("identity")
    database = Database(url)
    try:
        recipients = [await add_user(database), await add_user(database, tenant=TENANT_B)]
        ministry = Caller(subject="ministry", tenant="100000", roles=frozenset({"ministry_operator"}))
        async with database.session() as session:
            await n.notify(session, START, caller=ministry, delivery=n.Delivery(),
                           content=n.Content(kind="BULLETIN_PUBLISHED", title="Bulletin", body="", link=""),
                           recipients=n.Recipients(users=[f"users/{u.id}" for u in recipients], roles=[],
                                                   tenant_code="", organisation=""))
            await session.commit()
    finally:
        await database.dispose()
    plain = make_url(url).set(drivername="postgresql")
    role = f"pt_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS')
        admin.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"')
    try:
        with psycopg.connect(plain.set(username=role).render_as_string(hide_password=False)) as conn:
            conn.execute("SELECT set_config('app.all_tenants', 'off', false), set_config('app.tenant', '11', false)")
            assert {r[0] for r in conn.execute("SELECT tenant_code FROM notifications")} == {TENANT_A}
            changed = conn.execute("UPDATE notifications SET read_time = now() WHERE tenant_code = %s",
                                   (TENANT_B,)).rowcount
            conn.commit()
        assert changed == 0
    finally:
        with psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True) as admin:
            admin.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"')
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


# -- wiring: the identity service runs the job while it serves -----------------------------------------


def test_delivery_is_off_unless_configured(monkeypatch):
    for name in ("PREVENTION_SMTP_HOST", "PREVENTION_WEBHOOKS_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    assert not n.Delivery.from_settings("prod").active
    monkeypatch.setenv("PREVENTION_SMTP_HOST", "smtp.example.test")
    with pytest.raises(ValueError, match="PREVENTION_SMTP_FROM"):
        n.Delivery.from_settings("prod")
    monkeypatch.setenv("PREVENTION_SMTP_FROM", "noreply@example.test")
    monkeypatch.setenv("PREVENTION_WEBHOOK_ALLOW_HOSTS", "hooks.example.test, 10.1.2.3")
    delivery = n.Delivery.from_settings("prod")
    assert delivery.active and delivery.smtp.host == "smtp.example.test" and not delivery.webhooks_enabled
    assert delivery.webhook_policy.allow_hosts == {"hooks.example.test", "10.1.2.3"}


async def test_the_identity_runtime_runs_and_stops_the_delivery_job(db_factory, issuer, hook, tmp_path):
    url = await db_factory.prepared("identity")
    database = Database(url)
    try:
        await send(database, WEBHOOKS_ON, await add_user(database, webhook_url=hook.url))
    finally:
        await database.dispose()
    settings = PlatformSettings(data_dir=tmp_path, oidc_issuer=issuer.issuer, oidc_jwks_url=issuer.jwks_url,
                                health_interval_seconds=0.1)
    build = functools.partial(identity_build, keyring=KEYRING, clock=FrozenClock(START), delivery=WEBHOOKS_ON)
    runtime = build_runtime("identity", build, settings=settings, database_url=url, addresses={})
    assert len(runtime.registration.background) == 1
    await runtime.start("127.0.0.1:0")
    try:
        assert await asyncio.to_thread(hook.received.wait, 30), "the job's first pass delivers at once"
    finally:
        await runtime.stop(grace=1.0)
    assert len(hook.requests) == 1
    lock = LocalLock(tmp_path / "locks" / "identity-notification-delivery.lock")
    assert lock.try_acquire(), "stopping released the scheduler's lock"
    lock.release()
    off = build_runtime("identity", functools.partial(identity_build, keyring=KEYRING, delivery=n.Delivery()),
                        settings=settings, database_url=url, addresses={})
    assert off.registration.background == []
    await off.database.dispose()


async def test_a_row_that_cannot_be_read_does_not_stall_the_outbox(db, hook):
    """A webhook URL encrypted under a key the service no longer has raises while sending; that row
    is retried later and the rows behind it are still delivered (review C3)."""
    broken = await add_user(db, webhook_url=hook.url)
    healthy = await add_user(db, webhook_url=hook.url)
    async with db.session() as session:
        settings = await session.get(NotificationSettings, broken.id)
        foreign = PiiKeyring({"other": os.urandom(32)})
        settings.webhook_url_enc = foreign.encrypt(hook.url, context=WEBHOOK_URL_CONTEXT)
        await session.commit()
    await send(db, WEBHOOKS_ON, broken)
    await send(db, WEBHOOKS_ON, healthy)
    report = await deliver(db, START)
    assert (report.sent, report.retrying) == (1, 1)
    first, second = await deliveries(db)
    assert (first.status, first.attempts, first.last_error) == ("pending", 1, "unexpected PiiError")
    assert second.status == "sent" and len(hook.requests) == 1
