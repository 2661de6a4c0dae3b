"""The training service's orphan-object sweep (RELIABILITY D5).

xAPI attachments, material uploads and certificate PDFs are written to the object store before
their rows commit; :mod:`services.common.object_sweep` deletes the ones whose commit failed. This
module says which keys are still referenced: an attachment row, a material row (a pending
material's row exists before its presigned upload lands, so that object is never an orphan) or a
certificate row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select

from services.common.object_sweep import DEFAULT_GRACE, Background, SweepTarget, sweep_background
from services.training.core_models import Certificate, Material
from services.training.lrs.models import StatementAttachment

__all__ = ["training_sweep_background", "training_sweep_targets"]

_COLUMNS = {
    "xapi-attachment": StatementAttachment.object_key,
    "materials": Material.object_key,
    "certificates": Certificate.object_key,
}


def training_sweep_targets(sessionmaker) -> list[SweepTarget]:
    """One target per object kind, each answering from its own table."""

    def referenced_by(column):
        async def referenced(keys: Sequence[str]) -> set[str]:
            # Scheduled work runs without a caller: the session's scope is every tenant.
            async with sessionmaker() as session:
                return set((await session.scalars(select(column).where(column.in_(list(keys))))).all())
        return referenced

    return [SweepTarget("training", kind, referenced_by(column)) for kind, column in _COLUMNS.items()]


def training_sweep_background(*, sessionmaker, store, clock, lock, grace: timedelta = DEFAULT_GRACE,
                              tick: float = 1.0) -> Background:
    return sweep_background(name="training-object-sweep", store=store, targets=training_sweep_targets(sessionmaker),
                            clock=clock, lock=lock, grace=grace, tick=tick)
