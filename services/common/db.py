"""Database access: SQLAlchemy 2 with asyncio throughout.

Why async: every service is a ``grpc.aio`` server, so one event loop serves all RPCs; an async
engine keeps database waits on that loop, and when a deadline passes gRPC cancels the handler
task, which cancels the pending query too (the server abandons the work, RELIABILITY R1).
Embedded mode uses SQLite files (aiosqlite); production PostgreSQL (psycopg 3, async).
Alembic migrations use the synchronous flavour of the same URL.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import URL, event, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from services.common.context import current_caller
from services.common.tenancy import subtree_prefix

# aiosqlite logs every statement with its bound parameters (personal data) at DEBUG: pin its
# logger like SQLAlchemy pins "sqlalchemy", so a DEBUG root logger never records them (RELIABILITY A3).
logging.getLogger("aiosqlite").setLevel(logging.INFO)

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg2": "postgresql+psycopg",
}
_SYNC_DRIVERS = {"sqlite+aiosqlite": "sqlite", "postgresql+psycopg": "postgresql+psycopg"}


def async_url(url: str | URL) -> URL:
    u = make_url(url)
    try:
        return u.set(drivername=_ASYNC_DRIVERS[u.drivername])
    except KeyError:
        raise ValueError(f"unsupported database driver {u.drivername!r}") from None


def sync_url(url: str | URL) -> URL:
    u = async_url(url)
    return u.set(drivername=_SYNC_DRIVERS[u.drivername])


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL + synchronous=FULL: a commit is on disk before it is acknowledged (NF-4);
    # busy_timeout lets concurrent writers wait instead of failing at once.
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _stop_aiosqlite_once(dbapi_connection, _record) -> None:
    """Make aiosqlite's ``stop()`` answer only once per connection.

    aiosqlite (0.22) ends its worker thread on the first stop; a second ``stop()`` queues a future
    no thread will ever resolve, and ``Connection.close()`` always stops (and awaits that) in its
    ``finally``. SQLAlchemy's cancellation path does both: when a task is cancelled twice while a
    statement runs (a gRPC handler past its deadline, then the server shutting down), the pool
    terminates the connection with a shielded graceful ``close()`` and then a forced ``stop()``.
    The graceful close then awaits forever, and that orphaned task hangs the event loop's shutdown
    (``prevention up`` on Ctrl+C; aiosqlite issue #369). Here a repeated stop returns no future:
    the first one already ends the thread, after every call queued before it.
    """
    connection = getattr(dbapi_connection, "driver_connection", None)
    stop = getattr(connection, "stop", None)
    if stop is None:
        return
    stopped = False

    def stop_once():
        nonlocal stopped
        if stopped:
            return None
        stopped = True
        return stop()

    connection.stop = stop_once


def sqlite_connect_hook(engine) -> None:
    """Apply the SQLite pragmas to every new connection of a (sync or async) engine."""
    target = getattr(engine, "sync_engine", engine)
    if target.dialect.name == "sqlite":
        event.listen(target, "connect", _sqlite_pragmas)
        if target.dialect.is_async:
            event.listen(target, "connect", _stop_aiosqlite_once)


class ScopedSession(Session):
    """A session whose every transaction on PostgreSQL carries the caller's tenant scope in
    ``app.tenant`` / ``app.all_tenants``, which the row-level security policies read (a second
    line of defence behind the queries' own tenant filters). Without a caller (login, seeding,
    scheduled jobs) or for ministry operators the scope is all tenants."""


@event.listens_for(ScopedSession, "after_begin")
def _set_tenant_scope(session, transaction, connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    caller = current_caller()
    prefix = "" if caller is None or caller.is_ministry else subtree_prefix(caller.tenant)
    connection.exec_driver_sql(
        "SELECT set_config('app.all_tenants', %s, true), set_config('app.tenant', %s, true)",
        ("off" if prefix else "on", prefix),
    )


class Database:
    """One async engine and session factory per service process."""

    def __init__(self, url: str | URL, *, pool_size: int = 10):
        self.url = async_url(url)
        # hide_parameters: database errors never carry bound values (personal data) into logs.
        kwargs: dict = {"pool_pre_ping": True, "hide_parameters": True}
        if self.url.get_backend_name() == "postgresql":
            kwargs.update(pool_size=pool_size, max_overflow=pool_size)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        sqlite_connect_hook(self.engine)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, sync_session_class=ScopedSession)
        # A pooled SQLite connection answers from memory even when the file has become unreadable
        # (RELIABILITY R5): the health ping opens a fresh connection, which reads the file header.
        self._probe: AsyncEngine | None = None
        if self.url.get_backend_name() == "sqlite":
            self._probe = create_async_engine(self.url, poolclass=NullPool)
            sqlite_connect_hook(self._probe)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction the caller commits; rolled back on error."""
        async with self.sessionmaker() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise

    async def ping(self) -> None:
        if self._probe is not None:
            async with self._probe.connect() as conn:
                await conn.execute(text("PRAGMA schema_version"))
            return
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._probe is not None:
            await self._probe.dispose()
