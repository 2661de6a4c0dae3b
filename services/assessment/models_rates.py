"""Tables of premium-rate floating (SPEC AS-6): rule-set versions, cycle inputs, runs, results.
``tenant_code`` is the pooling region's code everywhere."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.assessment.models import Base


class RateRuleSet(Base):
    """One version of a pooling region's rule set; versions are never edited (a change is a new one)."""

    __tablename__ = "rate_rule_sets"
    __table_args__ = (UniqueConstraint("tenant_code", "version", name="uq_rate_rule_sets_version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    version: Mapped[int] = mapped_column(Integer)
    parameters: Mapped[dict] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(128))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RateInput(Base):
    """One employer's figures for one year of the cycle (imported)."""

    __tablename__ = "rate_inputs"

    tenant_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    employer: Mapped[str] = mapped_column(String(18), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    risk_class: Mapped[int] = mapped_column(Integer)
    premiums_paid_fen: Mapped[int] = mapped_column(BigInteger)
    benefits_paid_fen: Mapped[int] = mapped_column(BigInteger)
    injuries: Mapped[int] = mapped_column(Integer)
    fatal_accidents: Mapped[int] = mapped_column(Integer)
    hazard_level: Mapped[str] = mapped_column(String(8))
    months_insured: Mapped[int] = mapped_column(Integer)


class RateRun(Base):
    """A batch run over every employer of a region with inputs in the cycle: a tracked, resumable
    job (``cursor`` = last employer done; each batch commits its results with the cursor)."""

    __tablename__ = "rate_runs"
    __table_args__ = (Index("ix_rate_runs_tenant_code_create_time", "tenant_code", "create_time", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6), index=True)
    cycle_end_year: Mapped[int] = mapped_column(Integer)
    rule_set_version: Mapped[int] = mapped_column(Integer)
    parameters: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))  # running, completed
    total: Mapped[int] = mapped_column(Integer)
    processed: Mapped[int] = mapped_column(Integer)
    cursor: Mapped[str] = mapped_column(String(18))
    created_by: Mapped[str] = mapped_column(String(128))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finish_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RateResultRow(Base):
    __tablename__ = "rate_results"

    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    employer: Mapped[str] = mapped_column(String(18), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    risk_class: Mapped[int] = mapped_column(Integer)
    tier: Mapped[str] = mapped_column(String(8))
    multiplier: Mapped[str] = mapped_column(String(8))
    base_rate: Mapped[str] = mapped_column(String(12))
    rate: Mapped[str] = mapped_column(String(12))
    payout_ratio: Mapped[str] = mapped_column(String(24))
    factors: Mapped[list[str]] = mapped_column(JSON)
