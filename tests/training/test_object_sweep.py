"""RELIABILITY D5: database and object store disagree.

Objects are written before their rows; when the database commit fails the object is an orphan
(here: the catalogue's material write rolled back, and the xAPI attachment write with a COMMIT
that fails).
The training service's sweep (registered on its chassis scheduler) deletes orphans older than the
grace period, keeps referenced and young objects, and audits each run in the log with counts only.
Runs against the local store and a real SeaweedFS (marker ``s3``). The attachment checksum rule
(a part whose bytes do not match its declared sha2 is refused, nothing stored) is checked here too.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prevention.training.v1 import training_pb2
from sqlalchemy.exc import OperationalError

from services.common.clock import FrozenClock
from services.common.context import Caller
from services.common.db import Database
from services.common.errors import InvalidArgument
from services.common.object_sweep import sweep_orphans
from services.common.storage import LocalObjectStore, ObjectStore, S3ObjectStore, object_key, object_store
from services.training.catalogue import NewMaterial, create_material
from services.training.lrs import statements as st
from services.training.lrs.models import StatementAttachment
from services.training.lrs.store import authority_of
from services.training.object_sweep import training_sweep_background, training_sweep_targets
from services.training.servicer import TrainingServicer
from tests.support.seaweed import SeaweedS3, SeaweedUnavailable
from tests.training.test_xapi_attachments import BOUNDARY, multipart, with_attachment

TENANT = "110000"
GRACE = timedelta(hours=1)
CALLER = Caller(subject="operator-1", tenant=TENANT, roles=frozenset({"provincial_operator"}))


@pytest.fixture(scope="module")
def seaweed():
    server = SeaweedS3()
    try:
        server.start()
    except (SeaweedUnavailable, OSError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"SeaweedFS must run in CI but could not start: {exc}")
        pytest.skip(f"SeaweedFS could not start (set CI=true to make this a failure): {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
async def store(request, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects", base_url="http://testserver", signing_key=b"k" * 32)
    server: SeaweedS3 = request.getfixturevalue("seaweed")
    s3 = S3ObjectStore(server.endpoint, server.access_key, server.secret_key, f"sweep-{uuid.uuid4().hex[:12]}",
                       secure=False)
    await s3.ensure_bucket()
    return s3


@pytest.fixture
async def database(db_factory) -> AsyncIterator[Database]:
    db = Database(await db_factory.prepared("training", seed=False))
    yield db
    await db.dispose()


def material(title: str) -> NewMaterial:
    return NewMaterial(kind="document", title=title, content_type="application/pdf",
                       publicity_topic="work_safety", public=False, content=b"%PDF-1.4 " + title.encode(), size=0)


@dataclass
class Scene:
    orphan: str  # PUT, then the commit failed
    material: str  # committed with its row
    attachment: str  # committed with its row
    other_service: str  # not the training service's: never touched


async def orphan_after_failed_commit(database: Database, store: ObjectStore, title: str) -> str:
    """The catalogue's real write path: the object is PUT, the row flushed, and the commit fails."""
    async with database.session() as session:
        row, _ = await create_material(session=session, store=store, caller=CALLER, module_id="",
                                       new=material(title), now=datetime.now(UTC))
        key = row.object_key
        await session.rollback()  # what a failed COMMIT leaves: the transaction is gone
    async with database.session() as session:
        assert await session.get(type(row), row.id) is None
    assert (await store.stat(key)).size > 0
    return key


async def build_scene(database: Database, store: ObjectStore) -> Scene:
    orphan = await orphan_after_failed_commit(database, store, "lost")
    async with database.session() as session:
        row, _ = await create_material(session=session, store=store, caller=CALLER, module_id="",
                                       new=material("kept"), now=datetime.now(UTC))
        await session.commit()
    content = b"signed attendance sheet"
    sha = hashlib.sha256(content).hexdigest()
    attachment = object_key(TENANT, "training", "xapi-attachment", sha)
    await store.put(attachment, content, "application/octet-stream")
    async with database.session() as session:
        session.add(StatementAttachment(tenant_code=TENANT, sha2=sha, content_type="text/plain",
                                        length=len(content), object_key=attachment))
        await session.commit()
    other = object_key(TENANT, "sharing", "evidence", uuid.uuid4().hex)
    await store.put(other, b"not ours", "application/octet-stream")
    return Scene(orphan=orphan, material=row.object_key, attachment=attachment, other_service=other)


async def keys(store: ObjectStore) -> set[str]:
    return {o.key for o in await store.list_objects("")}


def sweep_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "services.common.object_sweep" and r.getMessage() == "object sweep"]


async def test_orphan_is_swept_after_the_grace_referenced_and_young_objects_stay(database, store, caplog):
    scene = await build_scene(database, store)
    targets = training_sweep_targets(database.sessionmaker)
    listed = {o.key: o for o in await store.list_objects(f"{TENANT}/training/")}
    assert {scene.orphan, scene.material, scene.attachment} <= set(listed)
    assert scene.other_service not in listed
    assert all(o.last_modified.tzinfo is not None and o.size > 0 for o in listed.values())

    # Within the grace the orphan stays: its row might still be on its way.
    caplog.set_level(logging.INFO, logger="services.common.object_sweep")
    young = await sweep_orphans(store, targets, now=datetime.now(UTC), grace=GRACE)
    assert young.deleted == 0 and young.young >= 3
    assert {scene.orphan, scene.material, scene.attachment, scene.other_service} <= await keys(store)

    later = FrozenClock(datetime.now(UTC) + GRACE + timedelta(minutes=5))
    report = await sweep_orphans(store, targets, now=later.now(), grace=GRACE)
    assert report.deleted == 1 and report.referenced == 2 and report.young == 0
    left = await keys(store)
    assert scene.orphan not in left
    assert {scene.material, scene.attachment, scene.other_service} <= left

    # Idempotent: a second run finds nothing more.
    assert (await sweep_orphans(store, targets, now=later.now(), grace=GRACE)).deleted == 0

    # Audited with counts, never keys or object ids.
    records = sweep_records(caplog)
    assert [r.deleted for r in records] == [0, 1, 0]
    assert records[1].scanned == 3 and records[1].grace_seconds == 3600
    for record in records:
        text = str(record.__dict__)
        assert all(k.rsplit("/", 1)[1] not in text for k in (scene.orphan, scene.material, scene.attachment))


class OnePass:
    """A leader lock that lets the scheduler run one pass, then asks it to stop."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop

    def try_acquire(self) -> bool:
        self.stop.set()  # checked by run_forever only after this pass
        return True

    def held(self) -> bool:
        return True

    def release(self) -> None:
        pass


async def test_the_scheduled_sweep_removes_the_orphan_of_a_failed_commit(database, store):
    orphan = await orphan_after_failed_commit(database, store, "scheduled")
    stop = asyncio.Event()
    run = training_sweep_background(sessionmaker=database.sessionmaker, store=store, lock=OnePass(stop),
                                    clock=FrozenClock(datetime.now(UTC) + timedelta(hours=2)), grace=GRACE)
    await run(stop)
    assert orphan not in await keys(store)


class CommitFails:
    """The service's database, except that every COMMIT fails (the connection drops at commit)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @asynccontextmanager
    async def session(self):
        async with self.database.session() as session:
            async def commit() -> None:
                raise OperationalError("COMMIT", {}, ConnectionResetError("connection lost at commit"))

            session.commit = commit
            yield session


async def test_an_attachment_whose_row_commit_failed_is_swept(database, store):
    content = b"attendance sheet, commit lost"
    sha = hashlib.sha256(content).hexdigest()
    prepared = [st.prepare(with_attachment(content), stored=datetime.now(UTC), authority=authority_of(CALLER),
                           version="1.0.3")]
    part = training_pb2.StatementAttachment(sha2=sha, content=content, content_type="text/plain")
    servicer = TrainingServicer(CommitFails(database), store=store)
    with pytest.raises(OperationalError):
        await servicer._store_attachments(CALLER, prepared, [part])  # the xAPI write path: PUT, then commit
    key = object_key(TENANT, "training", "xapi-attachment", sha)
    assert (await store.stat(key)).sha256 == sha  # the orphan
    async with database.session() as session:
        assert await session.get(StatementAttachment, (TENANT, sha)) is None
    targets = training_sweep_targets(database.sessionmaker)
    assert (await sweep_orphans(store, targets, now=datetime.now(UTC), grace=GRACE)).deleted == 0
    assert key in await keys(store)
    later = datetime.now(UTC) + GRACE + timedelta(seconds=1)
    assert (await sweep_orphans(store, targets, now=later, grace=GRACE)).deleted == 1
    assert key not in await keys(store)


async def test_the_training_service_registers_the_sweep(database, store, settings):
    from services.training.servicer import build

    registration = build(database=database, settings=settings, object_store=store)
    assert len(registration.background) == 1


async def test_listing_prefixes_are_whole_segments(store):
    for bad in ("110000", "110000/training", "../", "110000/../", "/110000/", "110000/training/a/b/"):
        with pytest.raises(InvalidArgument) as err:
            await store.list_objects(bad)
        assert {v.field for v in err.value.violations} == {"prefix"}
    assert await store.list_objects("110000/training/materials/") == []
    key = object_key(TENANT, "training", "materials", uuid.uuid4().hex)
    put = await store.put(key, b"%PDF-1.4", "application/pdf")
    stat = await store.stat(key)
    [listed] = await store.list_objects(f"{TENANT}/training/materials/")
    assert stat == put and listed.key == key and listed.size == 8
    assert stat.last_modified is not None and stat.last_modified.tzinfo is not None
    assert abs(stat.last_modified - listed.last_modified) < timedelta(seconds=2)


async def test_an_attachment_not_matching_its_sha2_is_refused_and_nothing_dangles(platform, lrs_platform):
    content = b"the real signed sheet"
    sent = with_attachment(content)
    declared = hashlib.sha256(content).hexdigest()
    tampered = b"tampered sheet"
    headers = {**lrs_platform.headers(), "Content-Type": f"multipart/mixed; boundary={BOUNDARY}"}
    body = multipart([sent], [("text/plain", tampered, declared)])
    response = await platform.client.post("/xapi/statements", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert "sha2" in response.text
    shas = {declared, hashlib.sha256(tampered).hexdigest()}
    stored = await object_store(platform.settings).list_objects("")
    assert not [o for o in stored if o.key.rsplit("/", 1)[1] in shas]
    got = await platform.client.get("/xapi/statements", params={"statementId": sent["id"]},
                                    headers=lrs_platform.headers())
    assert got.status_code == 404
