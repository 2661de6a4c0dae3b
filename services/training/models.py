from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.idempotency import idempotency_table


class Base(DeclarativeBase):
    pass


IdempotencyKeys = idempotency_table(Base.metadata)


class Course(Base):
    """A course of the catalogue (SPEC TR-1); national courses belong to tenant 100000."""

    __tablename__ = "courses"
    __table_args__ = (Index("ix_courses_tenant_created", "tenant_code", "create_time", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    content_category: Mapped[str] = mapped_column(String(32))
    # Personal data (a phone number): never logged, masked on output for other tenants.
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))
