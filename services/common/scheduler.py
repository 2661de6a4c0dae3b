"""Periodic jobs that run once per cluster (SPEC 4.6 OPS-3).

Deadline reminders, overdue escalation, nightly rollups and rate runs must not run twice when
several replicas are up. A ``Scheduler`` therefore only runs jobs while it holds a ``LeaderLock``:
a Kubernetes ``Lease`` in-cluster, a ``LocalLock`` (``flock`` on a file) in embedded mode.

Semantics:
- a job is due when ``last run + interval <= clock.now()``; a job that never ran is due at once;
- a job's last-run time is recorded when it finishes, successfully or not, so a failing job is
  retried after one interval rather than on every tick; failures are counted;
- a crash while a job runs means it runs again after restart (at-least-once): jobs must be
  idempotent;
- with ``state_path`` the last-run times (and failure counts) are kept in a JSON file, replaced
  atomically, so a restarted runner does not run jobs early.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import logging
import os
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from services.common.clock import Clock

__all__ = [
    "Job",
    "LeaderLock",
    "LocalLock",
    "LockNotAcquired",
    "Scheduler",
]

logger = logging.getLogger(__name__)

_STATE_VERSION = 1


class LeaderLock(Protocol):
    """Who may run the cluster's scheduled work.

    ``try_acquire`` never blocks; it acquires (or renews) the lock and says whether this runner
    holds it afterwards, so calling it while already holding the lock returns True.
    ``release`` gives it up and is a no-op when not held. ``held`` reports the current state
    without side effects (a lease may stop being held when it expires).
    """

    def try_acquire(self) -> bool: ...

    def release(self) -> None: ...

    def held(self) -> bool: ...


class LockNotAcquired(RuntimeError):
    """Raised by ``with LocalLock(...)`` when another holder has the lock."""


class LocalLock:
    """A non-blocking exclusive ``flock`` on a file, for embedded mode.

    ``flock`` locks belong to an open file description, and every ``LocalLock`` opens its own,
    so two instances exclude each other whether they live in one process or in two. The lock
    file is never deleted: unlinking it would let a later runner lock a new inode while an
    older one still holds the old one.
    """

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._fd: int | None = None
        self._mutex = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path

    def try_acquire(self) -> bool:
        with self._mutex:
            if self._fd is not None:
                return True
            self._path.parent.mkdir(parents=True, exist_ok=True)
            # O_NOFOLLOW: a planted symlink must not make us create/lock another file.
            flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
            fd = os.open(self._path, flags, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    return False
                raise
            self._fd = fd
            return True

    def release(self) -> None:
        with self._mutex:
            fd, self._fd = self._fd, None
            if fd is None:
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> Self:
        if not self.try_acquire():
            raise LockNotAcquired(f"lock {self._path} is held by another runner")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"LocalLock({str(self._path)!r}, held={self.held()})"


@dataclass(frozen=True)
class Job:
    """A periodic job; ``func`` receives the clock's now (aware UTC) when it runs."""

    name: str
    interval: timedelta
    func: Callable[[datetime], Awaitable[None]]

    def __post_init__(self) -> None:
        _validate_job(self)


def _validate_job(job: Job) -> None:
    if not isinstance(job.name, str) or not job.name:
        raise ValueError("job name must be a non-empty string")
    if not isinstance(job.interval, timedelta):
        raise TypeError(f"job {job.name!r}: interval must be a timedelta")
    if job.interval <= timedelta(0):
        raise ValueError(f"job {job.name!r}: interval must be positive")
    if not callable(job.func):
        raise TypeError(f"job {job.name!r}: func must be callable")


class Scheduler:
    def __init__(
        self,
        jobs: Iterable[Job],
        *,
        lock: LeaderLock,
        clock: Clock,
        state_path: Path | None = None,
    ) -> None:
        self._jobs: list[Job] = []
        seen: set[str] = set()
        for job in jobs:
            _validate_job(job)
            if job.name in seen:
                raise ValueError(f"duplicate job name {job.name!r}")
            seen.add(job.name)
            self._jobs.append(job)
        self._lock = lock
        self._clock = clock
        self._state_path = Path(state_path) if state_path is not None else None
        self._last_run: dict[str, datetime] = {}
        self._failures: dict[str, int] = {job.name: 0 for job in self._jobs}
        # One pass at a time, so run_forever and a manual run_pending cannot both run a job.
        self._pass = asyncio.Lock()
        if self._state_path is not None:
            self._load_state()

    # -- inspection --------------------------------------------------------------------------

    @property
    def job_names(self) -> list[str]:
        return [job.name for job in self._jobs]

    @property
    def failures(self) -> Mapping[str, int]:
        """Failed runs per job name (a copy)."""
        return dict(self._failures)

    def last_run(self, name: str) -> datetime | None:
        self._job(name)
        return self._last_run.get(name)

    def next_run(self, name: str) -> datetime | None:
        """When the job is next due; None means due now (it never ran)."""
        job = self._job(name)
        last = self._last_run.get(name)
        return None if last is None else last + job.interval

    def _job(self, name: str) -> Job:
        for job in self._jobs:
            if job.name == name:
                return job
        raise KeyError(name)

    # -- running -----------------------------------------------------------------------------

    async def run_pending(self) -> list[str]:
        """Run every due job if this runner holds (or can take) the lock; return their names.

        Failed jobs are included in the result (they ran); see ``failures``. Returns [] when
        another runner holds the lock.
        """
        async with self._pass:
            if not self._lock.try_acquire():
                return []
            ran: list[str] = []
            for job in self._jobs:
                # A lease can be lost mid-pass; then the new leader does the remaining work.
                if not self._lock.held():
                    logger.warning("scheduler lost the leader lock; skipping remaining jobs")
                    break
                now = self._clock.now()
                last = self._last_run.get(job.name)
                if last is not None and last + job.interval > now:
                    continue
                try:
                    await job.func(now)
                except Exception:
                    self._failures[job.name] += 1
                    # Exception info only: job payloads may carry personal data (A3).
                    logger.exception(
                        "scheduled job %s failed (%d failures so far)",
                        job.name,
                        self._failures[job.name],
                    )
                self._last_run[job.name] = now
                ran.append(job.name)
                self._save_state()
            return ran

    async def run_forever(self, stop: asyncio.Event, tick: float = 1.0) -> None:
        """Run due jobs every ``tick`` seconds until ``stop`` is set; then release the lock."""
        if not tick > 0:
            raise ValueError("tick must be positive")
        try:
            while not stop.is_set():
                try:
                    await self.run_pending()
                except Exception:
                    # E.g. the lock backend is unreachable: keep the loop alive and retry.
                    logger.exception("scheduler pass failed")
                if stop.is_set():
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=tick)
        finally:
            try:
                self._lock.release()
            except Exception:
                logger.exception("releasing the scheduler lock failed")

    # -- persistence -------------------------------------------------------------------------

    def _load_state(self) -> None:
        assert self._state_path is not None
        try:
            raw = self._state_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        try:
            data = json.loads(raw)
            jobs = data["jobs"]
            if not isinstance(jobs, dict):
                raise TypeError("jobs must be an object")
        except (ValueError, KeyError, TypeError):
            # Starting empty runs every job once now, which beats refusing to start at all.
            logger.warning("scheduler state file %s is unreadable; starting empty", self._state_path)
            return
        for job in self._jobs:
            entry = jobs.get(job.name)
            if not isinstance(entry, dict):
                continue
            try:
                last = datetime.fromisoformat(entry["last_run"])
                if last.tzinfo is None:
                    raise ValueError("naive timestamp")
                self._last_run[job.name] = last.astimezone(UTC)
                self._failures[job.name] = int(entry.get("failures", 0))
            except (KeyError, TypeError, ValueError):
                logger.warning("scheduler state for job %s is unreadable; ignoring it", job.name)

    def _save_state(self) -> None:
        if self._state_path is None:
            return
        data: dict[str, Any] = {
            "version": _STATE_VERSION,
            "jobs": {
                name: {"last_run": last.isoformat(), "failures": self._failures.get(name, 0)}
                for name, last in self._last_run.items()
            },
        }
        try:
            _atomic_write_json(self._state_path, data)
        except OSError:
            # Jobs keep their schedule in memory; only a restart would run them early.
            logger.exception("could not persist scheduler state to %s", self._state_path)


def _atomic_write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600 in the target directory, so os.replace stays on one filesystem.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # Make the rename itself durable.
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
