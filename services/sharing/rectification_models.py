"""Tables of the rectification workflow (SPEC SH-5) and joint inspections (SH-6), on the sharing
service's metadata (services.sharing.models.Base); migration 0006c_rectification."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.sharing.models import Base


class RectificationNotice(Base):
    """A rectification notice to an employer. One notice per (tenant, source, employer): raising
    again from the same source replays the first. ``due_time`` is the end of ``deadline_date`` in
    CST, as UTC."""

    __tablename__ = "rectification_notices"
    __table_args__ = (
        UniqueConstraint("tenant_code", "source", "employer", name="uq_rectification_notices_source"),
        Index("ix_rectification_notices_tenant_create", "tenant_code", "create_time", "id"),
        Index("ix_rectification_notices_state_due", "state", "due_time"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    employer: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(200))
    source_type: Mapped[str] = mapped_column(String(32))
    required_action: Mapped[str] = mapped_column(Text)
    deadline_date: Mapped[date] = mapped_column(Date)
    due_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    law: Mapped[str] = mapped_column(String(48))
    state: Mapped[str] = mapped_column(String(16))
    issuing_organisation: Mapped[str] = mapped_column(String(128), default="")
    issued_by: Mapped[str] = mapped_column(String(128))
    response: Mapped[str] = mapped_column(Text, default="")
    enforcement_referral: Mapped[str] = mapped_column(Text, default="")
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RectificationTransition(Base):
    """Every state change of a notice: who, when, why (append-only)."""

    __tablename__ = "rectification_transitions"
    __table_args__ = (Index("ix_rectification_transitions_notice", "notice_id", "time"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    notice_id: Mapped[str] = mapped_column(String(32))
    tenant_code: Mapped[str] = mapped_column(String(6))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")


class RectificationEvidence(Base):
    """An evidence file in object storage under ``<tenant>/sharing/rectification-evidence/<id>``.
    Size and SHA-256 are read from the store when a response attaches it."""

    __tablename__ = "rectification_evidence"
    __table_args__ = (Index("ix_rectification_evidence_notice", "notice_id", "create_time"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    notice_id: Mapped[str] = mapped_column(String(32))
    tenant_code: Mapped[str] = mapped_column(String(6))
    object_key: Mapped[str] = mapped_column(String(255))
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    attached: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_by: Mapped[str] = mapped_column(String(128))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RectificationDispatch(Base):
    """One announcement (reminder or escalation) of one notice: the primary key is the claim that
    makes it happen exactly once however many runners try; ``sent_time`` is set only after
    identity's Notify answered (Notify is idempotent by the dispatch's request id)."""

    __tablename__ = "rectification_dispatches"
    __table_args__ = (Index("ix_rectification_dispatches_unsent", "sent_time"),)

    notice_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    claim_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # "sent", or "undeliverable" when identity refused a recipient for good (e.g. an organisation
    # it does not know); empty while unsent.
    outcome: Mapped[str] = mapped_column(String(16), default="")


class JointInspection(Base):
    """A joint inspection (SPEC SH-6): participating departments, inspected employers and the
    findings ``{id, employer, description, required_action, law, rectification_notice}``."""

    __tablename__ = "joint_inspections"
    __table_args__ = (Index("ix_joint_inspections_tenant_date", "tenant_code", "inspection_date", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    title: Mapped[str] = mapped_column(String(200))
    inspection_date: Mapped[date] = mapped_column(Date)
    participants: Mapped[list[str]] = mapped_column(JSON)
    employers: Mapped[list[str]] = mapped_column(JSON)
    findings: Mapped[list[dict]] = mapped_column(JSON)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))
