"""The exchange log (SPEC SH-4; RELIABILITY A1, A2): a hash chain of every publish and read,
checkpointed to object storage; tampering with rows or cutting the tail is detected, and an
exchange whose log entry cannot be written is refused."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from services.cli import app
from services.common.clock import FrozenClock
from services.common.db import Database
from services.common.migrations import upgrade
from services.common.scheduler import LocalLock
from services.common.storage import LocalObjectStore
from services.sharing import exchange_log
from services.sharing.exchange_log import Entry
from tests.gateway.helpers import assert_problem, bearer
from tests.integration.helpers import wait_until
from tests.sharing.test_records import PO_A, accident, publish

EVENTS = 1000
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def store_at(path) -> LocalObjectStore:
    return LocalObjectStore(path / "objects", base_url="http://testserver", signing_key=b"k" * 32)


def entry(i: int) -> Entry:
    action = exchange_log.ACTIONS[i % len(exchange_log.ACTIONS)]
    return Entry(tenant_code="110000", actor=f"user-{i % 7}", action=action, record_type="accidents",
                 record_ids=(uuid.uuid4().hex, uuid.uuid4().hex) if action == "list" else (uuid.uuid4().hex,))


async def fill(database: Database, count: int = EVENTS, start: int = 0) -> None:
    async with database.session() as session:
        for i in range(start, start + count):
            await exchange_log.append(session, entry(i), now=T0 + timedelta(seconds=i))
        await session.commit()


@pytest.fixture
async def chain(db_factory, tmp_path):
    """A sharing database with 1,000 entries checkpointed at 500 and 1,000, and its store."""
    database = Database(await db_factory.prepared("sharing", seed=False))
    store = store_at(tmp_path)
    await fill(database, 500)
    async with database.session() as session:
        assert (await exchange_log.checkpoint(session, store, T0)).seq == 500
    await fill(database, EVENTS - 500, start=500)
    async with database.session() as session:
        point = await exchange_log.checkpoint(session, store, T0 + timedelta(hours=1))
    assert point.seq == EVENTS and point.previous == 500
    yield database, store
    await database.dispose()


async def verify(database: Database, store) -> exchange_log.VerifyResult:
    async with database.session() as session:
        return await exchange_log.verify(session, store)


async def execute(database: Database, *statements: tuple[str, dict]) -> None:
    async with database.engine.begin() as conn:
        for sql, params in statements:
            await conn.execute(text(sql), params)


async def test_a_clean_chain_verifies(chain):
    database, store = chain
    result = await verify(database, store)
    assert result.ok, result
    assert (result.checked, result.last_seq, result.checkpoints, result.first_bad_seq) == (EVENTS, EVENTS, 2, None)


async def test_an_edited_row_is_detected(chain):
    database, store = chain
    await execute(database, ("UPDATE exchange_log SET actor = 'mallory' WHERE seq = 321", {}))
    result = await verify(database, store)
    assert not result.ok and result.first_bad_seq == 321 and "edited" in result.reason, result


async def test_a_deleted_row_is_detected(chain):
    database, store = chain
    await execute(database, ("DELETE FROM exchange_log WHERE seq = 700", {}))
    result = await verify(database, store)
    assert not result.ok and result.first_bad_seq == 700 and "missing" in result.reason, result


async def test_swapped_rows_are_detected(chain):
    database, store = chain
    columns = ("event_time", "tenant_code", "actor", "action", "record_type", "record_ids", "prev_hash", "hash")
    async with database.engine.connect() as conn:
        rows = {row.seq: row for row in (await conn.execute(
            text(f"SELECT seq, {', '.join(columns)} FROM exchange_log WHERE seq IN (410, 420)"))).all()}
    statements = []
    for target, source in ((410, 420), (420, 410)):
        values = {c: getattr(rows[source], c) for c in columns}
        if not isinstance(values["record_ids"], str):
            values["record_ids"] = json.dumps(values["record_ids"])
        cast = "CAST(:record_ids AS JSON)" if database.url.get_backend_name() == "postgresql" else ":record_ids"
        assignments = ", ".join(f"{c} = {cast}" if c == "record_ids" else f"{c} = :{c}" for c in columns)
        statements.append((f"UPDATE exchange_log SET {assignments} WHERE seq = :seq", {**values, "seq": target}))
    await execute(database, *statements)
    result = await verify(database, store)
    assert not result.ok and result.first_bad_seq == 410, result


async def test_a_cut_tail_is_detected_by_the_checkpoint(chain):
    database, store = chain
    async with database.engine.connect() as conn:
        last_hash = (await conn.execute(text("SELECT hash FROM exchange_log WHERE seq = 990"))).scalar_one()
    # A careful attacker also rewinds the head row: only the checkpoint outside the database tells.
    await execute(database, ("DELETE FROM exchange_log WHERE seq > 990", {}),
                  ("UPDATE exchange_log_head SET seq = 990, hash = :hash", {"hash": last_hash}))
    result = await verify(database, store)
    assert not result.ok and result.first_bad_seq == 991 and "tail was cut" in result.reason, result
    assert result.checked == 990


async def test_a_consistently_rewritten_history_is_detected_by_the_checkpoint(chain):
    database, store = chain
    # Rewrite entries 600.. with recomputed hashes and head: the chain itself is consistent again.
    async with database.engine.connect() as conn:
        prev = (await conn.execute(text("SELECT hash FROM exchange_log WHERE seq = 599"))).scalar_one()
    await execute(database, ("DELETE FROM exchange_log WHERE seq >= 600", {}),
                  ("UPDATE exchange_log_head SET seq = 599, hash = :hash", {"hash": prev}))
    await fill(database, EVENTS - 599, start=10_000)
    async with database.engine.connect() as conn:
        assert (await conn.execute(text("SELECT max(seq) FROM exchange_log"))).scalar_one() == EVENTS
    result = await verify(database, store)
    assert not result.ok and result.first_bad_seq == EVENTS and "checkpoint" in result.reason, result
    # ... and no new checkpoint blesses it.
    async with database.session() as session:
        with pytest.raises(exchange_log.ChainBroken):
            await exchange_log.checkpoint(session, store, T0 + timedelta(hours=2))


async def test_a_missing_checkpoint_object_is_detected(chain, tmp_path):
    database, store = chain
    await store.delete(exchange_log.checkpoint_key(500))
    result = await verify(database, store)
    assert not result.ok and result.first_bad_seq == 500 and "object store" in result.reason, result


class CountingClock(FrozenClock):
    """A frozen clock that counts its readings: the scheduler reads it once per job and pass."""

    def __init__(self, at: datetime):
        super().__init__(at)
        self.readings = 0

    def now(self) -> datetime:
        self.readings += 1
        return super().now()


async def test_the_checkpoint_job_writes_the_head_every_interval(db_factory, tmp_path):
    """The scheduler job the sharing service runs (exchange_log.checkpoint_background): a checkpoint
    of the committed head at once, and the next one only once the interval has passed, linked to
    the first."""
    database = Database(await db_factory.prepared("sharing", seed=False))
    store, clock, stop = store_at(tmp_path), CountingClock(T0), asyncio.Event()
    background = exchange_log.checkpoint_background(
        sessionmaker=database.sessionmaker, store=store, clock=clock, tick=0.01,
        lock=LocalLock(tmp_path / "locks" / "checkpoint.lock"))

    async def written() -> list[int]:
        return [p.seq for p in (await exchange_log.checkpoints(store))[0]]

    await fill(database, 20)
    task = asyncio.create_task(background(stop))
    try:
        await wait_until(lambda: _eq(written(), [20]), timeout=10, what="the first checkpoint")
        await fill(database, 5, start=20)
        clock.advance(exchange_log.CHECKPOINT_INTERVAL - timedelta(seconds=1))
        seen = clock.readings
        await wait_until(lambda: clock.readings >= seen + 3, timeout=10, what="more passes of the scheduler")
        assert await written() == [20]  # not due yet
        clock.advance(timedelta(seconds=1))
        await wait_until(lambda: _eq(written(), [25, 20]), timeout=10, what="the checkpoint one interval later")
    finally:
        stop.set()
        await task
    result = await verify(database, store)
    assert result.ok and (result.checkpoints, result.last_seq) == (2, 25), result
    await database.dispose()


async def _eq(awaitable, expected) -> bool:
    return await awaitable == expected


# -- through the platform -------------------------------------------------------------------------


async def entries_after(database: Database, seq: int) -> list:
    async with database.engine.connect() as conn:
        return (await conn.execute(text(
            "SELECT seq, tenant_code, action, record_type, record_ids FROM exchange_log WHERE seq > :seq ORDER BY seq"),
            {"seq": seq})).all()


async def head_seq(database: Database) -> int:
    async with database.engine.connect() as conn:
        return (await conn.execute(text("SELECT seq FROM exchange_log_head"))).scalar_one()


def ids(row) -> list[str]:
    return json.loads(row.record_ids) if isinstance(row.record_ids, str) else row.record_ids


@pytest.fixture
async def sharing_db(platform):
    database = Database(platform.urls["sharing"])
    yield database
    await database.dispose()


async def test_publishes_and_reads_are_logged(platform, issuer, sharing_db, tmp_path):
    start = await head_seq(sharing_db)
    record = (await publish(platform, issuer, accident())).json()
    url = f"/v1/accidents/{record['id']}"
    headers = bearer(issuer, **PO_A)
    assert (await platform.client.get(url, headers=headers)).status_code == 200
    listed = await platform.client.get("/v1/accidents", params={"page_size": 1}, headers=headers)
    assert listed.status_code == 200 and len(listed.json()["accidents"]) == 1
    body = {k: v for k, v in accident().items() if k != "publisher_record_id"}
    assert (await platform.client.post(f"{url}/correct", json=body, headers=headers)).status_code == 200
    assert (await platform.client.post(f"{url}/void", json={"reason": "dup"}, headers=headers)).status_code == 200
    assert_problem(await platform.client.get(f"/v1/accidents/{uuid.uuid4().hex}", headers=headers), 404)

    rows = await entries_after(sharing_db, start)
    assert [r.action for r in rows] == ["publish", "read", "list", "correct", "void"]
    assert all(r.tenant_code == "110000" and r.record_type == "accidents" for r in rows)
    assert ids(rows[0]) == ids(rows[1]) == ids(rows[3]) == ids(rows[4]) == [record["id"]]
    assert ids(rows[2]) == [listed.json()["accidents"][0]["id"]]  # only what was served
    # No record content in the log: only ids.
    async with sharing_db.engine.connect() as conn:
        dumped = " ".join(str(tuple(r)) for r in (await conn.execute(text("SELECT * FROM exchange_log"))).all())
    assert record["employer"] not in dumped and record["description"] not in dumped

    store = store_at(tmp_path)  # a store of this test's own: the platform's job checkpoints elsewhere
    async with sharing_db.session() as session:
        assert (await exchange_log.checkpoint(session, store, datetime.now(UTC))).seq >= rows[-1].seq
    assert (await verify(sharing_db, store)).ok


async def test_reads_and_publishes_fail_closed_when_the_log_is_unavailable(platform, issuer, sharing_db, tmp_path):
    """RELIABILITY A2: the log store unavailable -> 503 and nothing served or written."""
    record = (await publish(platform, issuer, accident())).json()
    headers = bearer(issuer, **PO_A)
    before = await head_seq(sharing_db)
    await execute(sharing_db, ("ALTER TABLE exchange_log RENAME TO exchange_log_offline", {}))
    try:
        refused = await platform.client.get(f"/v1/accidents/{record['id']}", headers=headers)
        problem = assert_problem(refused, 503, reason="EXCHANGE_LOG_UNAVAILABLE")
        served = set(problem) & {"employer", "description", "occurred_at", "severity", "fields"}
        assert not served and record["employer"] not in refused.text and record["description"] not in refused.text
        listed = await platform.client.get("/v1/accidents", headers=headers)
        assert_problem(listed, 503, reason="EXCHANGE_LOG_UNAVAILABLE")
        assert record["employer"] not in listed.text
        body = accident()
        assert_problem(await publish(platform, issuer, body), 503, reason="EXCHANGE_LOG_UNAVAILABLE")
    finally:
        await execute(sharing_db, ("ALTER TABLE exchange_log_offline RENAME TO exchange_log", {}))
    assert await head_seq(sharing_db) == before  # the failed appends rolled back with their operations
    async with sharing_db.engine.connect() as conn:
        published = (await conn.execute(text("SELECT count(*) FROM accidents WHERE publisher_record_id = :p"),
                                        {"p": body["publisher_record_id"]})).scalar_one()
    assert published == 0
    assert (await platform.client.get(f"/v1/accidents/{record['id']}", headers=headers)).status_code == 200
    assert (await verify(sharing_db, store_at(tmp_path))).ok


# -- the command line ----------------------------------------------------------------------------


def test_prevention_audit_verify(db_factory, tmp_path):
    url = db_factory.url("sharing")
    upgrade("sharing", url)
    data_dir = tmp_path / "data"
    store = LocalObjectStore(data_dir / "objects", base_url="http://testserver", signing_key=b"k" * 32)

    async def prepare() -> None:
        database = Database(url)
        try:
            await fill(database, 50)
            async with database.session() as session:
                await exchange_log.checkpoint(session, store, T0)
        finally:
            await database.dispose()

    async def tamper() -> None:
        database = Database(url)
        try:
            await execute(database, ("UPDATE exchange_log SET action = 'publish' WHERE seq = 17", {}))
        finally:
            await database.dispose()

    asyncio.run(prepare())
    env = {"PREVENTION_DATA_DIR": str(data_dir), "PREVENTION_SHARING_DATABASE_URL": url}
    result = CliRunner().invoke(app, ["audit", "verify"], env=env)
    assert result.exit_code == 0, result.output
    assert "intact: 50 entries" in result.output and "1 checkpoints" in result.output

    asyncio.run(tamper())
    result = CliRunner().invoke(app, ["audit", "verify"], env=env)
    assert result.exit_code == 1, result.output
    assert "entry 17" in result.output


async def test_concurrent_exchanges_keep_the_chain_linear(platform, issuer, sharing_db, tmp_path):
    record = (await publish(platform, issuer, accident())).json()
    headers = bearer(issuer, **PO_A)
    start = await head_seq(sharing_db)
    responses = await asyncio.gather(*(
        platform.client.get(f"/v1/accidents/{record['id']}", headers=headers) if i % 2
        else publish(platform, issuer, accident()) for i in range(20)))
    assert sorted(r.status_code for r in responses) == [200] * 10 + [201] * 10
    rows = await entries_after(sharing_db, start)
    assert [r.seq for r in rows] == list(range(start + 1, start + 21))
    assert (await verify(sharing_db, store_at(tmp_path))).ok
