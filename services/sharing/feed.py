"""The subscribe feed (SPEC SH-3): new records, corrections and voids of one record type from a
cursor, filtered to what the subscriber may read. Domain functions only: no gRPC here.

Decisions:
- The feed reads the ``record_changes`` outbox by ``position``, the gap-free commit-order
  number the sequencer stamps after a change is visible (why not by id: services/sharing/
  changes.py). A cursor is the opaque encoding of one position, bound to the record type; resuming
  from the last cursor received yields every later change exactly once.
- Each item carries the record's ``after`` snapshot reduced to the fields the subscriber may read
  (a liaison's granted fields; none when no agreement covers the record: then it is not sent).
  Visibility is judged on the record's current row (``visible_changes``, the one call site of the
  read scope; the integrator switches it when read scopes are generalised per record type).
- Every batch served is appended to the exchange log as a read (SPEC SH-4), in the transaction of
  the read: if the log cannot be written nothing is served (fails closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import Caller
from services.common.errors import InvalidArgument
from services.common.pagination import decode_page_token, encode_page_token
from services.sharing import exchange_log, records
from services.sharing.models import RecordChange
from services.sharing.record_types import RECORD_TYPES

# The record types whose changes the feed serves, with the model their read scope is written on.
FEED_TYPES = RECORD_TYPES  # every SH-1 record type has a feed
BATCH = 200


@dataclass(frozen=True)
class FeedItem:
    position: int
    cursor: str
    kind: str
    record_type: str
    record_id: str
    tenant_code: str
    values: dict
    fields: tuple[str, ...]
    change_time: datetime


def validate_record_type(record_type: str) -> str:
    if record_type not in FEED_TYPES:
        raise InvalidArgument.field("record_type", f"must be one of {', '.join(sorted(FEED_TYPES))}")
    return record_type


def encode_cursor(record_type: str, position: int) -> str:
    return encode_page_token([position], {"record_type": record_type})


def decode_cursor(record_type: str, cursor: str) -> int:
    """0 for an empty cursor (from the beginning)."""
    if not cursor:
        return 0
    try:
        decoded = decode_page_token(cursor, {"record_type": record_type}, shape=(int,))
    except InvalidArgument:
        raise InvalidArgument.field("cursor", "is not a cursor of this record type's feed") from None
    return int(decoded[0]) if decoded else 0


async def visible_changes(session: AsyncSession, caller: Caller, record_type: str, after: int,
                          limit: int) -> list[tuple[RecordChange, tuple[str, ...]]]:
    """Stamped changes above ``after`` the caller may read, with the fields it may read of each.
    The one place the feed applies a read scope."""
    kind = FEED_TYPES[record_type]
    scope = await records.read_scope(session=session, caller=caller, kind=kind)
    model = kind.model
    query = (select(RecordChange, model).join(model, model.id == RecordChange.record_id)
             .where(RecordChange.record_type == record_type, RecordChange.position.is_not(None),
                    RecordChange.position > after, scope.condition)
             .order_by(RecordChange.position).limit(limit))
    rows = (await session.execute(query)).all()
    return [(change, scope.fields_for(row)) for change, row in rows]


@dataclass(frozen=True)
class Batch:
    items: list[FeedItem]
    # The last position looked at (items or not) and whether more may follow at once.
    last_position: int
    full: bool


async def read(*, session: AsyncSession, caller: Caller, record_type: str, after: int,
               limit: int = BATCH) -> Batch:
    """The next batch of changes after position ``after``; the caller commits (the log entry)."""
    items: list[FeedItem] = []
    visible = await visible_changes(session, caller, record_type, after, limit)
    for change, fields in visible:
        if not fields:
            continue
        snapshot = change.after or {}
        items.append(FeedItem(
            position=change.position, cursor=encode_cursor(record_type, change.position), kind=change.kind,
            record_type=record_type, record_id=change.record_id, tenant_code=change.tenant_code,
            values={f: snapshot[f] for f in fields if f in snapshot}, fields=fields,
            change_time=change.change_time))
    if items:
        await exchange_log.append(session, exchange_log.Entry(
            tenant_code=caller.tenant, actor=caller.subject, action="read", record_type=record_type,
            record_ids=tuple(i.record_id for i in items)))
    return Batch(items, visible[-1][0].position if visible else after, len(visible) == limit)
