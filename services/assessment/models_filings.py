"""Tables of filings and reminders (AS-4), good practice and reward/penalty records (AS-7), and the
retention purge's own audit (NF-8)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.assessment.models import Base


class Filing(Base):
    __tablename__ = "filings"
    __table_args__ = (UniqueConstraint("tenant_code", "plan_id", "kind", "year", name="uq_filings_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    plan_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(24))
    year: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    document_object: Mapped[str] = mapped_column(String(256))
    summary: Mapped[str] = mapped_column(Text)
    return_reason: Mapped[str] = mapped_column(Text, default="")
    first_submit_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_by: Mapped[str] = mapped_column(String(128))
    reviewed_by: Mapped[str] = mapped_column(String(128), default="")


class FilingReminder(Base):
    """One reminder sent for one expected filing: the primary key makes it exactly once."""

    __tablename__ = "filing_reminders"

    tenant_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    reminder: Mapped[str] = mapped_column(String(16), primary_key=True)
    sent_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GoodPracticeCase(Base):
    __tablename__ = "good_practice_cases"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    industry_code: Mapped[str] = mapped_column(String(8))
    year: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(128))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RewardPenaltyRecord(Base):
    __tablename__ = "reward_penalty_records"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6), index=True)
    organisation: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(8))  # reward, penalty
    reason: Mapped[str] = mapped_column(Text)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    decided_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(128))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PurgeAudit(Base):
    """Append-only record of every retention purge (NF-8: the purge is itself audited)."""

    __tablename__ = "purge_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_type: Mapped[str] = mapped_column(String(48))
    cutoff: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    purged: Mapped[int] = mapped_column(Integer)
    details: Mapped[dict] = mapped_column(JSON)
    run_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ScorecardConfigRow(Base):
    """National indicator configuration per year (no tenant: the ministry's)."""

    __tablename__ = "scorecard_configs"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicators: Mapped[list[dict]] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(128))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ScorecardRow(Base):
    __tablename__ = "scorecards"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    total: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int] = mapped_column(Integer)
    indicators: Mapped[list[dict]] = mapped_column(JSON)
    compute_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
