from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Date, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.idempotency import idempotency_table


class Base(DeclarativeBase):
    pass


IdempotencyKeys = idempotency_table(Base.metadata)


class ActionPlan(Base):
    """An action-plan cycle as data (SPEC AS-8): period, baseline year, targets per indicator."""

    __tablename__ = "action_plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    baseline_year: Mapped[int] = mapped_column(Integer)
    # [{"indicator": str, "value": "-0.20", "due_date": "2025-12-31"}]
    targets: Mapped[list[dict]] = mapped_column(JSON)
    implementation_plan_due: Mapped[date] = mapped_column(Date)
    annual_report_due: Mapped[str] = mapped_column(String(5))  # MM-DD


# Tables of later slices live in their own modules; importing them registers them on Base.
from services.assessment import models_filings, models_projects, models_rates  # noqa: E402,F401
