"""The one hook every record write calls, in the writer's transaction (SPEC SH-3, SH-8).

``record_changed`` is called by every publish, correction and void of every record type, after
the row is flushed and before the transaction commits, so whatever it writes commits or rolls
back with the record itself (no dual write). It feeds the subscribe feed (SH-3) and keeps the
analytics rollups (SH-8) current.

The snapshots are plain dicts of the record's data fields as stored, JSON-able (dates as ISO
strings), plus ``tenant_code`` and ``status`` ("active" or "voided"):
- accidents: occurred_at, employer, industry_code, severity, accident_type, persons_injured,
  fatalities, days_lost, ...
- disease_cases: diagnosed_at, employer, industry_code, category ("pneumoconiosis", ...), ...
- other types: their own fields.
``before`` is None for a publish; for a void ``after`` carries status "voided".
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

KINDS = ("published", "corrected", "voided")


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
    """Feed entry and rollup update for one change (implemented by the feed and analytics)."""
    assert kind in KINDS, kind
