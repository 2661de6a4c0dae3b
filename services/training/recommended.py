"""Which third-party platforms may push learning records for a tenant (SPEC TR-6, TR-3): the seam
between the recommended-platform list and the learning-record store.

Contract: ``may_push`` is True only when the API client ``client_id`` (the ``sub`` of a
client-credentials token) belongs to a platform in state ``recommended`` on ``tenant_code``'s
list. The store refuses a push otherwise with PERMISSION_DENIED.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.core_models import TrainingPlatform, TrainingPlatformClient


async def may_push(session: AsyncSession, *, tenant_code: str, client_id: str) -> bool:
    """True only for a client of a platform in state recommended on exactly ``tenant_code``'s list
    (a province's list does not let a platform write for a neighbour, nor for its sub-regions)."""
    if not tenant_code or not client_id:
        return False
    found = await session.scalar(
        select(TrainingPlatform.id)
        .join(TrainingPlatformClient, TrainingPlatformClient.platform_id == TrainingPlatform.id)
        .where(TrainingPlatformClient.tenant_code == tenant_code, TrainingPlatformClient.client_id == client_id,
               TrainingPlatform.tenant_code == tenant_code, TrainingPlatform.state == "recommended")
        .limit(1)
    )
    return found is not None
