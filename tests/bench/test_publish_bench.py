"""Bulk publish throughput (issue 4): accident records through the sharing service's
PublishAccidents stream into PostgreSQL, against a raw COPY of the same rows into a copy of the
accidents table, in the same run. Printed as records/s and as a ratio; no timing assertion.

The service path does per batch of 1,000 what the product promises: validation, the idempotency
lookup, the insert, the change hook (feed and rollups) and one hash-chained exchange-log entry.
100,000 records at full scale (`make bench`), BENCH_SCALE of that in CI (at least 2,000).
It always runs against the PostgreSQL server on this machine (PREVENTION_TEST_DATABASE_URL, or
postgres@127.0.0.1:5432), whatever database the rest of the run uses."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from datetime import UTC, date, datetime

import grpc
import psycopg
import pytest
from prevention.sharing.v1 import sharing_pb2, sharing_pb2_grpc
from sqlalchemy.engine import make_url

from services.common.runner import build_runtime
from tests.support.platform import PG_ENV, DatabaseFactory, service_builder

FULL = 100_000
BATCH = 1_000
STREAM = 20_000
ADMIN = os.environ.get(PG_ENV) or "postgresql://postgres@127.0.0.1:5432/test"


def records() -> int:
    return max(2_000, int(FULL * float(os.environ.get("BENCH_SCALE", "1"))))


def requests(prefix: str, first: int, count: int):
    async def stream():
        for start in range(first, first + count, BATCH):
            yield sharing_pb2.PublishAccidentsRequest(accidents=[
                sharing_pb2.Accident(
                    publisher_record_id=f"{prefix}-{n}", occurred_at="2025-03-01",
                    employer="organisations/bench-employer", industry_code="C2611",
                    severity=sharing_pb2.ACCIDENT_SEVERITY_MINOR, accident_type="machinery_injury",
                    persons_injured=1, days_lost=3)
                for n in range(start, min(start + BATCH, first + count))])
    return stream


def copy_rows(prefix: str, count: int):
    now = datetime.now(UTC)
    for n in range(count):
        yield (uuid.uuid4().hex, "110000", f"{prefix}-{n}", "", hashlib.sha256(str(n).encode()).hexdigest(), 1,
               "active", date(2025, 3, 1), "organisations/bench-employer", "C2611", "minor", "machinery_injury",
               1, 0, 3, "", "", now, now, "bench", "bench")


COLUMNS = ("id, tenant_code, publisher_record_id, publisher_organisation, create_hash, version, status, "
           "occurred_at, employer, industry_code, severity, accident_type, persons_injured, fatalities, "
           "days_lost, description, void_reason, create_time, update_time, created_by, updated_by")


@pytest.mark.bench
async def test_bulk_publish_vs_copy(settings, issuer, tmp_path):
    n = records()
    factory = DatabaseFactory(tmp_path, admin=ADMIN)
    try:
        url = await factory.prepared("sharing")
        runtime = build_runtime("sharing", service_builder("sharing"), settings=settings, database_url=url,
                                addresses={}, tracer_provider=None, validator=None)
        port = await runtime.start("127.0.0.1:0")
        token = issuer.token(tenant="110000", roles=["provincial_operator"])
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = sharing_pb2_grpc.SharingServiceStub(channel)
                metadata = [("authorization", f"Bearer {token}")]
                await stub.PublishAccidents(requests("warm", 0, 100)(), metadata=metadata, timeout=60)
                started = time.perf_counter()
                created = 0
                for first in range(0, n, STREAM):
                    reply = await stub.PublishAccidents(requests("bench", first, min(STREAM, n - first))(),
                                                        metadata=metadata, timeout=600)
                    created += reply.created_count
                service = time.perf_counter() - started
        finally:
            await runtime.stop(grace=1.0)
        assert created == n

        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute("CREATE TABLE accidents_copy (LIKE accidents INCLUDING ALL)")
            started = time.perf_counter()
            with conn.cursor().copy(f"COPY accidents_copy ({COLUMNS}) FROM STDIN") as copy:
                for row in copy_rows("copy", n):
                    copy.write_row(row)
            raw = time.perf_counter() - started
            assert conn.execute("SELECT count(*) FROM accidents_copy").fetchone()[0] == n
    finally:
        factory.drop_all()
    print(f"\nbulk publish into PostgreSQL: {n} records; gRPC PublishAccidents {n / service:.0f}/s, "
          f"raw COPY {n / raw:.0f}/s; ratio service/COPY time = {service / raw:.1f}")
