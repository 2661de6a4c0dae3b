"""SPEC NF-9 (embedded mode): `prevention backup` / `prevention restore` round-trip every database
and the object store.

A data directory is migrated and seeded through the CLI (as `prevention up` would), an object is
put into the local object store and rows are added; after backup, wipe and restore, every row of
every table of every service database, every object file and the key files are byte-for-byte what
they were. Restore also refuses a non-empty data directory without --force, a tampered archive,
and PostgreSQL (distributed mode).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest

from services.common.settings import SERVICES
from services.common.storage import LocalObjectStore, local_signing_key, object_key

ROOT = Path(__file__).resolve().parents[2]
OBJECT_BYTES = b"%PDF-1.7\n" + bytes(range(256)) * 64


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREVENTION_", "OTEL_"))}
    env.update(PREVENTION_DATA_DIR=str(data_dir), **extra)
    return env


def cli(data_dir: Path, *args: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=ROOT, env=cli_env(data_dir, **extra),
                            capture_output=True, text=True, timeout=240)
    if check:
        assert result.returncode == 0, f"prevention {' '.join(args)}: {result.stdout}\n{result.stderr}"
    return result


def snapshot_databases(data_dir: Path) -> dict[str, dict[str, list[tuple]]]:
    """Every row of every table of every service database, in a stable order."""
    snapshot = {}
    for name in SERVICES:
        with sqlite3.connect(f"file:{data_dir / f'{name}.db'}?mode=ro", uri=True) as conn:
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
            snapshot[name] = {
                table: sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr) for table in tables
            }
    return snapshot


def snapshot_files(data_dir: Path) -> dict[str, bytes]:
    files = {p.relative_to(data_dir).as_posix(): p.read_bytes()
             for p in (data_dir / "objects").rglob("*") if p.is_file()}
    for key in ("pii-keys.json", "object-url.key"):
        if (data_dir / key).exists():
            files[key] = (data_dir / key).read_bytes()
    return files


async def add_rows(data_dir: Path) -> None:
    """Courses through the training service's own models and database layer."""
    from datetime import UTC, datetime

    from services.common.db import Database
    from services.training.models import Course

    database = Database(f"sqlite:///{data_dir / 'training.db'}")
    try:
        async with database.session() as session:
            for i in range(3):
                session.add(Course(id=uuid.uuid4().hex, tenant_code="110000", title=f"backup-test-{i} 工伤预防",
                                   description="备份恢复", content_category="ACCIDENT_PREVENTION",
                                   create_time=datetime(2026, 3, 1, 8, i, tzinfo=UTC), created_by="backup-test"))
            await session.commit()
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("embedded") / "data"
    cli(data_dir, "migrate")
    cli(data_dir, "seed", "--demo")
    store = LocalObjectStore(data_dir / "objects", base_url="http://127.0.0.1:8080",
                             signing_key=local_signing_key(data_dir))
    asyncio.run(store.put(object_key("110000", "training", "material", "backup-test"), OBJECT_BYTES,
                          "application/pdf"))
    asyncio.run(add_rows(data_dir))
    return data_dir


def test_backup_wipe_restore_round_trips_every_table_and_object(seeded, tmp_path):
    before_rows, before_files = snapshot_databases(seeded), snapshot_files(seeded)
    assert any(rows for tables in before_rows.values() for rows in tables.values())
    assert len(before_rows["training"]["courses"]) >= 3
    assert {"object-url.key", "pii-keys.json"} <= set(before_files), sorted(before_files)
    assert any(v == OBJECT_BYTES for v in before_files.values())

    archive = tmp_path / "backups" / "prevention.tar.gz"
    out = cli(seeded, "backup", str(archive))
    assert archive.is_file() and "wrote" in out.stdout
    assert archive.stat().st_mode & 0o077 == 0, "the archive holds the PII keys: owner-only"

    data_dir = tmp_path / "restored" / "data"  # another machine's empty data directory
    cli(data_dir, "restore", str(archive))
    assert snapshot_databases(data_dir) == before_rows
    assert snapshot_files(data_dir) == before_files
    for name in SERVICES:
        with sqlite3.connect(data_dir / f"{name}.db") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_wipe_in_place_and_restore(seeded, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(seeded, data_dir)
    before_rows, before_files = snapshot_databases(data_dir), snapshot_files(data_dir)
    archive = tmp_path / "b.tar.gz"
    cli(data_dir, "backup", str(archive))
    shutil.rmtree(data_dir)
    cli(data_dir, "restore", str(archive))
    assert snapshot_databases(data_dir) == before_rows
    assert snapshot_files(data_dir) == before_files
    # The restored platform is usable: migrate is a no-op on it and the idempotent seed adds nothing.
    cli(data_dir, "migrate")
    cli(data_dir, "seed")
    assert snapshot_databases(data_dir) == before_rows


def test_restore_refuses_a_non_empty_data_dir_without_force(seeded, tmp_path):
    archive = tmp_path / "b.tar.gz"
    cli(seeded, "backup", str(archive))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "training.db").write_bytes(b"not the backup")
    refused = cli(data_dir, "restore", str(archive), check=False)
    assert refused.returncode == 1
    assert "--force" in refused.stderr
    assert (data_dir / "training.db").read_bytes() == b"not the backup"
    cli(data_dir, "restore", "--force", str(archive))
    assert snapshot_databases(data_dir) == snapshot_databases(seeded)


def test_restore_refuses_a_tampered_archive(seeded, tmp_path):
    archive = tmp_path / "b.tar.gz"
    cli(seeded, "backup", str(archive))
    unpacked = tmp_path / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    (unpacked / "databases" / "identity.db").write_bytes(b"tampered")
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(tampered, "w:gz") as tar:
        for path in sorted(unpacked.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=path.relative_to(unpacked).as_posix())
    data_dir = tmp_path / "data"
    refused = cli(data_dir, "restore", str(tampered), check=False)
    assert refused.returncode == 1
    assert "sha256" in refused.stderr
    assert not data_dir.exists() or not any(data_dir.iterdir())


def test_postgres_is_refused_with_the_distributed_mode_procedure(tmp_path):
    url = "postgresql+psycopg://prevention@db.example/training"
    result = cli(tmp_path / "data", "backup", str(tmp_path / "b.tar.gz"), check=False,
                 PREVENTION_TRAINING_DATABASE_URL=url)
    assert result.returncode == 1
    assert "pg_basebackup" in result.stderr and "WAL archiving" in result.stderr
    result = cli(tmp_path / "data", "restore", str(tmp_path / "b.tar.gz"), check=False,
                 PREVENTION_TRAINING_DATABASE_URL=url)
    assert result.returncode == 1 and "pg_basebackup" in result.stderr
