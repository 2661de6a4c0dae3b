"""RELIABILITY S8 on gRPC (message size, concurrency cap) and R4 (keepalive / connection age)."""

from __future__ import annotations

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prevention.training.v1 import training_pb2, training_pb2_grpc

from services.common import channels
from services.common.auth import validator_from_settings
from services.common.runner import build_runtime
from services.common.server import server_options
from tests.conftest import make_settings
from tests.integration.helpers import (
    RPC_TIMEOUT,
    RecordingValidator,
    WriteLock,
    auth,
    raw_channel,
    wait_until,
)
from tests.support.platform import service_builder

MiB = 1024 * 1024
LIMIT = 4 * MiB
BIG = 64 * MiB  # the test client's own caps, so that the server's limit is the one tested


def course(description: str = "", title: str = "limits") -> training_pb2.CreateCourseRequest:
    return training_pb2.CreateCourseRequest(course=training_pb2.Course(
        title=title, description=description, content_category=training_pb2.CONTENT_CATEGORY_POLICY_REGULATION))


async def create(address: str, token: str, request) -> grpc.StatusCode:
    async with raw_channel(address, **{"grpc.max_send_message_length": BIG,
                                       "grpc.max_receive_message_length": BIG}) as channel:
        try:
            await training_pb2_grpc.TrainingServiceStub(channel).CreateCourse(
                request, metadata=auth(token), timeout=RPC_TIMEOUT)
        except grpc.aio.AioRpcError as error:
            return error.code()
    return grpc.StatusCode.OK


async def test_message_over_4_mib_is_resource_exhausted(platform, issuer):
    token = issuer.token(tenant="110000", roles=["provincial_operator"])
    address = platform.addresses["training"]
    assert platform.settings.grpc_max_message_bytes == LIMIT
    assert await create(address, token, course("x" * (LIMIT + 1))) == grpc.StatusCode.RESOURCE_EXHAUSTED
    # Just under the limit the message reaches the service, which refuses the field itself.
    under = course("x" * (LIMIT - 64))
    assert under.ByteSize() <= LIMIT
    assert await create(address, token, under) == grpc.StatusCode.INVALID_ARGUMENT


async def test_concurrency_cap_is_resource_exhausted(issuer, db_factory, tmp_path):
    settings = make_settings(issuer, tmp_path, grpc_max_concurrent_rpcs=2)
    url = await db_factory.prepared("training")
    validator = RecordingValidator(validator_from_settings(settings))
    runtime = build_runtime("training", service_builder("training"), settings=settings, database_url=url,
                            addresses={}, validator=validator)
    address = f"127.0.0.1:{await runtime.start('127.0.0.1:0')}"
    token = issuer.token(tenant="110000", roles=["provincial_operator"])
    lock = WriteLock(url)
    held: list[asyncio.Task] = []
    try:
        lock.acquire()
        held = [asyncio.create_task(create(address, token, course(title=f"held-{i}"))) for i in range(2)]
        # Both RPCs reached the handler (and, on PostgreSQL, wait for the table lock).
        await wait_until(lambda: validator.entered >= 2, what="2 RPCs in the handler")
        if lock.postgres:
            await wait_until(lambda: lock.waiting() >= 2, what="2 INSERTs waiting for the lock")
        assert not any(t.done() for t in held)

        assert await create(address, token, course(title="third")) == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert validator.entered == 2  # refused before any work was done
        async with raw_channel(address) as channel:  # every RPC counts against the cap, probes too
            try:
                await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=RPC_TIMEOUT)
            except grpc.aio.AioRpcError as error:
                assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            else:
                raise AssertionError("a third concurrent RPC was served")

        lock.release()
        assert await asyncio.gather(*held) == [grpc.StatusCode.OK, grpc.StatusCode.OK]

        # The slots are free again once the held RPCs are done.
        async def accepted() -> bool:
            return await create(address, token, course(title="after")) == grpc.StatusCode.OK

        await wait_until(accepted, what="a new RPC to be accepted")
    finally:
        lock.release()
        for task in held:
            task.cancel()
        await runtime.stop(grace=1.0)


def test_keepalive_and_connection_age_options(settings):
    server = dict(server_options(settings))
    client = dict(channels.CHANNEL_OPTIONS)

    # Server: pings the client, closes idle-or-old connections gracefully, message caps.
    assert server["grpc.keepalive_time_ms"] > 0 and server["grpc.keepalive_timeout_ms"] > 0
    assert server["grpc.max_connection_age_ms"] > 0  # connections are recycled (load spreads)
    assert server["grpc.max_connection_age_grace_ms"] > 0  # ... and in-flight calls may finish
    assert server["grpc.max_receive_message_length"] == LIMIT
    assert server["grpc.max_send_message_length"] == LIMIT

    # A client pinging every 10 s is permitted (no GOAWAY too_many_pings)...
    min_ping_interval = server["grpc.http2.min_ping_interval_without_data_ms"]
    assert min_ping_interval <= 10_000
    assert server["grpc.http2.max_ping_strikes"] >= 1  # ... while a ping flood is cut off
    # ... and the platform's own channels never ping more often than the servers allow.
    assert client["grpc.keepalive_time_ms"] >= min_ping_interval
    assert client["grpc.keepalive_timeout_ms"] > 0
    # Idle pings are only accepted by a server that permits them; ours doesn't, so clients don't send them.
    assert client["grpc.keepalive_permit_without_calls"] == 0
    assert client["grpc.max_send_message_length"] == LIMIT
    assert client["grpc.max_receive_message_length"] == LIMIT
