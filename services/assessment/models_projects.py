"""Tables of prevention projects (AS-1), budget (AS-3) and the expert pool (AS-2).

Imported by services/assessment/models.py so that they share its ``Base`` metadata."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.assessment.models import Base


class ProjectCall(Base):
    """A province's call for applications. Calls are announcements to the whole province, so they
    carry no row-level security: every query filters them by province (projects.py)."""

    __tablename__ = "project_calls"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6), index=True)
    title: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    guideline_object: Mapped[str] = mapped_column(String(256))
    template_form_object: Mapped[str] = mapped_column(String(256))
    closes_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(128))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Project(Base):
    """A prevention project from application to completion; ``state`` moves only through
    services/assessment/projects.py TRANSITIONS."""

    __tablename__ = "projects"
    __table_args__ = (Index("ix_projects_region_year", "pooling_region", "budget_year"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6), index=True)
    call_id: Mapped[str] = mapped_column(String(32), ForeignKey("project_calls.id"))
    title: Mapped[str] = mapped_column(String(200))
    applicant_organisation: Mapped[str] = mapped_column(String(128))
    beneficiary_employer: Mapped[str] = mapped_column(String(128), default="")
    pooling_region: Mapped[str] = mapped_column(String(6))
    category: Mapped[str] = mapped_column(String(16))
    requested_budget_fen: Mapped[int] = mapped_column(BigInteger)
    planned_start: Mapped[date] = mapped_column(Date)
    planned_end: Mapped[date] = mapped_column(Date)
    documents: Mapped[list[dict]] = mapped_column(JSON)
    milestones: Mapped[list[dict]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    budget_year: Mapped[int] = mapped_column(Integer)
    approved_budget_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    approved_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    approved_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    tender_required: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(128))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProjectTransition(Base):
    """Every state change of a project: who, when, why (append-only)."""

    __tablename__ = "project_transitions"

    project_id: Mapped[str] = mapped_column(String(32), ForeignKey("projects.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FundIncome(Base):
    """Work-injury fund premium income of a pooling region and year (imported; SPEC 7.7).
    ``tenant_code`` is the pooling region's code."""

    __tablename__ = "fund_incomes"

    tenant_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    premium_income_fen: Mapped[int] = mapped_column(BigInteger)
    imported_by: Mapped[str] = mapped_column(String(128))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BudgetSetting(Base):
    """Per-province prevention-fee cap (default 3 %, SPEC AS-3), a decimal string."""

    __tablename__ = "budget_settings"

    tenant_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    cap_rate: Mapped[str] = mapped_column(String(12))
    updated_by: Mapped[str] = mapped_column(String(128))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Expert(Base):
    """A member of the expert pool; experts of the national tenant (100000) form the national pool."""

    __tablename__ = "experts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6), index=True)
    display_name: Mapped[str] = mapped_column(String(100))
    specialties: Mapped[list[str]] = mapped_column(JSON)
    region_code: Mapped[str] = mapped_column(String(6))
    employer: Mapped[str] = mapped_column(String(128))
    user_subject: Mapped[str] = mapped_column(String(128), default="", index=True)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReviewerDraw(Base):
    """A reviewer draw with everything needed to re-run and check it: seed, the sorted candidate
    set, the excluded experts with their conflict, and the chosen reviewers."""

    __tablename__ = "reviewer_draws"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6), index=True)
    project_id: Mapped[str] = mapped_column(String(32), ForeignKey("projects.id"), index=True)
    count: Mapped[int] = mapped_column(Integer)
    specialty: Mapped[str] = mapped_column(String(32), default="")
    seed: Mapped[str] = mapped_column(String(24))
    candidates: Mapped[list[str]] = mapped_column(JSON)
    excluded: Mapped[list[dict]] = mapped_column(JSON)
    reviewers: Mapped[list[str]] = mapped_column(JSON)
    drawn_by: Mapped[str] = mapped_column(String(128))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExpertReviewRow(Base):
    """A drawn expert's review of a project: once per expert and project."""

    __tablename__ = "expert_reviews"

    project_id: Mapped[str] = mapped_column(String(32), ForeignKey("projects.id"), primary_key=True)
    expert_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    score: Mapped[int] = mapped_column(Integer)
    recommendation: Mapped[str] = mapped_column(String(8))
    opinion: Mapped[str] = mapped_column(Text)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
