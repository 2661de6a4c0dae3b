"""RELIABILITY R5: gRPC health (grpc.health.v1) and reflection of every service; a sick or
stopping instance reports NOT_SERVING."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from prevention.assessment.v1 import assessment_pb2
from prevention.identity.v1 import identity_pb2
from prevention.sharing.v1 import sharing_pb2
from prevention.training.v1 import training_pb2
from sqlalchemy import make_url

from services.common.runner import build_runtime
from services.common.settings import SERVICES
from tests.integration.helpers import (
    NOT_SERVING,
    RPC_TIMEOUT,
    SERVICE_NAMES,
    SERVING,
    is_postgres,
    next_status,
    raw_channel,
    watch,
)
from tests.support.platform import postgres_admin_url, service_builder


@pytest.mark.parametrize("service", SERVICES)
async def test_health_check_serving(platform, service):
    async with raw_channel(platform.addresses[service]) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for name in ("", SERVICE_NAMES[service]):
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=RPC_TIMEOUT)
            assert reply.status == SERVING, (service, name)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=RPC_TIMEOUT)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND


PROTOS = {"identity": identity_pb2, "sharing": sharing_pb2, "training": training_pb2, "assessment": assessment_pb2}


@pytest.mark.parametrize("service", SERVICES)
async def test_reflection_lists_the_service(platform, service):
    async with raw_channel(platform.addresses[service]) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        call = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=RPC_TIMEOUT
        )
        replies = [reply async for reply in call]
    assert len(replies) == 1
    names = {s.name for s in replies[0].list_services_response.service}
    # RELIABILITY S13: exactly the services its proto file declares, plus health and reflection;
    # no other service's API on its port (SPEC 7.1), nothing undeclared.
    declared = {s.full_name for s in PROTOS[service].DESCRIPTOR.services_by_name.values()}
    assert names == declared | {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}
    assert SERVICE_NAMES[service] in declared


async def test_reflection_is_off_in_the_prod_profile(settings, db_factory):
    """RELIABILITY S12: the production profile serves no reflection (health stays)."""
    prod = settings.model_copy(update={"profile": "prod"})
    runtime = build_runtime("sharing", service_builder("sharing"), settings=prod,
                            database_url=await db_factory.prepared("sharing"), addresses={})
    port = await runtime.start("127.0.0.1:0")
    try:
        async with raw_channel(f"127.0.0.1:{port}") as channel:
            call = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=RPC_TIMEOUT)
            with pytest.raises(grpc.aio.AioRpcError) as info:
                [reply async for reply in call]
            assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                                    timeout=RPC_TIMEOUT)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await runtime.stop(grace=1.0)


# --- R5: status follows the database and the shutdown ------------------------------------------


@asynccontextmanager
async def own_runtime(settings, db_factory, service: str = "identity") -> AsyncIterator[tuple[object, str, str]]:
    """A runtime of ``service`` on its own fresh database; always stopped."""
    url = await db_factory.prepared(service)
    runtime = build_runtime(service, service_builder(service), settings=settings, database_url=url, addresses={})
    port = await runtime.start("127.0.0.1:0")
    try:
        yield runtime, f"127.0.0.1:{port}", url
    finally:
        await runtime.stop(grace=1.0)


def make_database_unavailable(url: str) -> None:
    if is_postgres(url):
        admin = make_url(postgres_admin_url()).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{make_url(url).database}" WITH (FORCE)')
    else:
        path = make_url(url).database
        size = os.path.getsize(path)
        with open(path, "r+b") as f:  # same inode: the service's open files now read garbage
            f.write(os.urandom(max(size, 4096)))


async def test_not_serving_when_the_database_becomes_unavailable(settings, db_factory):
    async with own_runtime(settings, db_factory) as (_runtime, address, url):
        async with watch(address) as call:
            await next_status(call, SERVING)
            make_database_unavailable(url)
            await next_status(call, NOT_SERVING)
        async with watch(address, SERVICE_NAMES["identity"]) as call:
            await next_status(call, NOT_SERVING)


async def test_not_serving_once_stop_begins(settings, db_factory):
    async with own_runtime(settings, db_factory) as (runtime, address, _url):
        async with watch(address, SERVICE_NAMES["identity"]) as call:
            await next_status(call, SERVING)
            stopping = asyncio.create_task(runtime.stop(grace=2.0))
            try:
                await next_status(call, NOT_SERVING)
            finally:
                call.cancel()
                await stopping
