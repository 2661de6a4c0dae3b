"""Orphan-object sweep (RELIABILITY D5: database and object store disagree).

Services write an object before the database row that refers to it (xAPI attachments, training
materials, certificates, rectification evidence): the bytes must be in place before a row can
point at them. When the database commit then fails, the object stays behind with nothing
referring to it. This job removes such orphans:

- it lists the store once and keeps the objects of each ``SweepTarget`` (a service and an
  object kind; keys are ``<tenant>/<service>/<kind>/<id>``, SPEC 7.5), in every tenant;
- objects younger than the grace period are left alone: their row may still be on its way
  (a transaction in flight, a presigned upload whose row commits later);
- of the older ones, the target's ``referenced`` query says which keys a row refers to; every
  other one is looked at once more (``stat``: a content-addressed key may have been written again
  since the listing) and, if still older than the grace, deleted. What remains is the moment
  between that look and the delete; a writer that PUTs the same key and commits its row within
  it loses its object, which is why the grace is an hour rather than minutes.

Deleting is safe to repeat (a missing object is not an error), so the job is idempotent and may
run on any replica that holds the leader lock. Each run is audited in the log with counts only:
keys carry no personal data by construction, but the log needs none of them either.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common.clock import Clock
from services.common.errors import NotFound
from services.common.scheduler import Job, LeaderLock, Scheduler
from services.common.storage import ObjectStore, parse_object_key

__all__ = [
    "DEFAULT_GRACE",
    "DEFAULT_INTERVAL",
    "Background",
    "SweepReport",
    "SweepTarget",
    "sweep_background",
    "sweep_orphans",
]

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(hours=1)
DEFAULT_INTERVAL = timedelta(hours=1)
_BATCH = 500  # keys per "referenced" query (bounded IN lists)

# Given candidate keys (all of one target), the subset a database row refers to.
Referenced = Callable[[Sequence[str]], Awaitable[set[str]]]
Background = Callable[[asyncio.Event], Awaitable[None]]


@dataclass(frozen=True)
class SweepTarget:
    service: str
    kind: str
    referenced: Referenced


@dataclass(frozen=True)
class SweepReport:
    scanned: int = 0
    young: int = 0
    referenced: int = 0
    deleted: int = 0


async def sweep_orphans(store: ObjectStore, targets: Iterable[SweepTarget], *, now: datetime,
                        grace: timedelta = DEFAULT_GRACE) -> SweepReport:
    """Delete the targets' objects older than ``grace`` that no row references; report counts."""
    if grace < timedelta(0):
        raise ValueError("grace must not be negative")
    targets = list(targets)
    wanted = {(t.service, t.kind): t for t in targets}
    cutoff = now - grace
    candidates: dict[tuple[str, str], list[str]] = {key: [] for key in wanted}
    scanned = young = 0
    for listing in await store.list_objects(""):
        _, service, kind, _ = parse_object_key(listing.key)
        if (service, kind) not in wanted:
            continue
        scanned += 1
        if listing.last_modified > cutoff:
            young += 1
            continue
        candidates[(service, kind)].append(listing.key)
    referenced = deleted = 0
    for key, keys in candidates.items():
        target = wanted[key]
        for start in range(0, len(keys), _BATCH):
            batch = keys[start:start + _BATCH]
            keep = await target.referenced(batch)
            referenced += sum(1 for k in batch if k in keep)
            for orphan in (k for k in batch if k not in keep):
                # Keys may be content-addressed (xAPI attachments): the same key can have been
                # written again since the listing, its row on the way. Look once more.
                try:
                    modified = (await store.stat(orphan)).last_modified
                except NotFound:
                    continue
                if modified is None or modified > cutoff:
                    young += 1
                    continue
                await store.delete(orphan)
                deleted += 1
    report = SweepReport(scanned=scanned, young=young, referenced=referenced, deleted=deleted)
    # Audit record: counts and the targets swept, never keys or content.
    log.info("object sweep", extra={
        "audit": "object_sweep", "targets": ",".join(f"{t.service}/{t.kind}" for t in targets),
        "scanned": report.scanned, "young": report.young, "referenced": report.referenced,
        "deleted": report.deleted, "grace_seconds": int(grace.total_seconds())})
    return report


def sweep_background(*, name: str, store: ObjectStore, targets: Sequence[SweepTarget], clock: Clock,
                     lock: LeaderLock, grace: timedelta = DEFAULT_GRACE, interval: timedelta = DEFAULT_INTERVAL,
                     tick: float = 1.0) -> Background:
    """A chassis background task running :func:`sweep_orphans` every ``interval`` under ``lock``."""

    async def run(now: datetime) -> None:
        await sweep_orphans(store, targets, now=now, grace=grace)

    scheduler = Scheduler([Job(name, interval, run)], lock=lock, clock=clock)

    async def background(stop: asyncio.Event) -> None:
        await scheduler.run_forever(stop, tick=tick)

    return background
