"""What the chassis costs per RPC: ListTenants through the full chassis (OpenTelemetry, request
id + access log, token validation, error mapping, a database read) against grpc.health Check on
the same server (no interceptors, no database) in the same run. Printed as a ratio; no timing
assertion (SPEC NF-5)."""

from __future__ import annotations

import os
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prevention.identity.v1 import identity_pb2, identity_pb2_grpc

FULL_CALLS = 5000


def calls() -> int:
    return max(20, int(FULL_CALLS * float(os.environ.get("BENCH_SCALE", "1"))))


async def timed(n: int, call) -> float:
    started = time.perf_counter()
    for _ in range(n):
        await call()
    return time.perf_counter() - started


@pytest.mark.bench
async def test_chassis_overhead_ratio(platform, issuer):
    n = calls()
    token = issuer.token(tenant="110000", roles=["provincial_operator"])
    metadata = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(platform.addresses["identity"]) as channel:
        identity = identity_pb2_grpc.IdentityServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)

        async def chassis_call():
            reply = await identity.ListTenants(identity_pb2.ListTenantsRequest(), metadata=metadata, timeout=5)
            assert reply.tenants

        async def baseline_call():
            await health.Check(health_pb2.HealthCheckRequest(), timeout=5)

        await timed(10, chassis_call)  # warm-up: JWKS fetch, connection pool
        await timed(10, baseline_call)
        baseline = await timed(n, baseline_call)
        chassis = await timed(n, chassis_call)
    print(
        f"\nchassis overhead: {n} calls; health baseline {n / baseline:.0f}/s, "
        f"ListTenants {n / chassis:.0f}/s; ratio chassis/baseline time = {chassis / baseline:.2f}"
    )
    assert chassis > 0 and baseline > 0
