"""`prevention seed` for training: no reference data yet (courses arrive with the training issue)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


async def seed(session: AsyncSession, *, demo: bool = False, settings=None) -> dict[str, int]:
    return {}
