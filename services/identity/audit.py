"""Recording security audit events (ID-7) in the caller's transaction. Details never carry
personal data: ids, role names, reasons only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import InvalidArgument
from services.common.tenancy import visible_to
from services.identity.models import AuditEventRow

LOGIN_SUCCEEDED = "LOGIN_SUCCEEDED"
LOGIN_FAILED = "LOGIN_FAILED"
ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
TOKEN_ISSUED = "TOKEN_ISSUED"
TOKEN_REFUSED = "TOKEN_REFUSED"
USER_CREATED = "USER_CREATED"
ROLES_CHANGED = "ROLES_CHANGED"
USER_DISABLED = "USER_DISABLED"
USER_ENABLED = "USER_ENABLED"
TOTP_ENROLLED = "TOTP_ENROLLED"
CLIENT_CREATED = "CLIENT_CREATED"
CLIENT_SECRET_ROTATED = "CLIENT_SECRET_ROTATED"
CLIENT_CHANGED = "CLIENT_CHANGED"
SIGNING_KEY_ROTATED = "SIGNING_KEY_ROTATED"
CROSS_TENANT_READ = "CROSS_TENANT_READ"


def record(
    session: AsyncSession, *, now: datetime, kind: str, tenant_code: str, actor: str, target: str = "",
    outcome: str = "ok", detail: dict | None = None,
) -> None:
    session.add(AuditEventRow(event_time=now, kind=kind, tenant_code=tenant_code, actor=actor[:128],
                              target=target[:255], outcome=outcome, detail=detail or {}))


def record_cross_tenant_read(session: AsyncSession, *, now: datetime, caller, tenant_code: str, target: str) -> None:
    """A ministry operator reading another tenant's data is audited (SPEC 3)."""
    if caller.is_ministry and tenant_code != caller.tenant:
        record(session, now=now, kind=CROSS_TENANT_READ, tenant_code=tenant_code, actor=caller.subject,
               target=target)


async def list_events(session: AsyncSession, *, caller, kind: str, before_id: int | None, limit: int
                      ) -> list[AuditEventRow]:
    """Newest first, in the caller's tenant subtree (ministry operators: all)."""
    if len(kind) > 48:
        raise InvalidArgument.field("kind", "is too long")
    query = (select(AuditEventRow).where(visible_to(AuditEventRow.tenant_code, caller))
             .order_by(AuditEventRow.id.desc()).limit(limit))
    if kind:
        query = query.where(AuditEventRow.kind == kind)
    if before_id is not None:
        query = query.where(AuditEventRow.id < before_id)
    return list((await session.scalars(query)).all())
