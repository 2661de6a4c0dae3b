"""Helpers of the integration tests: raw gRPC channels, ports, polling, database write locks.

Raw ``grpc.aio.insecure_channel``s are used on purpose: the chassis' own client channel adds
deadlines, tokens and retries, and these tests check what the *servers* do.
"""

from __future__ import annotations

import asyncio
import importlib
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import grpc
import psycopg
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import make_url

from services.common.settings import SERVICES

RPC_TIMEOUT = 5.0  # every call of these tests has a deadline
WATCH_TIMEOUT = 15.0
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def service_name(service: str) -> str:
    """Full name of a service's gRPC service, from its proto descriptor (not from the runtime)."""
    module = importlib.import_module(f"prevention.{service}.v1.{service}_pb2")
    (descriptor,) = module.DESCRIPTOR.services_by_name.values()
    return descriptor.full_name


SERVICE_NAMES = {name: service_name(name) for name in SERVICES}


def free_port() -> int:
    """A port nothing listens on (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def auth(token: str, *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"), *extra)


def raw_channel(address: str, **options) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(address, options=list(options.items()))


async def wait_until(predicate: Callable[[], bool | Awaitable[bool]], *, timeout: float = 10.0,
                     interval: float = 0.02, what: str = "condition") -> None:
    """Polls ``predicate`` until it holds; fails after ``timeout`` seconds (never a bare sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)


async def health_status(address: str, service: str = "", *, timeout: float = RPC_TIMEOUT) -> str:
    """Health/Check over a fresh channel: the status name, or the gRPC error code's name."""
    async with raw_channel(address) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.aio.AioRpcError as error:
            return error.code().name
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


@asynccontextmanager
async def watch(address: str, service: str = "") -> AsyncIterator[grpc.aio.UnaryStreamCall]:
    """A Health/Watch stream (with a deadline), cancelled on exit."""
    async with raw_channel(address) as channel:
        call = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service=service), timeout=WATCH_TIMEOUT + 5
        )
        try:
            yield call
        finally:
            call.cancel()


async def next_status(call, expected, *, timeout: float = WATCH_TIMEOUT) -> None:
    """Reads the Watch stream until ``expected`` arrives (overall timeout, no sleeps)."""

    async def read():
        seen = []
        while True:
            reply = await call.read()
            assert reply is not grpc.aio.EOF, f"stream ended; saw {seen}"
            seen.append(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
            if reply.status == expected:
                return

    await asyncio.wait_for(read(), timeout)


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def psycopg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class WriteLock:
    """Holds the write lock of a service's database from the test, so writes of the service block.

    SQLite: a separate connection in ``BEGIN EXCLUSIVE`` (the service's busy_timeout makes its
    writers wait). PostgreSQL: ``LOCK TABLE <table> IN ACCESS EXCLUSIVE MODE`` in an open
    transaction; ``waiting()`` counts the service's backends blocked on a lock.
    """

    def __init__(self, url: str, table: str = "courses"):
        self.url = url
        self.table = table
        self.postgres = is_postgres(url)
        self._conn = None

    def acquire(self) -> WriteLock:
        if self.postgres:
            self._conn = psycopg.connect(psycopg_url(self.url))
            self._conn.execute(f'LOCK TABLE "{self.table}" IN ACCESS EXCLUSIVE MODE')
        else:
            self._conn = sqlite3.connect(make_url(self.url).database, isolation_level=None, timeout=10)
            self._conn.execute("BEGIN EXCLUSIVE")
        return self

    def release(self) -> None:
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        try:
            conn.rollback() if self.postgres else conn.execute("ROLLBACK")
        finally:
            conn.close()

    def waiting(self) -> int:
        """PostgreSQL only: sessions of this database waiting for a lock (the blocked writes)."""
        database = make_url(self.url).database
        with psycopg.connect(psycopg_url(self.url), autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'"
                " AND pid <> pg_backend_pid()",
                (database,),
            ).fetchone()
        return row[0]

    def __enter__(self) -> WriteLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


class RecordingValidator:
    """Wraps the runtime's token validator and counts the RPCs that reached it: an RPC counted
    here has been accepted by the server and is running in its handler."""

    def __init__(self, inner):
        self.inner = inner
        self.entered = 0

    async def validate(self, token: str):
        self.entered += 1
        return await self.inner.validate(token)
