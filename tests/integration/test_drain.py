"""RELIABILITY R6 / acceptance: "SIGTERM during an in-flight RPC: it completes, new RPCs are
refused, the process exits 0" — `python -m services.training` as a real subprocess.

How the RPCs are kept in flight without sleeps: the test holds the database's write lock
(SQLite ``BEGIN EXCLUSIVE`` / PostgreSQL ``LOCK TABLE courses IN ACCESS EXCLUSIVE MODE``), so
every CreateCourse blocks on its INSERT and cannot complete until the test releases it.

How the test knows the server has received each RPC (deterministic on both databases): the
subprocess validates tokens against this test's own JWKS server with a JWKS cooldown of 0, and
each RPC carries a token signed by a freshly rotated key. The server can only validate it by
fetching the JWKS again, so the fetch for RPC *i* proves RPC *i* was accepted by the server and
is running in its handler; the test sends RPC *i+1* only after that fetch. On PostgreSQL the
test also waits until the N INSERTs show as lock waits in ``pg_stat_activity``. (On SQLite there
is no equivalent view of a busy writer; the JWKS signal plus "not completed while the lock is
held" is what the test relies on.)
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import grpc
import psycopg
from prevention.training.v1 import training_pb2, training_pb2_grpc
from sqlalchemy import make_url

from tests.integration.helpers import (
    NOT_SERVING,
    SERVING,
    WriteLock,
    auth,
    free_port,
    health_status,
    is_postgres,
    next_status,
    psycopg_url,
    raw_channel,
    wait_until,
    watch,
)
from tests.support.tokens import TokenIssuer

ROOT = Path(__file__).resolve().parents[2]
GRACE = 5.0
IN_FLIGHT = 10  # RELIABILITY R6: "SIGTERM with 10 slow RPCs in flight, 5 s grace"
CALL_TIMEOUT = 60.0  # far beyond the test: a call must finish because the server finished it


def course_request(i: int) -> training_pb2.CreateCourseRequest:
    return training_pb2.CreateCourseRequest(course=training_pb2.Course(
        title=f"drain-{i}", content_category=training_pb2.CONTENT_CATEGORY_ACCIDENT_PREVENTION))


def stored_titles(url: str) -> set[str]:
    query = "SELECT title FROM courses WHERE title LIKE 'drain-%'"
    if is_postgres(url):
        with psycopg.connect(psycopg_url(url)) as conn:
            return {r[0] for r in conn.execute(query)}
    with sqlite3.connect(make_url(url).database) as conn:
        return {r[0] for r in conn.execute(query)}


async def test_sigterm_drains_in_flight_rpcs_refuses_new_ones_and_exits_0(db_factory, tmp_path):
    issuer = TokenIssuer()  # own issuer: the test rotates its keys
    url = await db_factory.prepared("training")
    address = f"127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREVENTION_", "OTEL_"))}
    env.update(
        PREVENTION_TRAINING_DATABASE_URL=url,
        PREVENTION_TRAINING_ADDR=address,
        PREVENTION_OIDC_ISSUER=issuer.issuer,
        PREVENTION_OIDC_JWKS_URL=issuer.jwks_url,
        PREVENTION_OIDC_JWKS_COOLDOWN_SECONDS="0",
        PREVENTION_GRPC_DRAIN_GRACE_SECONDS=str(GRACE),
        PREVENTION_HEALTH_INTERVAL_SECONDS="0.2",
        PREVENTION_DATA_DIR=str(tmp_path),
    )
    log_path = tmp_path / "training.stderr"
    lock = WriteLock(url)
    with open(log_path, "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "services.training"], cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)

    def log() -> str:
        return log_path.read_text(errors="replace")[-4000:]

    calls: list[grpc.aio.UnaryUnaryCall] = []
    try:
        async def serving() -> bool:
            assert proc.poll() is None, f"service exited early ({proc.returncode}):\n{log()}"
            return await health_status(address, timeout=1.0) == "SERVING"

        await wait_until(serving, timeout=30, interval=0.05, what="the service to report SERVING")

        lock.acquire()
        async with raw_channel(address) as channel, watch(address) as health_stream:
            await next_status(health_stream, SERVING)
            stub = training_pb2_grpc.TrainingServiceStub(channel)
            for i in range(IN_FLIGHT):
                issuer.rotate()
                token = issuer.token(tenant="110000", roles=["provincial_operator"])
                fetches = issuer.requests
                calls.append(stub.CreateCourse(course_request(i), metadata=auth(token), timeout=CALL_TIMEOUT))
                await wait_until(lambda fetches=fetches: issuer.requests > fetches, timeout=10,
                                 what=f"the server to receive RPC {i}")
            if lock.postgres:
                await wait_until(lambda: lock.waiting() >= IN_FLIGHT, timeout=10,
                                 what=f"{IN_FLIGHT} INSERTs waiting for the lock")
            assert not any(call.done() for call in calls), "a write completed while the lock was held"
            # The database answers reads, so the instance is healthy while its writes wait.
            assert await health_status(address) == "SERVING"

            proc.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            await next_status(health_stream, NOT_SERVING)
            health_stream.cancel()  # a Watch stream is an RPC too: let it not hold the drain

            # New RPCs are refused once the drain has begun (NOT_SERVING may be seen in between).
            seen: list[str] = []

            async def refused() -> bool:
                seen.append(await health_status(address, timeout=2.0))
                assert seen[-1] in ("NOT_SERVING", "UNAVAILABLE"), seen
                return seen[-1] == "UNAVAILABLE"

            await wait_until(refused, timeout=GRACE, what="new RPCs to be refused")
            token = issuer.token(tenant="110000", roles=["provincial_operator"])
            async with raw_channel(address) as fresh:
                try:
                    await training_pb2_grpc.TrainingServiceStub(fresh).CreateCourse(
                        course_request(IN_FLIGHT), metadata=auth(token), timeout=2.0)
                except grpc.aio.AioRpcError as error:
                    assert error.code() == grpc.StatusCode.UNAVAILABLE, error
                else:
                    raise AssertionError("a new RPC was accepted during the drain")

            assert not any(call.done() for call in calls), "an in-flight RPC ended before its write could run"
            assert proc.poll() is None, "the process exited with RPCs still in flight"
            lock.release()

            responses = await asyncio.gather(*calls)
        assert sorted(r.course.title for r in responses) == sorted(f"drain-{i}" for i in range(IN_FLIGHT))

        await wait_until(lambda: proc.poll() is not None, timeout=GRACE + 5, what="the process to exit")
        exited_after = time.monotonic() - signalled
        assert proc.returncode == 0, log()
        assert exited_after < GRACE, f"exited {exited_after:.1f} s after SIGTERM (grace {GRACE} s)"
        assert '"signal received, draining"' in log()
        # Completed means committed: every in-flight write is in the database.
        assert stored_titles(url) == {f"drain-{i}" for i in range(IN_FLIGHT)}
    finally:
        lock.release()
        for call in calls:
            call.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        issuer.close()

