from __future__ import annotations

from sqlalchemy import JSON, String
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
