"""The exchange log (SPEC SH-4; RELIABILITY A1, A2): every publish and every read of shared
records, append-only and hash-chained. Domain functions only: no gRPC here.

Decisions:
- One chain per sharing database. ``seq`` is 1, 2, 3, ...; appending first updates the one-row
  ``exchange_log_head`` (a row lock on PostgreSQL, the database write lock on SQLite), so
  appenders queue and every entry links to the one committed before it.
- ``hash`` = SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of the entry's
  fields including ``seq`` and ``prev_hash``; the first entry links to ``GENESIS_HASH``.
- Entries name record ids only, never record content or personal data.
- Appending happens in the transaction of the operation it logs; if it cannot be written the
  operation fails with UNAVAILABLE (reason EXCHANGE_LOG_UNAVAILABLE) and nothing is served or
  written (fail closed, A2).
- Checkpoints live outside the database, in the object store under
  ``100000/sharing/exchange-log-checkpoints/<seq>`` as ``{seq, hash, time, previous}``, with a
  ``latest`` pointer object; each checkpoint names the one before it (``previous``), so verify
  finds them all without listing the bucket. A checkpoint is only written after the entries since
  the previous one were re-verified, so a tampered chain is never blessed.
- ``verify`` recomputes the whole chain and checks every checkpoint: a checkpoint whose seq is
  missing from the chain (tail cut) or whose hash differs (rewritten history) is a failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.clock import Clock, as_utc
from services.common.errors import NotFound, Unavailable
from services.common.scheduler import Job, LeaderLock, Scheduler
from services.common.storage import ObjectStore, object_key
from services.sharing.models import ExchangeLogEntry, ExchangeLogHead

log = logging.getLogger(__name__)

# Record actions, then "export" (SPEC S10: with the stated reason's hash) and the sharing-agreement
# lifecycle (record_type "sharing_agreements").
ACTIONS = ("publish", "correct", "void", "read", "list", "export", "create", "suspend", "resume", "revoke")
GENESIS_HASH = "0" * 64
CHECKPOINT_TENANT = "100000"
CHECKPOINT_KIND = "exchange-log-checkpoints"
LATEST = "latest"
CHECKPOINT_INTERVAL = timedelta(minutes=1)
_PAGE = 1000
_HEAD_ID = 1


@dataclass(frozen=True)
class Entry:
    """What is logged: who (tenant, actor) did what (action) to which records (ids only)."""

    tenant_code: str
    actor: str
    action: str
    record_type: str
    record_ids: tuple[str, ...]
    # The stated reason of an export (RELIABILITY S10); empty for every other action.
    reason: str = ""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    time: str
    previous: int | None = None


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    checkpoints: int = 0
    last_seq: int = 0


def _time_text(value: datetime) -> str:
    return as_utc(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(*, seq: int, event_time: datetime, tenant_code: str, actor: str, action: str, record_type: str,
               record_ids: Iterable[str], prev_hash: str, reason: str = "") -> str:
    """SHA-256 (hex) of the entry's canonical JSON, ``prev_hash`` included (``reason`` only when
    set, so entries without one hash as they always did)."""
    document = {
        "seq": seq, "event_time": _time_text(event_time), "tenant_code": tenant_code, "actor": actor,
        "action": action, "record_type": record_type, "record_ids": list(record_ids), "prev_hash": prev_hash,
    }
    if reason:
        document["reason"] = reason
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _row_hash(row) -> str:
    return entry_hash(seq=row.seq, event_time=row.event_time, tenant_code=row.tenant_code, actor=row.actor,
                      action=row.action, record_type=row.record_type, record_ids=row.record_ids or [],
                      prev_hash=row.prev_hash, reason=getattr(row, "reason", "") or "")


def _unavailable() -> Unavailable:
    return Unavailable("the exchange log cannot be written, so the exchange was refused; retry later",
                       reason="EXCHANGE_LOG_UNAVAILABLE")


async def append(session: AsyncSession, entry: Entry, *, now: datetime | None = None) -> ExchangeLogEntry:
    """Append ``entry`` in the session's transaction (the caller commits it with the operation).
    Raises Unavailable when the log cannot be written; the caller's transaction is then unusable."""
    if entry.action not in ACTIONS:
        raise ValueError(f"unknown exchange-log action {entry.action!r}")
    event_time = now or datetime.now(UTC)
    try:
        # The update comes first: it takes the lock before the head is read.
        bumped = await session.execute(
            update(ExchangeLogHead).where(ExchangeLogHead.id == _HEAD_ID)
            .values(seq=ExchangeLogHead.seq + 1).execution_options(synchronize_session=False)
        )
        if bumped.rowcount != 1:
            raise _unavailable()
        seq, prev_hash = (await session.execute(
            select(ExchangeLogHead.seq, ExchangeLogHead.hash).where(ExchangeLogHead.id == _HEAD_ID)
        )).one()
        digest = entry_hash(seq=seq, event_time=event_time, tenant_code=entry.tenant_code, actor=entry.actor,
                            action=entry.action, record_type=entry.record_type, record_ids=entry.record_ids,
                            prev_hash=prev_hash, reason=entry.reason)
        row = ExchangeLogEntry(seq=seq, event_time=event_time, tenant_code=entry.tenant_code, actor=entry.actor,
                               action=entry.action, record_type=entry.record_type,
                               record_ids=list(entry.record_ids), prev_hash=prev_hash, hash=digest,
                               reason=entry.reason)
        session.add(row)
        await session.flush()
        await session.execute(
            update(ExchangeLogHead).where(ExchangeLogHead.id == _HEAD_ID).values(hash=digest)
            .execution_options(synchronize_session=False)
        )
    except SQLAlchemyError:
        log.exception("exchange log append failed")
        raise _unavailable() from None
    return row


# -- walking the chain ---------------------------------------------------------------------------


@dataclass
class _Walk:
    checked: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    first_bad_seq: int | None = None
    reason: str = ""


async def _walk(session: AsyncSession, *, after_seq: int = 0, after_hash: str = GENESIS_HASH,
                wanted: set[int] | None = None, found: dict[int, str] | None = None) -> _Walk:
    """Recompute the chain after ``after_seq`` (whose hash is ``after_hash``); stops at the first
    bad entry. ``found`` collects the stored hashes of the ``wanted`` seqs."""
    state = _Walk(last_seq=after_seq, last_hash=after_hash)
    columns = [ExchangeLogEntry.seq, ExchangeLogEntry.event_time, ExchangeLogEntry.tenant_code,
               ExchangeLogEntry.actor, ExchangeLogEntry.action, ExchangeLogEntry.record_type,
               ExchangeLogEntry.record_ids, ExchangeLogEntry.prev_hash, ExchangeLogEntry.hash,
               ExchangeLogEntry.reason]
    while True:
        rows = (await session.execute(
            select(*columns).where(ExchangeLogEntry.seq > state.last_seq).order_by(ExchangeLogEntry.seq).limit(_PAGE)
        )).all()
        for row in rows:
            expected = state.last_seq + 1
            if row.seq != expected:
                state.first_bad_seq = expected
                state.reason = f"entry {expected} is missing: the chain jumps from {state.last_seq} to {row.seq}"
                return state
            if _row_hash(row) != row.hash:
                state.first_bad_seq = row.seq
                state.reason = f"entry {row.seq} does not match its hash: it was edited or swapped"
                return state
            if row.prev_hash != state.last_hash:
                state.first_bad_seq = row.seq
                state.reason = (f"entry {row.seq} does not link to entry {state.last_seq}: "
                                "an entry was edited, deleted or reordered")
                return state
            if wanted is not None and found is not None and row.seq in wanted:
                found[row.seq] = row.hash
            state.checked += 1
            state.last_seq, state.last_hash = row.seq, row.hash
        if len(rows) < _PAGE:
            return state


# -- checkpoints ---------------------------------------------------------------------------------


def checkpoint_key(name: int | str) -> str:
    return object_key(CHECKPOINT_TENANT, "sharing", CHECKPOINT_KIND, str(name))


async def _read_json(store: ObjectStore, key: str) -> dict | None:
    try:
        return json.loads(await store.get(key))
    except NotFound:
        return None


async def latest_checkpoint(store: ObjectStore) -> Checkpoint | None:
    pointer = await _read_json(store, checkpoint_key(LATEST))
    if pointer is None:
        return None
    document = await _read_json(store, checkpoint_key(int(pointer["seq"])))
    if document is None:
        raise Unavailable(f"checkpoint {pointer['seq']} named by the latest pointer is missing from the object store",
                          reason="EXCHANGE_LOG_CHECKPOINT_MISSING")
    return _checkpoint(document)


def _checkpoint(document: dict) -> Checkpoint:
    previous = document.get("previous")
    return Checkpoint(seq=int(document["seq"]), hash=str(document["hash"]), time=str(document.get("time", "")),
                      previous=int(previous) if previous is not None else None)


async def checkpoints(store: ObjectStore) -> tuple[list[Checkpoint], int | None]:
    """Every checkpoint, newest first, following the ``previous`` links from ``latest``; and the
    seq of a linked checkpoint missing from the store (else None)."""
    found: list[Checkpoint] = []
    pointer = await _read_json(store, checkpoint_key(LATEST))
    seq = int(pointer["seq"]) if pointer else None
    while seq is not None:
        document = await _read_json(store, checkpoint_key(seq))
        if document is None:
            return found, seq
        point = _checkpoint(document)
        found.append(point)
        if point.previous is not None and point.previous >= point.seq:
            return found, point.previous
        seq = point.previous
    return found, None


class ChainBroken(Exception):
    """The chain failed re-verification, so no checkpoint was written."""


async def checkpoint(session: AsyncSession, store: ObjectStore, now: datetime) -> Checkpoint | None:
    """Write the committed head of the chain to the object store (None: the log is empty).
    The entries since the previous checkpoint are re-verified first; raises ChainBroken if bad."""
    previous = await latest_checkpoint(store)
    after_seq, after_hash = 0, GENESIS_HASH
    if previous is not None:
        stored = (await session.execute(
            select(ExchangeLogEntry.hash).where(ExchangeLogEntry.seq == previous.seq)
        )).scalar_one_or_none()
        if stored != previous.hash:
            raise ChainBroken(f"entry {previous.seq} no longer matches its checkpoint")
        after_seq, after_hash = previous.seq, previous.hash
    walked = await _walk(session, after_seq=after_seq, after_hash=after_hash)
    if walked.first_bad_seq is not None:
        raise ChainBroken(walked.reason)
    if walked.last_seq == 0:
        return None
    if previous is not None and walked.last_seq == previous.seq:
        return previous
    point = Checkpoint(seq=walked.last_seq, hash=walked.last_hash, time=_time_text(now),
                       previous=previous.seq if previous else None)
    body = {"seq": point.seq, "hash": point.hash, "time": point.time, "previous": point.previous}
    await store.put(checkpoint_key(point.seq), json.dumps(body, sort_keys=True).encode(), "application/json")
    await store.put(checkpoint_key(LATEST), json.dumps({"seq": point.seq}).encode(), "application/json")
    return point


# -- verifying -----------------------------------------------------------------------------------


async def verify(session: AsyncSession, store: ObjectStore) -> VerifyResult:
    """Recompute the chain and check it against every checkpoint and the head row."""
    points, missing = await checkpoints(store)
    found: dict[int, str] = {}
    walked = await _walk(session, wanted={p.seq for p in points}, found=found)
    if walked.first_bad_seq is not None:
        return VerifyResult(False, walked.checked, walked.first_bad_seq, walked.reason, len(points), walked.last_seq)
    bad: list[tuple[int, str]] = []
    if missing is not None:
        bad.append((missing, f"checkpoint {missing} is missing from the object store"))
    for point in points:
        if point.seq > walked.last_seq:
            bad.append((walked.last_seq + 1, f"checkpoint {point.seq} is beyond the chain's last entry "
                                             f"{walked.last_seq}: the tail was cut"))
        elif found.get(point.seq) != point.hash:
            bad.append((point.seq, f"entry {point.seq} does not match its checkpoint: the history was rewritten"))
    head = (await session.execute(
        select(ExchangeLogHead.seq, ExchangeLogHead.hash).where(ExchangeLogHead.id == _HEAD_ID)
    )).first()
    if head is None:
        bad.append((walked.last_seq + 1, "the chain's head row is missing"))
    elif (head.seq, head.hash) != (walked.last_seq, walked.last_hash):
        first = min(head.seq, walked.last_seq) + 1
        bad.append((first, f"the head row names entry {head.seq} but the chain ends at {walked.last_seq}"))
    if bad:
        seq, reason = min(bad, key=lambda item: item[0])
        return VerifyResult(False, walked.checked, seq, reason, len(points), walked.last_seq)
    return VerifyResult(True, walked.checked, None, "", len(points), walked.last_seq)


# -- the periodic checkpoint job -----------------------------------------------------------------


Background = Callable[[asyncio.Event], Awaitable[None]]


def checkpoint_background(*, sessionmaker, store: ObjectStore, clock: Clock, lock: LeaderLock,
                          interval: timedelta = CHECKPOINT_INTERVAL, tick: float = 1.0) -> Background:
    """The scheduler job writing a checkpoint every ``interval``; one runner holds ``lock``."""

    async def run(now: datetime) -> None:
        async with sessionmaker() as session:
            point = await checkpoint(session, store, now)
        if point is not None:
            log.info("exchange log checkpoint", extra={"seq": point.seq})

    scheduler = Scheduler([Job("exchange-log-checkpoint", interval, run)], lock=lock, clock=clock)

    async def background(stop: asyncio.Event) -> None:
        await scheduler.run_forever(stop, tick=tick)

    return background
