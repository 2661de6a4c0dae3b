"""Idempotent writes: a client-supplied key is recorded with a hash of the request and the
response, in the same transaction as the write (SPEC 7.4, NF-4; RELIABILITY R2).

- same key, same payload, committed    -> the stored response is replayed, nothing is written;
- same key, different payload          -> FAILED_PRECONDITION (HTTP 422);
- same key racing an uncommitted write -> ABORTED (HTTP 409): retry and it replays.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Column, DateTime, LargeBinary, MetaData, String, Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.errors import Aborted, FailedPrecondition, InvalidArgument

R = TypeVar("R")
MAX_KEY_LENGTH = 128


TABLE_NAME = "idempotency_keys"


def idempotency_columns() -> list[Column]:
    """Fresh columns, for the table below and for each service's initial migration."""
    return [
        Column("scope", String(255), primary_key=True),
        Column("key", String(MAX_KEY_LENGTH), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("response", LargeBinary, nullable=False),
        Column("create_time", DateTime(timezone=True), nullable=False),
    ]


def idempotency_table(metadata: MetaData) -> Table:
    """The table each service declares on its own metadata (and creates in its migrations)."""
    return Table(TABLE_NAME, metadata, *idempotency_columns())


def request_hash(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


async def run_idempotent(
    sessionmaker: async_sessionmaker[AsyncSession],
    table: Table,
    *,
    scope: str,
    key: str,
    payload: bytes,
    work: Callable[[AsyncSession], Awaitable[bytes]],
    field: str = "request_id",
) -> bytes:
    """Runs ``work`` (which returns the serialized response) at most once per (scope, key).

    ``work`` must not commit: this function commits the write and the key together.
    An empty key means the client opted out; the write then simply runs.
    """
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidArgument.field(field, f"must be at most {MAX_KEY_LENGTH} characters")
    digest = request_hash(payload)
    async with sessionmaker() as session:
        try:
            if key:
                replay = await _replay(session, table, scope, key, digest, field)
                if replay is not None:
                    return replay
                # Claim the key before doing the work: a concurrent request with the same key waits
                # on this row and then replays, instead of racing the work's own unique keys.
                try:
                    await session.execute(table.insert().values(
                        scope=scope, key=key, request_hash=digest, response=b"", create_time=datetime.now(UTC)))
                except IntegrityError:
                    await session.rollback()
                    raise _LostRace from None
            response = await work(session)
            if key:
                await session.execute(
                    table.update().where(table.c.scope == scope, table.c.key == key).values(response=response))
            await session.commit()
            return response
        except _LostRace:
            pass
        except BaseException:
            await session.rollback()
            raise
    # The other request committed first (replay) or rolled back in between (ask to retry).
    async with sessionmaker() as session:
        replay = await _replay(session, table, scope, key, digest, field)
    if replay is not None:
        return replay
    raise Aborted(f"a request with this {field} is in progress; retry later", reason="IDEMPOTENCY_KEY_IN_USE")


class _LostRace(Exception):
    pass


async def _replay(session: AsyncSession, table: Table, scope: str, key: str, digest: str, field: str):
    row = (
        await session.execute(
            select(table.c.request_hash, table.c.response).where(table.c.scope == scope, table.c.key == key)
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != digest:
        raise FailedPrecondition(
            f"{field} was already used with a different request", reason="IDEMPOTENCY_KEY_REUSED"
        )
    return row.response


async def idempotent_rpc(
    sessionmaker: async_sessionmaker[AsyncSession],
    table: Table,
    *,
    caller,
    method: str,
    request,
    response_type,
    work: Callable[[AsyncSession], Awaitable],
):
    """``run_idempotent`` for an RPC whose request carries ``request_id`` (AIP-155): keys are scoped
    per caller and method, ``work`` returns the response message, which is stored and replayed."""

    async def serialized(session: AsyncSession) -> bytes:
        return (await work(session)).SerializeToString()

    raw = await run_idempotent(sessionmaker, table, scope=f"{caller.subject}:{method}", key=request.request_id,
                               payload=request.SerializeToString(deterministic=True), work=serialized)
    return response_type.FromString(raw)
