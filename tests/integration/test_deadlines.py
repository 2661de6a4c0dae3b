"""RELIABILITY R1 (deadlines: propagated gateway -> assessment -> sharing, 503/504 within the
budget, work abandoned past the deadline) and R3 (retry policy: configuration and behaviour).

The chain: GET /v1/action-plans/active -> assessment GetActionPlan -> sharing ListKeyIndustries.
Each service's access log line (logger ``prevention.rpc``) carries ``deadline_remaining_ms``, the
deadline the server saw when the call arrived.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sqlite3
import time
import uuid
from contextlib import AsyncExitStack, asynccontextmanager

import grpc
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.trace import SpanKind
from prevention.assessment.v1 import assessment_pb2, assessment_pb2_grpc
from sqlalchemy import make_url

from gateway.app import create_app
from services.common import channels
from services.common import context as ctx
from services.common.runner import build_runtime
from tests.conftest import make_settings, open_gateway
from tests.integration.helpers import WriteLock, auth, free_port, psycopg_url, raw_channel, wait_until
from tests.support.platform import postgres_admin_url, service_builder

GET_ACTION_PLAN = "/prevention.assessment.v1.AssessmentService/GetActionPlan"
LIST_KEY_INDUSTRIES = "/prevention.sharing.v1.SharingService/ListKeyIndustries"


@pytest.fixture
def rpc_log(caplog):
    """The ``prevention.rpc`` access-log records of one request id: {rpc_method: record}."""
    caplog.set_level(logging.INFO, logger="prevention.rpc")

    def tag(record: logging.LogRecord) -> bool:
        record.test_request_id = ctx.request_id_var.get()  # the contextvar of the RPC that logged
        return True

    caplog.handler.addFilter(tag)

    def lines(request_id: str) -> dict[str, logging.LogRecord]:
        found: dict[str, logging.LogRecord] = {}
        for record in caplog.records:
            if record.name == "prevention.rpc" and getattr(record, "test_request_id", None) == request_id:
                assert record.rpc_method not in found, f"{record.rpc_method} logged twice"
                found[record.rpc_method] = record
        return found

    yield lines
    caplog.handler.removeFilter(tag)


def wire_rounding_ms(timeout_ms: float) -> int:
    """How much later than its caller's a server's deadline can be: gRPC rounds the grpc-timeout
    header *up* to its unit (1 ms below 1 s, 10 ms below 10 s, 100 ms below 100 s), plus 1 ms.
    Applies to the first hop only (the test's or the gateway's own timeout); every propagated hop
    must be strictly within its caller's deadline (services.common.channels keeps a margin)."""
    unit = 1
    while timeout_ms >= 1000 * unit:
        unit *= 10
    return unit + 1


def remaining_ms(lines: dict[str, logging.LogRecord]) -> tuple[int, int]:
    assert set(lines) >= {GET_ACTION_PLAN, LIST_KEY_INDUSTRIES}, sorted(lines)
    assessment = lines[GET_ACTION_PLAN].deadline_remaining_ms
    sharing = lines[LIST_KEY_INDUSTRIES].deadline_remaining_ms
    assert assessment is not None and sharing is not None, "a call in the chain had no deadline"
    assert lines[GET_ACTION_PLAN].rpc_status == "OK" and lines[LIST_KEY_INDUSTRIES].rpc_status == "OK"
    return assessment, sharing


async def test_rest_chain_deadlines_shrink_downstream(platform, issuer, rpc_log):
    token = issuer.token(tenant="110000", roles=["provincial_operator"])
    request_id = f"r1-{uuid.uuid4().hex}"
    r = await platform.client.get("/v1/action-plans/active",
                                  headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id})
    assert r.status_code == 200, r.text
    assessment, sharing = remaining_ms(rpc_log(request_id))
    gateway_budget_ms = platform.settings.grpc_default_timeout_seconds * 1000
    assert 0 < sharing <= assessment, (sharing, assessment)
    assert sharing <= gateway_budget_ms
    assert assessment <= gateway_budget_ms + wire_rounding_ms(gateway_budget_ms), (assessment, gateway_budget_ms)


@pytest.mark.parametrize("timeout", [1.5, 0.8, 4.0, 15.0])  # 1.5 s: the R1 budget; others: other wire units
async def test_grpc_caller_deadline_bounds_the_downstream_call(platform, issuer, rpc_log, timeout):
    token = issuer.token(tenant="110000", roles=["provincial_operator"])
    request_id = f"r1-{uuid.uuid4().hex}"
    async with raw_channel(platform.addresses["assessment"]) as channel:
        reply = await assessment_pb2_grpc.AssessmentServiceStub(channel).GetActionPlan(
            assessment_pb2.GetActionPlanRequest(name="actionPlans/active"),
            metadata=auth(token, ("x-request-id", request_id)), timeout=timeout,
        )
    assert reply.action_plan.key_industry_codes  # sharing really answered within the budget
    assessment, sharing = remaining_ms(rpc_log(request_id))
    budget_ms = timeout * 1000
    assert 0 < sharing <= assessment, (sharing, assessment)
    assert sharing <= budget_ms
    assert assessment <= budget_ms + wire_rounding_ms(budget_ms), (assessment, budget_ms)


async def test_unreachable_service_is_503_within_the_timeout(platform, issuer, tmp_path):
    timeout = 3.0
    settings = make_settings(issuer, tmp_path, grpc_default_timeout_seconds=timeout)
    addresses = {**platform.addresses, "identity": f"127.0.0.1:{free_port()}"}  # nothing listens there
    token = issuer.token(tenant="110000", roles=["provincial_operator"])
    async with AsyncExitStack() as stack:
        client = await open_gateway(stack, create_app(settings, addresses=addresses))
        # Warm up first (JWKS fetched and cached through a route whose service is up), so the timed
        # request measures the unreachable service, not one-off set-up on a loaded machine.
        warm = await client.get("/v1/courses", headers={"Authorization": f"Bearer {token}"})
        assert warm.status_code == 200, warm.text
        started = time.monotonic()
        r = await client.get("/v1/tenants", headers={"Authorization": f"Bearer {token}"})
        elapsed = time.monotonic() - started
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["retry-after"]) >= 0
    assert r.json()["status"] == 503
    assert elapsed < timeout + 1.0, f"answered after {elapsed:.2f} s (timeout {timeout} s)"


def test_effective_timeout_honours_the_request_deadline():
    def run(fn, deadline: float | None):
        def inner():
            ctx.set_deadline(deadline)
            return fn()

        return contextvars.copy_context().run(inner)

    # No upstream deadline: the requested timeout, else the default.
    assert run(lambda: channels.effective_timeout(2.0, 10.0), None) == 2.0
    assert run(lambda: channels.effective_timeout(None, 10.0), None) == 10.0
    # An upstream deadline caps both, and is never exceeded.
    assert 0 < run(lambda: channels.effective_timeout(5.0, 10.0), 1.5) <= 1.5
    assert 0 < run(lambda: channels.effective_timeout(None, 10.0), 1.5) <= 1.5
    assert run(lambda: channels.effective_timeout(0.5, 10.0), 1.5) == 0.5
    # A deadline already passed: no time at all (the call fails at once with DEADLINE_EXCEEDED).
    assert run(lambda: channels.effective_timeout(5.0, 10.0), -1.0) == 0.0
    # Nothing leaked out of the copied contexts.
    assert ctx.deadline_remaining() is None


def test_retry_policy_within_grfc_a6():
    options = dict(channels.CHANNEL_OPTIONS)
    assert options["grpc.enable_retries"] == 1
    config = json.loads(options["grpc.service_config"])  # what channels really get
    assert config == channels.SERVICE_CONFIG
    (method,) = config["methodConfig"]
    policy = method["retryPolicy"]
    assert 2 <= policy["maxAttempts"] <= 5
    assert policy["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert float(policy["initialBackoff"].removesuffix("s")) > 0
    assert float(policy["maxBackoff"].removesuffix("s")) >= float(policy["initialBackoff"].removesuffix("s"))
    assert policy["backoffMultiplier"] > 1
    throttling = config["retryThrottling"]
    assert 0 < throttling["maxTokens"] <= 1000 and 0 < throttling["tokenRatio"] <= 1


def course_count(url: str, title: str) -> int:
    query = "SELECT count(*) FROM courses WHERE title = "
    if make_url(url).get_backend_name() == "postgresql":
        with psycopg.connect(psycopg_url(url)) as conn:
            return conn.execute(query + "%s", (title,)).fetchone()[0]
    with sqlite3.connect(make_url(url).database) as conn:
        return conn.execute(query + "?", (title,)).fetchone()[0]


@asynccontextmanager
async def write_past_the_deadline(platform, issuer, db_factory, tmp_path, tracer_provider, timeout: float):
    """POST /v1/courses through a gateway whose budget is ``timeout``, to a training runtime of its
    own whose database write lock the test holds: yields (response, elapsed, lock, url, title)."""
    settings = make_settings(issuer, tmp_path, grpc_default_timeout_seconds=timeout)
    url = await db_factory.prepared("training")
    runtime = build_runtime("training", service_builder("training"), settings=settings, database_url=url,
                            addresses={}, tracer_provider=tracer_provider)
    address = f"127.0.0.1:{await runtime.start('127.0.0.1:0')}"
    token = issuer.token(tenant="110000", roles=["provincial_operator"])
    title = f"abandoned-{uuid.uuid4().hex[:8]}"
    lock = WriteLock(url)
    try:
        async with AsyncExitStack() as stack:
            client = await open_gateway(stack, create_app(settings, addresses={**platform.addresses,
                                                                               "training": address}))
            # Warm up first (JWKS fetched and cached, channel to training connected), so the timed
            # request measures the deadline, not one-off set-up on a machine other tests are loading.
            warm = await client.get("/v1/courses", headers={"Authorization": f"Bearer {token}"})
            assert warm.status_code == 200, warm.text
            lock.acquire()
            started = time.monotonic()
            r = await client.post("/v1/courses", headers={"Authorization": f"Bearer {token}"},
                                  json={"title": title, "content_category": "warning_education"})
            elapsed = time.monotonic() - started
        yield r, elapsed, lock, url, title
    finally:
        lock.release()
        await runtime.stop(grace=1.0)


async def test_deadline_exceeded_is_504_within_the_budget(platform, issuer, db_factory, tmp_path):
    timeout = 1.0
    async with write_past_the_deadline(platform, issuer, db_factory, tmp_path, None, timeout) as (r, elapsed, *_):
        assert r.status_code == 504, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == 504
        assert timeout <= elapsed < timeout + 1.0, elapsed


async def test_server_abandons_a_write_past_its_deadline(platform, issuer, db_factory, tmp_path, tracer_provider,
                                                         span_exporter):
    """R1 "server abandons the work": past the deadline the service cancels its blocked INSERT
    (seen in pg_stat_activity while the test still holds the lock) and rolls back; nothing is
    committed once the lock is released.

    PostgreSQL only: on SQLite nothing outside the service shows that its writer stopped waiting,
    so the test could not tell "abandoned" from "not yet cancelled" without racing the lock release.
    """
    if postgres_admin_url() is None:
        pytest.skip("needs PostgreSQL's pg_stat_activity to see the service abandon its write (SQLite run)")
    span_exporter.clear()
    async with write_past_the_deadline(platform, issuer, db_factory, tmp_path, tracer_provider, 1.0) as (
        r, _elapsed, lock, url, title
    ):
        assert r.status_code == 504, r.text
        await wait_until(lambda: lock.waiting() == 0, timeout=10,
                         what="the service to cancel its INSERT while the lock is still held")
        lock.release()

        def handler_ended() -> bool:
            return any(s.kind == SpanKind.SERVER and s.name.endswith("/CreateCourse")
                       for s in span_exporter.get_finished_spans())

        await wait_until(handler_ended, timeout=30, what="the abandoned handler to end")
        assert course_count(url, title) == 0


async def test_retries_are_capped_and_throttled():
    """R3: a backend answering UNAVAILABLE gets at most maxAttempts tries per call, and once the
    retry budget (retryThrottling) is spent, calls are no longer retried at all."""
    attempts: list[int] = []

    class Unavailable(health_pb2_grpc.HealthServicer):
        async def Check(self, request, context):
            attempts[-1] += 1
            await context.abort(grpc.StatusCode.UNAVAILABLE, "backend down")

    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(Unavailable(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    policy = channels.RETRY_POLICY
    try:
        channel = channels.open_channel(f"127.0.0.1:{port}", default_timeout=5.0)
        async with channel:
            stub = health_pb2_grpc.HealthStub(channel)
            for _ in range(10):
                attempts.append(0)
                with pytest.raises(grpc.aio.AioRpcError) as info:
                    await stub.Check(health_pb2.HealthCheckRequest())
                assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await server.stop(None)
    assert attempts[0] == policy["maxAttempts"], attempts  # retried, up to the cap
    assert max(attempts) <= policy["maxAttempts"], attempts
    assert attempts[-3:] == [1, 1, 1], attempts  # budget spent: no more retries
    budget = channels.SERVICE_CONFIG["retryThrottling"]["maxTokens"]
    assert sum(attempts) <= policy["maxAttempts"] + 9 + budget, attempts
