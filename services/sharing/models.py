from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.idempotency import idempotency_table


class Base(DeclarativeBase):
    pass


IdempotencyKeys = idempotency_table(Base.metadata)


class KeyIndustry(Base):
    """A key industry as GB/T 4754-2017 divisions: the national five (tenant 100000) plus
    each tenant's local additions (SPEC 7.7)."""

    __tablename__ = "key_industries"

    tenant_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(64))
    display_name_en: Mapped[str] = mapped_column(String(128))
    divisions: Mapped[list[str]] = mapped_column(JSON)


class Accident(Base):
    """A shared work-injury accident record (SPEC SH-1). ``publisher_record_id`` is the publisher's
    own id, unique per tenant: the idempotency key of publishing. Corrections bump ``version``;
    voiding sets ``status`` to ``voided``. ``create_hash`` is the hash of the content first
    published, so a retried create replays even after a correction."""

    __tablename__ = "accidents"
    __table_args__ = (
        UniqueConstraint("tenant_code", "publisher_record_id", name="uq_accidents_publisher_record"),
        Index("ix_accidents_tenant_occurred", "tenant_code", "occurred_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    publisher_record_id: Mapped[str] = mapped_column(String(64))
    publisher_organisation: Mapped[str] = mapped_column(String(128), default="")
    create_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="active")
    occurred_at: Mapped[date] = mapped_column(Date)
    employer: Mapped[str] = mapped_column(String(128))
    industry_code: Mapped[str] = mapped_column(String(8))
    severity: Mapped[str] = mapped_column(String(16))
    accident_type: Mapped[str] = mapped_column(String(48))
    persons_injured: Mapped[int] = mapped_column(Integer, default=0)
    fatalities: Mapped[int] = mapped_column(Integer, default=0)
    days_lost: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text, default="")
    void_reason: Mapped[str] = mapped_column(Text, default="")
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))
    updated_by: Mapped[str] = mapped_column(String(128))


class SharingAgreement(Base):
    """Provider department -> consumer department for one record type and a set of its fields
    (SPEC SH-2). It covers the records of ``tenant_code``'s subtree (100000: every tenant)."""

    __tablename__ = "sharing_agreements"
    __table_args__ = (Index("ix_sharing_agreements_consumer", "consumer_organisation", "record_type"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    provider_organisation: Mapped[str] = mapped_column(String(128))
    consumer_organisation: Mapped[str] = mapped_column(String(128))
    record_type: Mapped[str] = mapped_column(String(32))
    granted_fields: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))
