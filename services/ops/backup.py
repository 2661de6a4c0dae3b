"""`prevention backup` / `prevention restore` for embedded mode (SPEC NF-9).

A backup is one ``.tar.gz`` holding:
- ``databases/<service>.db``: each service's SQLite database, copied with SQLite's online backup
  API (``sqlite3.Connection.backup``), which yields a consistent snapshot even while the services
  write (WAL mode);
- ``objects/...``: the local object store (``<data dir>/objects``), byte for byte;
- ``keys/pii-keys.json`` and ``keys/object-url.key`` when present: without the PII keys the
  encrypted columns of a restored database cannot be read;
- ``manifest.json``: format, creation time, platform/SQLite versions, each database's Alembic
  revision, and the sha256 and size of every other file in the archive.

Restore checks the manifest (every listed file present with its sha256, nothing unlisted) before
touching the data directory, refuses a non-empty data directory unless ``force``, and writes each
file through a temporary file and ``os.replace``.

Distributed mode (PostgreSQL) is refused: there, backups are PostgreSQL base backups plus WAL
archiving and object-store replication, run by the operator's tooling (see the chart's README).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from sqlalchemy import make_url

from services.common.settings import SERVICES, PlatformSettings, service_settings

__all__ = [
    "KEY_FILES",
    "MANIFEST",
    "BackupError",
    "BackupResult",
    "backup",
    "restore",
]

MANIFEST = "manifest.json"
FORMAT = "prevention-embedded-backup/1"
# service-client-<service>.secret: the API client secrets of the services that run scheduled work
# (services/common/service_clients.py; sharing and assessment).
KEY_FILES = ("pii-keys.json", "object-url.key", "service-client-sharing.secret", "service-client-assessment.secret")
POSTGRES_MESSAGE = (
    "{service} uses PostgreSQL (distributed mode): `prevention backup` covers embedded mode only. "
    "Back up PostgreSQL with pg_basebackup plus WAL archiving (point-in-time recovery) and "
    "replicate the object store with the operator's tooling; see the chart's README (NF-9)."
)
_CHUNK = 1024 * 1024


class BackupError(RuntimeError):
    """A backup or restore that was refused or failed; the message is for the operator."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    files: int
    databases: dict[str, str | None]  # service -> Alembic revision


def _sqlite_paths(settings: PlatformSettings) -> dict[str, Path]:
    paths = {}
    for name in SERVICES:
        url = make_url(service_settings(name, settings).database_url)
        if url.get_backend_name() != "sqlite":
            raise BackupError(POSTGRES_MESSAGE.format(service=name))
        if not url.database or url.database == ":memory:":
            raise BackupError(f"{name}: the SQLite database has no file to back up")
        paths[name] = Path(url.database)
    return paths


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _version() -> str:
    try:
        return metadata.version("prevention")
    except metadata.PackageNotFoundError:
        return "unknown"


def _alembic_revision(path: Path) -> str | None:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
    return row[0] if row else None


def _copy_database(src: Path, dst: Path) -> None:
    """A consistent copy through SQLite's online backup API (readers/writers may be active)."""
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    try:
        target = sqlite3.connect(dst)
        try:
            source.backup(target)
            # A self-contained file: no -wal beside it in the archive.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    finally:
        source.close()
    check = sqlite3.connect(dst)
    try:
        result = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    if result != "ok":
        raise BackupError(f"the copy of {src.name} failed its integrity check: {result}")


def backup(settings: PlatformSettings, destination: Path) -> BackupResult:
    """Write every database, the object store and the key files to ``destination`` (.tar.gz)."""
    databases = _sqlite_paths(settings)
    data_dir = Path(settings.data_dir)
    missing = [name for name, path in databases.items() if not path.is_file()]
    if missing:
        raise BackupError(f"no database for {', '.join(missing)} in {data_dir}: run `prevention migrate` first")
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=destination.parent) as tmp:
        stage = Path(tmp) / "stage"
        (stage / "databases").mkdir(parents=True)
        revisions: dict[str, str | None] = {}
        for name, path in databases.items():
            _copy_database(path, stage / "databases" / f"{name}.db")
            revisions[name] = _alembic_revision(stage / "databases" / f"{name}.db")
        objects = data_dir / "objects"
        if objects.is_dir():
            shutil.copytree(objects, stage / "objects", symlinks=False)
        for key in KEY_FILES:
            if (data_dir / key).is_file():
                (stage / "keys").mkdir(exist_ok=True)
                shutil.copy2(data_dir / key, stage / "keys" / key)
        files = {
            p.relative_to(stage).as_posix(): {"sha256": _sha256(p), "size": p.stat().st_size}
            for p in sorted(stage.rglob("*"))
            if p.is_file()
        }
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "platform_version": _version(),
            "sqlite_version": sqlite3.sqlite_version,
            "databases": revisions,
            "files": files,
        }
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        partial = Path(tmp) / "backup.tar.gz"
        # The archive holds the PII keys: owner-only from the start.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            tar.add(stage / MANIFEST, arcname=MANIFEST)
            for rel in files:
                tar.add(stage / rel, arcname=rel, recursive=False)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, destination)
    return BackupResult(path=destination, files=len(files), databases=revisions)


def _extract(archive: Path, into: Path) -> dict:
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar.getmembers():
                if not (member.isfile() or member.isdir()):
                    raise BackupError(f"unexpected entry {member.name!r} in the archive")
            tar.extractall(into, filter="data")  # no absolute paths, no '..', no links
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{archive} is not a readable backup: {exc}") from exc
    try:
        manifest = json.loads((into / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{archive} has no readable {MANIFEST}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive}: unknown backup format {manifest.get('format')!r}")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise BackupError(f"{archive}: the manifest lists no files")
    present = {p.relative_to(into).as_posix() for p in into.rglob("*") if p.is_file()} - {MANIFEST}
    if present != set(files):
        raise BackupError(f"{archive}: files differ from the manifest (missing "
                          f"{sorted(set(files) - present)}, unlisted {sorted(present - set(files))})")
    for rel, entry in files.items():
        if _sha256(into / rel) != entry.get("sha256"):
            raise BackupError(f"{archive}: {rel} does not match its sha256 in the manifest")
    for name in SERVICES:
        if f"databases/{name}.db" not in files:
            raise BackupError(f"{archive}: no database for {name}")
    return manifest


def _install(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.restoring")
    shutil.copyfile(src, tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dst)


def restore(settings: PlatformSettings, archive: Path, *, force: bool = False) -> dict:
    """Restore a backup into the configured data directory; returns the manifest."""
    databases = _sqlite_paths(settings)
    data_dir = Path(settings.data_dir)
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist")
    with tempfile.TemporaryDirectory(prefix="prevention-restore-") as tmp:
        unpacked = Path(tmp)
        manifest = _extract(archive, unpacked)  # verified before the data directory is touched
        if data_dir.exists() and any(data_dir.iterdir()) and not force:
            raise BackupError(f"{data_dir} is not empty; stop the platform and use --force to overwrite it")
        data_dir.mkdir(parents=True, exist_ok=True)
        for name, path in databases.items():
            for suffix in ("-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{path}{suffix}")  # a stale WAL would be replayed onto the restore
            _install(unpacked / "databases" / f"{name}.db", path)
        objects = data_dir / "objects"
        if objects.exists():
            shutil.rmtree(objects)
        if (unpacked / "objects").is_dir():
            shutil.copytree(unpacked / "objects", objects)
        for key in KEY_FILES:
            if (unpacked / "keys" / key).is_file():
                _install(unpacked / "keys" / key, data_dir / key)
                os.chmod(data_dir / key, 0o600)
            elif force:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(data_dir / key)  # keys that do not belong to the restored data
    return manifest
