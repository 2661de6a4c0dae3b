from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.idempotency import idempotency_table


class Base(DeclarativeBase):
    pass


IdempotencyKeys = idempotency_table(Base.metadata)


class Tenant(Base):
    """A node of the tenant tree (SPEC 3). ``level``: national | province | pooling_region."""

    __tablename__ = "tenants"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(String(6), index=True)
    level: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(64))
    display_name_en: Mapped[str] = mapped_column(String(64))
