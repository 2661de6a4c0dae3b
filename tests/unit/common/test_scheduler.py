"""Scheduler, leader locks and CST clock helpers (SPEC 4.6 OPS-3, SPEC 5 deadlines).

Time is injected through FrozenClock; nothing here sleeps to let time pass.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from services.common.clock import (
    CST,
    FrozenClock,
    SystemClock,
    cst_date,
    cst_end_of_day,
    is_overdue,
)
from services.common.scheduler import Job, LocalLock, LockNotAcquired, Scheduler

T0 = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


class Recorder:
    """A job function that records the 'now' values it was called with."""

    def __init__(self) -> None:
        self.calls: list[datetime] = []

    async def __call__(self, now: datetime) -> None:
        self.calls.append(now)


async def _boom(now: datetime) -> None:
    raise RuntimeError("job exploded")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    return tmp_path / "run" / "scheduler.lock"


@pytest.fixture
def lock(lock_path: Path):
    lock = LocalLock(lock_path)
    yield lock
    lock.release()


# -- scheduling ----------------------------------------------------------------------------------


async def test_due_jobs_run_once_per_interval(clock: FrozenClock, lock: LocalLock) -> None:
    hourly, daily = Recorder(), Recorder()
    sched = Scheduler(
        [Job("reminders", HOUR, hourly), Job("rollup", timedelta(days=1), daily)],
        lock=lock,
        clock=clock,
    )

    # Never-run jobs are due immediately and receive the clock's now.
    assert await sched.run_pending() == ["reminders", "rollup"]
    assert hourly.calls == [T0] and daily.calls == [T0]
    assert sched.last_run("reminders") == T0
    assert sched.next_run("reminders") == T0 + HOUR

    # Running again at the same instant does nothing.
    assert await sched.run_pending() == []

    # Less than the interval: not due.
    clock.advance(HOUR - timedelta(microseconds=1))
    assert await sched.run_pending() == []
    assert len(hourly.calls) == 1

    # Exactly one interval after the last run: due again.
    clock.advance(timedelta(microseconds=1))
    assert await sched.run_pending() == ["reminders"]
    assert hourly.calls == [T0, T0 + HOUR]

    # The next interval counts from the last run.
    clock.advance(timedelta(minutes=30))
    assert await sched.run_pending() == []
    clock.advance(timedelta(minutes=30))
    assert await sched.run_pending() == ["reminders"]

    clock.set(T0 + timedelta(days=1))
    assert await sched.run_pending() == ["reminders", "rollup"]
    assert daily.calls == [T0, T0 + timedelta(days=1)]
    assert len(hourly.calls) == 4


async def test_job_validation(clock: FrozenClock, lock: LocalLock) -> None:
    rec = Recorder()
    with pytest.raises(ValueError, match="duplicate"):
        Scheduler([Job("a", HOUR, rec), Job("a", 2 * HOUR, rec)], lock=lock, clock=clock)
    with pytest.raises(ValueError, match="positive"):
        Job("a", timedelta(0), rec)
    with pytest.raises(ValueError, match="positive"):
        Job("a", -HOUR, rec)
    with pytest.raises(ValueError):
        Job("", HOUR, rec)
    assert not lock.held()


async def test_failing_job_does_not_stop_others_and_is_counted(
    clock: FrozenClock, lock: LocalLock, caplog: pytest.LogCaptureFixture
) -> None:
    ok = Recorder()
    sched = Scheduler([Job("escalate", HOUR, _boom), Job("remind", HOUR, ok)], lock=lock, clock=clock)

    with caplog.at_level(logging.ERROR, logger="services.common.scheduler"):
        assert await sched.run_pending() == ["escalate", "remind"]
    assert ok.calls == [T0]
    assert sched.failures == {"escalate": 1, "remind": 0}
    [record] = [r for r in caplog.records if r.name == "services.common.scheduler"]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
    assert "escalate" in record.getMessage()

    # The failed job's last run advanced: it is not retried on every tick.
    assert sched.last_run("escalate") == T0
    clock.advance(timedelta(minutes=5))
    assert await sched.run_pending() == []

    clock.advance(HOUR)
    assert await sched.run_pending() == ["escalate", "remind"]
    assert sched.failures["escalate"] == 2
    assert len(ok.calls) == 2


async def test_lost_leadership_mid_pass_skips_remaining_jobs(clock: FrozenClock) -> None:
    class LeaseLostAfterFirstJob:
        def __init__(self) -> None:
            self._held = False

        def try_acquire(self) -> bool:
            self._held = True
            return True

        def release(self) -> None:
            self._held = False

        def held(self) -> bool:
            return self._held

    lease = LeaseLostAfterFirstJob()

    async def first(now: datetime) -> None:
        lease.release()  # stands in for a lease that expired while the job ran

    second = Recorder()
    sched = Scheduler([Job("first", HOUR, first), Job("second", HOUR, second)], lock=lease, clock=clock)
    assert await sched.run_pending() == ["first"]
    assert second.calls == []
    # Leadership regained: the skipped job is still due, the finished one is not.
    assert await sched.run_pending() == ["second"]


# -- leader locks --------------------------------------------------------------------------------


async def test_only_one_scheduler_per_lock_file_runs(clock: FrozenClock, lock_path: Path) -> None:
    rec_a, rec_b = Recorder(), Recorder()
    lock_a, lock_b = LocalLock(lock_path), LocalLock(lock_path)
    try:
        sched_a = Scheduler([Job("rollup", HOUR, rec_a)], lock=lock_a, clock=clock)
        sched_b = Scheduler([Job("rollup", HOUR, rec_b)], lock=lock_b, clock=clock)

        assert await sched_a.run_pending() == ["rollup"]
        assert await sched_b.run_pending() == []
        assert lock_a.held() and not lock_b.held()

        clock.advance(HOUR)
        assert await sched_b.run_pending() == []
        assert await sched_a.run_pending() == ["rollup"]
        assert len(rec_a.calls) == 2 and rec_b.calls == []

        # The holder steps down; the other runner takes over and keeps the lock.
        lock_a.release()
        assert await sched_b.run_pending() == ["rollup"]
        assert rec_b.calls == [T0 + HOUR]
        assert lock_b.held() and not lock_a.held()
        clock.advance(HOUR)
        assert await sched_a.run_pending() == []
        assert len(rec_a.calls) == 2
    finally:
        lock_a.release()
        lock_b.release()


def test_local_lock_file_mode_and_context_manager(lock_path: Path) -> None:
    with LocalLock(lock_path) as held:
        assert held.held()
        mode = stat.S_IMODE(os.stat(lock_path).st_mode)
        assert mode & 0o077 == 0, oct(mode)
        other = LocalLock(lock_path)
        assert not other.try_acquire()
        with pytest.raises(LockNotAcquired):
            with other:
                pass
        # try_acquire while holding is idempotent.
        assert held.try_acquire()
    assert not held.held()
    # Released on exit: the file (still there) can be locked again; release is idempotent.
    assert lock_path.exists()
    again = LocalLock(lock_path)
    assert again.try_acquire()
    again.release()
    again.release()
    assert not again.held()


def test_local_lock_refuses_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    link = tmp_path / "scheduler.lock"
    link.symlink_to(target)
    with pytest.raises(OSError):
        LocalLock(link).try_acquire()
    assert not target.exists()


async def test_lock_held_by_another_process_blocks_scheduler(
    clock: FrozenClock, lock: LocalLock, lock_path: Path
) -> None:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    holder_code = textwrap.dedent(
        """
        import fcntl, sys
        f = open(sys.argv[1], "a")
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        print("locked", flush=True)
        sys.stdin.read()
        """
    )
    rec = Recorder()
    sched = Scheduler([Job("escalate", HOUR, rec)], lock=lock, clock=clock)
    # Leaving the with-block closes the pipes (EOF on stdin ends the holder) and reaps it.
    with subprocess.Popen(
        [sys.executable, "-c", holder_code, str(lock_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "locked", "holder did not take the lock"

        assert await sched.run_pending() == []
        assert not lock.held()
        assert rec.calls == []

        # The other process exits (its lock goes with it): this runner takes over.
        holder.stdin.close()
        assert holder.wait(timeout=30) == 0

    assert await sched.run_pending() == ["escalate"]
    assert lock.held()


# -- persistence ---------------------------------------------------------------------------------


async def test_state_persists_across_scheduler_instances(
    clock: FrozenClock, lock: LocalLock, tmp_path: Path
) -> None:
    state = tmp_path / "state" / "scheduler.json"
    rec = Recorder()
    jobs = [Job("reminders", HOUR, rec), Job("escalate", HOUR, _boom)]

    first = Scheduler(jobs, lock=lock, clock=clock, state_path=state)
    assert await first.run_pending() == ["reminders", "escalate"]
    lock.release()

    saved = json.loads(state.read_text())
    assert saved["jobs"]["reminders"]["last_run"] == T0.isoformat()
    # Only the state file is left: the temporary file was renamed over it.
    assert [p.name for p in state.parent.iterdir()] == ["scheduler.json"]

    # A restarted runner, half an interval later, does not run the jobs early.
    clock.advance(timedelta(minutes=30))
    restarted = Scheduler(jobs, lock=lock, clock=clock, state_path=state)
    assert restarted.last_run("reminders") == T0
    assert restarted.failures == {"reminders": 0, "escalate": 1}
    assert await restarted.run_pending() == []

    clock.advance(timedelta(minutes=30))
    assert await restarted.run_pending() == ["reminders", "escalate"]
    assert rec.calls == [T0, T0 + HOUR]

    # A new job added to the set is due at once; known jobs keep their schedule.
    extra = Recorder()
    third = Scheduler([*jobs, Job("rollup", HOUR, extra)], lock=lock, clock=clock, state_path=state)
    assert await third.run_pending() == ["rollup"]


async def test_unreadable_state_starts_empty(
    clock: FrozenClock, lock: LocalLock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "scheduler.json"
    state.write_text("{not json")
    rec = Recorder()
    with caplog.at_level(logging.WARNING, logger="services.common.scheduler"):
        sched = Scheduler([Job("reminders", HOUR, rec)], lock=lock, clock=clock, state_path=state)
    assert any("unreadable" in r.getMessage() for r in caplog.records)
    assert await sched.run_pending() == ["reminders"]
    assert json.loads(state.read_text())["jobs"]["reminders"]["last_run"] == T0.isoformat()


# -- run_forever ---------------------------------------------------------------------------------


async def test_run_forever_stops_promptly_and_releases_lock(
    clock: FrozenClock, lock: LocalLock, lock_path: Path
) -> None:
    stop = asyncio.Event()
    calls: list[datetime] = []

    async def last_job(now: datetime) -> None:
        calls.append(now)
        stop.set()

    sched = Scheduler([Job("reminders", HOUR, last_job)], lock=lock, clock=clock)
    # A tick of an hour: returning within the timeout shows the loop did not wait out the tick.
    await asyncio.wait_for(sched.run_forever(stop, tick=3600), timeout=10)
    assert calls == [T0]
    assert not lock.held()
    other = LocalLock(lock_path)
    assert other.try_acquire()
    other.release()


async def test_run_forever_survives_failing_jobs(clock: FrozenClock, lock: LocalLock) -> None:
    stop = asyncio.Event()
    passes: list[datetime] = []

    async def count(now: datetime) -> None:
        passes.append(now)
        if len(passes) == 3:
            stop.set()
        clock.advance(HOUR)  # time moves on between passes without any sleeping

    sched = Scheduler([Job("escalate", HOUR, _boom), Job("counter", HOUR, count)], lock=lock, clock=clock)
    await asyncio.wait_for(sched.run_forever(stop, tick=0.001), timeout=10)
    assert len(passes) == 3
    assert sched.failures["escalate"] == 3
    assert not lock.held()


async def test_run_forever_with_stop_already_set(clock: FrozenClock, lock: LocalLock) -> None:
    stop = asyncio.Event()
    stop.set()
    rec = Recorder()
    sched = Scheduler([Job("reminders", HOUR, rec)], lock=lock, clock=clock)
    await asyncio.wait_for(sched.run_forever(stop), timeout=10)
    assert rec.calls == []
    with pytest.raises(ValueError):
        await sched.run_forever(asyncio.Event(), tick=0)


# -- clock and CST -------------------------------------------------------------------------------


def test_cst_date_around_midnight() -> None:
    assert cst_date(datetime(2025, 12, 31, 16, 0, tzinfo=UTC)) == date(2026, 1, 1)
    assert cst_date(datetime(2025, 12, 31, 15, 59, 59, 999999, tzinfo=UTC)) == date(2025, 12, 31)
    assert cst_date(datetime(2026, 1, 1, 0, 0, tzinfo=CST)) == date(2026, 1, 1)
    assert cst_date(datetime(2025, 12, 31, 12, 0, tzinfo=timezone(timedelta(hours=-5)))) == date(2026, 1, 1)
    with pytest.raises(ValueError):
        cst_date(datetime(2025, 12, 31, 16, 0))


def test_cst_end_of_day() -> None:
    end = cst_end_of_day(date(2025, 12, 31))
    assert end == datetime(2025, 12, 31, 15, 59, 59, 999999, tzinfo=UTC)
    assert end.utcoffset() == timedelta(0)
    assert cst_date(end) == date(2025, 12, 31)
    assert cst_date(end + timedelta(microseconds=1)) == date(2026, 1, 1)
    # Leap day and a date whose CST end falls on the same UTC date.
    assert cst_end_of_day(date(2028, 2, 29)) == datetime(2028, 2, 29, 15, 59, 59, 999999, tzinfo=UTC)
    with pytest.raises(TypeError):
        cst_end_of_day(datetime(2025, 12, 31, tzinfo=UTC))


def test_deadline_is_overdue_only_after_the_cst_day_ends() -> None:
    deadline = date(2025, 12, 31)
    assert not is_overdue(deadline, datetime(2025, 12, 31, 15, 59, 59, 999999, tzinfo=UTC))
    assert is_overdue(deadline, datetime(2025, 12, 31, 16, 0, tzinfo=UTC))
    assert not is_overdue(deadline, datetime(2025, 12, 31, 23, 59, 59, tzinfo=CST))


def test_frozen_clock() -> None:
    with pytest.raises(ValueError):
        FrozenClock(datetime(2026, 1, 1))
    clock = FrozenClock(datetime(2026, 1, 1, 8, 0, tzinfo=CST))
    assert clock.now() == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert clock.now().utcoffset() == timedelta(0)
    assert clock.advance(HOUR) == datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    assert clock.now() == datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.set(datetime(2026, 1, 2))
    assert clock.now() == datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    clock.set(datetime(2026, 1, 2, tzinfo=UTC))
    assert clock.now() == datetime(2026, 1, 2, tzinfo=UTC)


def test_system_clock_is_aware_utc() -> None:
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
