"""Which third-party platforms may push learning records for a tenant (SPEC TR-6, TR-3): the seam
between the recommended-platform list and the learning-record store.

Contract: ``may_push`` is True only when the API client ``client_id`` (the ``sub`` of a
client-credentials token) belongs to a platform in state ``recommended`` on ``tenant_code``'s
list. The store refuses a push otherwise with PERMISSION_DENIED.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


async def may_push(session: AsyncSession, *, tenant_code: str, client_id: str) -> bool:
    """Placeholder until the recommended list lands: no platform may push."""
    return False
