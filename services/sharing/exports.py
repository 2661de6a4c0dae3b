"""Exports of shared records (SPEC SH-1; RELIABILITY S10): the records a list with the same
filters shows, as a file, audited with a stated reason and limited per caller.

Decisions:
- The scope and the fields are those of listing (records.read_scope): a liaison's export holds
  the granted fields only; a column no exported record shows is left out, a cell a record does
  not show is empty.
- ``reason`` is required (1..500 characters) and stored with the exchange-log entry (action
  ``export``, the ids exported), in the export's own transaction: no entry, no file.
- Quota: at most ``quota`` exports per caller (tenant + subject) in any rolling hour, counted
  from the exchange log itself, after this export's entry is appended. Appending serialises on
  the log's head row, so concurrent exports cannot both slip under the limit. Beyond the quota:
  RESOURCE_EXHAUSTED, reason EXPORT_QUOTA_EXCEEDED, metadata ``retry_after_seconds`` = when the
  oldest export of the window leaves it; the transaction rolls back (nothing is exported).
- At most ``MAX_ROWS`` records per export (a file must fit in one message): more is
  FAILED_PRECONDITION (EXPORT_TOO_LARGE) — narrow the filters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.clock import as_utc
from services.common.context import Caller
from services.common.errors import FailedPrecondition, InvalidArgument, ResourceExhausted
from services.sharing import exchange_log, record_files
from services.sharing.models import ExchangeLogEntry
from services.sharing.records import RecordFilter, RecordType, collection, filtered_query, read_scope

MAX_ROWS = 10_000
MAX_REASON = 500
WINDOW = timedelta(hours=1)
FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    media_type: str
    filename: str
    count: int


def parse_filters(kind: RecordType, raw: dict[str, str]) -> RecordFilter:
    """The list filters by their query names (occurred_from, industry_prefix, severity...)."""
    names = {f"{kind.filter_prefix}_from": "date_from", f"{kind.filter_prefix}_to": "date_to",
             "industry_prefix": "industry_prefix"}
    if kind.enum_filter:
        names[kind.enum_filter] = "enum_value"
    values: dict[str, str] = {}
    for key, value in raw.items():
        if key not in names:
            raise InvalidArgument.field("filters", f"unknown filter {key}; allowed: {', '.join(names)}")
        values[names[key]] = value
    return RecordFilter(**values)


async def _check_quota(session: AsyncSession, caller: Caller, quota: int, now: datetime) -> None:
    since = now - WINDOW
    where = (ExchangeLogEntry.action == "export", ExchangeLogEntry.tenant_code == caller.tenant,
             ExchangeLogEntry.actor == caller.subject, ExchangeLogEntry.event_time >= since)
    count, oldest = (await session.execute(
        select(func.count(), func.min(ExchangeLogEntry.event_time)).where(*where))).one()
    if count > quota:
        wait = (as_utc(oldest) + WINDOW - now).total_seconds() if oldest is not None else WINDOW.total_seconds()
        seconds = max(1, math.ceil(wait))
        raise ResourceExhausted(f"at most {quota} exports per hour; retry in {seconds} seconds",
                                reason="EXPORT_QUOTA_EXCEEDED", metadata={"retry_after_seconds": str(seconds)})


async def export_records(*, session: AsyncSession, caller: Caller, kind: RecordType, filters: RecordFilter,
                         file_type: str, reason: str, quota: int) -> ExportFile:
    if file_type not in FORMATS:
        raise InvalidArgument.field("format", f"must be one of {', '.join(FORMATS)}")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidArgument.field("reason", "is required: say why the records are exported")
    if len(reason) > MAX_REASON:
        raise InvalidArgument.field("reason", f"must be at most {MAX_REASON} characters")
    scope = await read_scope(session=session, caller=caller, kind=kind)
    query = filtered_query(kind, scope, filters)
    day = getattr(kind.model, kind.date_field)
    rows = (await session.scalars(query.order_by(day.desc(), kind.model.id.desc()).limit(MAX_ROWS + 1))).all()
    if len(rows) > MAX_ROWS:
        raise FailedPrecondition(f"more than {MAX_ROWS} records match; narrow the filters",
                                 reason="EXPORT_TOO_LARGE")
    now = datetime.now(UTC)
    await exchange_log.append(session, exchange_log.Entry(
        tenant_code=caller.tenant, actor=caller.subject, action="export", record_type=kind.name,
        record_ids=tuple(row.id for row in rows), reason=reason), now=now)
    await _check_quota(session, caller, quota, now)

    shown: set[str] = set()
    documents = []
    for row in rows:
        fields = scope.fields_for(row)
        shown |= set(fields)
        document = {"id": row.id, "tenant_code": row.tenant_code, "status": row.status, "version": row.version}
        document.update({f: getattr(row, f) for f in fields})
        documents.append(document)
    if not rows:
        shown = set(kind.fields) if scope.full else set().union(*(f for _, f in scope.grants))
    columns = (*record_files.EXPORT_METADATA, *(f for f in kind.fields if f in shown))
    content, media_type = record_files.write_file(columns, documents, file_type)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    return ExportFile(content=content, media_type=media_type, filename=f"{collection(kind)}-{stamp}.{file_type}",
                      count=len(rows))
