"""Learning-record ingestion (SPEC TR-3): the gRPC stream into the training database, printed as
a ratio to a raw bulk insert of the same rows in the same run (COPY on PostgreSQL, executemany on
SQLite: CI reruns db tests on PostgreSQL, so both are printed); and xAPI POST statements/s through
the gateway against /healthz requests/s. No timing assertion."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import make_url

from services.training.lrs import statements as st
from tests.training.conftest import RecommendedList
from tests.training.ingest_client import IngestClient
from tests.training.lrs_support import EXPERIENCED, Platform, statement

FULL_RECORDS = 100_000
BATCH = 500
COLUMNS = ("tenant_code", "statement_id", "stored", "timestamp", "actor_key", "verb_id", "activity_id",
           "registration", "voided", "voids", "ref_id", "writer", "agent_keys", "related_agent_keys",
           "related_activity_ids", "content_hash", "statement_json")


def records() -> int:
    return max(200, int(FULL_RECORDS * float(os.environ.get("BENCH_SCALE", "1"))))


def rows_of(sent: list[dict]) -> list[tuple]:
    now = datetime.now(UTC)
    authority = {"objectType": "Agent", "account": {"homePage": "urn:prevention:api-client", "name": "bench"}}
    rows = []
    for s in sent:
        p = st.prepare(s, stored=now, authority=authority, version="1.0.3")
        rows.append(("110000", p.statement_id, now, p.timestamp, p.actor_key, p.verb_id, p.activity_id,
                     p.registration, False, p.voids, p.ref_id, "bench", p.agent_keys, p.related_agent_keys,
                     p.related_activity_ids, p.content_hash, st.canonical_json(p.statement)))
    return rows


def raw_insert(url: str, rows: list[tuple]) -> tuple[str, float]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn = sqlite3.connect(parsed.database)
        try:
            conn.execute("CREATE TEMP TABLE bench_rows AS SELECT * FROM learning_statements WHERE 0")
            started = time.perf_counter()
            conn.executemany(f"INSERT INTO bench_rows ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                             [(*r[:2], r[2].isoformat(), r[3].isoformat(), *r[4:]) for r in rows])
            conn.commit()
            return "SQLite executemany", time.perf_counter() - started
        finally:
            conn.close()
    with psycopg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False)) as conn:
        conn.execute("CREATE TEMP TABLE bench_rows (LIKE learning_statements INCLUDING DEFAULTS)")
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY bench_rows ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return "PostgreSQL COPY", time.perf_counter() - started


@pytest.mark.bench
@pytest.mark.db
async def test_grpc_ingestion_against_raw_bulk_insert(platform, issuer):
    who = await RecommendedList(platform, issuer).register(Platform(issuer))
    n = records()
    sent = [statement(verb=EXPERIENCED) for _ in range(n)]
    batches = [sent[i:i + BATCH] for i in range(0, n, BATCH)]
    started = time.perf_counter()
    acks = await IngestClient(platform.addresses["training"], who.metadata(), timeout=600).send(batches)
    ingest = time.perf_counter() - started
    assert sum(a.stored for a in acks) == n
    kind, raw = raw_insert(platform.urls["training"], rows_of(sent))
    print(f"\ningestion: {n} records; gRPC stream {n / ingest:.0f}/s, {kind} {n / raw:.0f}/s; "
          f"ratio ingest/raw time = {ingest / raw:.2f}")


@pytest.mark.bench
@pytest.mark.db
async def test_xapi_post_statements_per_second(platform, issuer):
    who = await RecommendedList(platform, issuer).register(Platform(issuer))
    n = max(50, records() // 20)
    per_post = 10
    headers = who.headers()
    warm = await platform.client.post("/xapi/statements", json=statement(), headers=headers)  # JWKS, pools
    assert warm.status_code == 200, warm.text
    started = time.perf_counter()
    for _ in range(0, n, per_post):
        response = await platform.client.post("/xapi/statements", content=json.dumps(
            [statement(verb=EXPERIENCED) for _ in range(per_post)]), headers={**headers,
                                                                             "Content-Type": "application/json"})
        assert response.status_code == 200, response.text
    posting = time.perf_counter() - started
    requests = n // per_post
    started = time.perf_counter()
    for _ in range(requests):
        assert (await platform.client.get("/healthz")).status_code == 200
    baseline = time.perf_counter() - started
    print(f"\nxAPI POST: {n} statements in {requests} requests of {per_post}: {n / posting:.0f} statements/s; "
          f"ratio POST/healthz time per request = {posting / baseline:.2f}")
