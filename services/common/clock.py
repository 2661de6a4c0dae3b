"""Time sources and China Standard Time helpers.

Code that needs "now" takes a ``Clock`` so tests can inject a ``FrozenClock`` instead of sleeping
(RELIABILITY.md: no test sleeps to wait for time to pass). Every datetime handed out is aware and
in UTC; naive datetimes are refused because their meaning depends on the host's time zone.

Deadlines are calendar dates in China Standard Time (SPEC 5): a deadline date ``D`` is overdue once
``now > cst_end_of_day(D)``, i.e. from 00:00 CST on the following day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Protocol

__all__ = [
    "CST",
    "Clock",
    "FrozenClock",
    "SystemClock",
    "cst_date",
    "cst_end_of_day",
    "is_overdue",
]

# China has had no daylight saving time since 1991, so a fixed offset is exact.
CST = timezone(timedelta(hours=8), "CST")

_ONE_MICROSECOND = timedelta(microseconds=1)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, aware and in UTC."""
        ...


def _aware_utc(dt: datetime, what: str) -> datetime:
    if not isinstance(dt, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (naive datetimes are ambiguous)")
    return dt.astimezone(UTC)


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to; for tests and replays."""

    def __init__(self, at: datetime) -> None:
        self._at = _aware_utc(at, "at")

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock by ``delta`` (may be negative) and return the new now."""
        if not isinstance(delta, timedelta):
            raise TypeError(f"delta must be a timedelta, not {type(delta).__name__}")
        self._at = self._at + delta
        return self._at

    def set(self, at: datetime) -> datetime:
        """Jump to ``at`` (must be aware) and return the new now."""
        self._at = _aware_utc(at, "at")
        return self._at

    def __repr__(self) -> str:
        return f"FrozenClock({self._at.isoformat()})"


def cst_date(dt: datetime) -> date:
    """The calendar date of the instant ``dt`` in China Standard Time."""
    return _aware_utc(dt, "dt").astimezone(CST).date()


def cst_end_of_day(d: date) -> datetime:
    """The last representable instant of CST date ``d``, as an aware UTC datetime.

    ``cst_end_of_day(date(2025, 12, 31)) == datetime(2025, 12, 31, 15, 59, 59, 999999, UTC)``.
    """
    # A datetime is also a date; accepting one would silently drop its time and zone.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"d must be a date, not {type(d).__name__}")
    next_midnight = datetime.combine(d + timedelta(days=1), time(0), tzinfo=CST)
    return (next_midnight - _ONE_MICROSECOND).astimezone(UTC)


def is_overdue(deadline: date, now: datetime) -> bool:
    """True once ``now`` is past the end of the CST deadline date."""
    return _aware_utc(now, "now") > cst_end_of_day(deadline)


def as_utc(value: datetime) -> datetime:
    """A stored timestamp as aware UTC: SQLite returns timezone-aware columns naive (they are UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
