"""The one hook every record write calls, in the writer's transaction (SPEC SH-3, SH-8), and the
sequencer that makes the subscribe feed's cursor safe.

``record_changed`` is called by every publish, correction and void of every record type, after
the row is flushed and before the transaction commits, so whatever it writes commits or rolls
back with the record itself (no dual write, RELIABILITY D3). It writes
- a ``record_changes`` row (a transactional outbox the feed reads, services/sharing/feed.py), and
- the analytics rollups' deltas through the idempotent applier (services/sharing/analytics.py).

The snapshots are plain dicts of the record's data fields as stored, JSON-able (dates as ISO
strings), plus ``tenant_code`` and ``status`` ("active" or "voided"):
- accidents: occurred_at, employer, industry_code, severity, accident_type, persons_injured,
  fatalities, days_lost, ...
- disease_cases: diagnosed_at, employer, industry_code, category ("pneumoconiosis", ...), persons
- recognitions: injured_at, recognised_at, employer, industry_code, fatal, ...
- other types: their own fields.
``before`` is None for a publish; for a void ``after`` carries status "voided".

Why a sequencer (the feed's cursor)
-----------------------------------
Change ids come from a sequence / autoincrement and are taken when the row is *inserted*, but
rows become visible when their transaction *commits*; a publisher holding its transaction open
commits id 7 after id 8 is visible, so a subscriber that resumed from ``id > 8`` would never see
7. The feed therefore never pages by id. Each change carries a second number, ``position``,
NULL when written. ``sequence`` stamps positions on changes that are already committed:

1. it updates the one-row ``feed_sequencer`` head first, which serialises sequencers (a row lock
   on PostgreSQL, the database write lock on SQLite), then re-reads the head;
2. it selects unstamped changes (only committed rows are visible to it), stamps them
   ``head+1, head+2, ...`` in id order, stores the new head and commits.

Positions are therefore gap-free and become visible in increasing order (the next stamping waits
for the lock until the previous one has committed), so every change a reader sees at position
``p`` was stamped before any position above ``p`` could be seen; ``position > cursor`` loses
nothing and repeats nothing. A change whose transaction commits late is simply stamped by a later
run, above every position handed out before. A change rolled back never exists. This holds on
SQLite and PostgreSQL alike (no xid arithmetic), and any replica may run the sequencer.

Who runs it: the feed stream runs it before every read (so a subscriber never waits for a relay),
and ``sequencer_background`` is a scheduler job for deployments with no subscriber connected.
A stamping run limited by row-level security (a subscriber's session) stamps only the rows it
sees; the rest are stamped by a later run at higher positions, which keeps every guarantee above.

Wake-up: after a transaction that called ``record_changed`` commits, waiters in this process are
woken at once (``Waiter``); subscribers on other replicas fall back to a modest poll interval.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import event, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from services.sharing import analytics
from services.sharing.models import FeedSequencer, RecordChange

log = logging.getLogger(__name__)

KINDS = ("published", "corrected", "voided")
SEQUENCE_BATCH = 5000
_HEAD_ID = 1
_FLAG = "prevention.record_changed"


def snapshot(row, fields: tuple[str, ...]) -> dict:
    """The row's data fields as a JSON-able dict, with its tenant and status."""
    values = {}
    for field in fields:
        value = getattr(row, field)
        values[field] = value.isoformat() if hasattr(value, "isoformat") else value
    values["tenant_code"] = row.tenant_code
    values["status"] = row.status
    return values


async def record_changed(session: AsyncSession, *, record_type: str, kind: str, record_id: str,
                         before: dict | None, after: dict) -> None:
    """Outbox row and rollup deltas for one change, in the caller's transaction."""
    await records_changed(session, record_type=record_type, kind=kind, items=[(record_id, before, after)])


async def records_changed(session: AsyncSession, *, record_type: str, kind: str,
                          items: list[tuple[str, dict | None, dict]]) -> None:
    """``record_changed`` for many records of one type and kind (a bulk-publish batch): one insert
    and one rollup update for all of them."""
    assert kind in KINDS, kind
    if not items:
        return
    now = datetime.now(UTC)
    rows = [{"tenant_code": after.get("tenant_code") or (before or {}).get("tenant_code") or "",
             "record_type": record_type, "kind": kind, "record_id": record_id, "before": before, "after": after,
             "change_time": now, "position": None}
            for record_id, before, after in items]
    # One executemany with RETURNING rather than the unit of work's per-object bookkeeping (a
    # 1,000-record batch writes 1,000 changes). RETURNING's row order is not the VALUES order
    # (SQLite), so the ids are matched by record id: a call names each record once.
    by_record = {row["record_id"]: row for row in rows}
    assert len(by_record) == len(rows), "one change per record in a call"
    inserted = await session.execute(insert(RecordChange).returning(RecordChange.id, RecordChange.record_id), rows)
    await analytics.apply_changes(session, [
        analytics.Change(change_id, record_type, by_record[record_id]["before"], by_record[record_id]["after"])
        for change_id, record_id in inserted.all()])
    session.sync_session.info[_FLAG] = True


# -- in-process wake-up ----------------------------------------------------------------------------


class Waiter:
    """An asyncio event set whenever a transaction with changes commits in this process."""

    _all: set[Waiter] = set()

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def __enter__(self) -> Waiter:
        Waiter._all.add(self)
        return self

    def __exit__(self, *exc) -> None:
        Waiter._all.discard(self)

    async def wait(self, seconds: float) -> None:
        """Until woken or ``seconds`` pass (then it returns too: the poll)."""
        try:
            await asyncio.wait_for(self.event.wait(), timeout=max(seconds, 0))
        except TimeoutError:
            pass
        self.event.clear()

    @classmethod
    def wake_all(cls) -> None:
        for waiter in list(cls._all):
            try:
                waiter._loop.call_soon_threadsafe(waiter.event.set)
            except RuntimeError:  # its loop is closed
                cls._all.discard(waiter)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_FLAG, False):
        Waiter.wake_all()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_FLAG, None)


# -- the sequencer ---------------------------------------------------------------------------------


async def sequence(session: AsyncSession, *, batch: int = SEQUENCE_BATCH) -> int:
    """Stamp positions on committed, unstamped changes (at most ``batch``); the caller commits at
    once. Returns how many were stamped."""
    pending = await session.scalar(select(RecordChange.id).where(RecordChange.position.is_(None)).limit(1))
    if pending is None:
        return 0
    # The update comes first: it takes the lock before the head is read.
    await session.execute(update(FeedSequencer).where(FeedSequencer.id == _HEAD_ID)
                          .values(position=FeedSequencer.position).execution_options(synchronize_session=False))
    head = await session.scalar(select(FeedSequencer.position).where(FeedSequencer.id == _HEAD_ID))
    ids = list((await session.scalars(select(RecordChange.id).where(RecordChange.position.is_(None))
                                      .order_by(RecordChange.id).limit(batch))).all())
    if not ids:
        return 0
    await session.execute(update(RecordChange), [{"id": change_id, "position": head + offset}
                                                 for offset, change_id in enumerate(ids, start=1)])
    await session.execute(update(FeedSequencer).where(FeedSequencer.id == _HEAD_ID)
                          .values(position=head + len(ids)).execution_options(synchronize_session=False))
    return len(ids)


async def sequence_all(sessionmaker) -> int:
    """Run the sequencer in its own transactions until nothing is left to stamp."""
    total = 0
    while True:
        async with sessionmaker() as session:
            stamped = await sequence(session)
            await session.commit()
        total += stamped
        if stamped < SEQUENCE_BATCH:
            return total


async def last_position(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(RecordChange.position), 0))) or 0)


def sequencer_background(*, sessionmaker, interval: float = 2.0):
    """A background task for the service runner: stamps changes every ``interval`` seconds (and at
    once when a change commits in this process), for deployments where no subscriber is connected."""

    async def background(stop: asyncio.Event) -> None:
        with Waiter() as waiter:
            while not stop.is_set():
                try:
                    await sequence_all(sessionmaker)
                except Exception:  # retried at the next tick; the feed stamps too
                    log.warning("feed sequencer run failed", exc_info=True)
                await waiter.wait(interval)

    return background
