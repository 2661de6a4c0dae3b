"""Organisation and employer models (ID-1, ID-2)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.identity.models import Base

# Columns of personal data are encrypted with services.common.pii under these contexts, so a token
# copied into another column does not decrypt.
CONTACT_NAME_CONTEXT = "identity.organisations.contact_name"
CONTACT_PHONE_CONTEXT = "identity.organisations.contact_phone"


class Organisation(Base):
    """A government department, employer, training or service institution, training platform or
    technical school of one tenant (ID-1). Employer fields (ID-2) are NULL for every other type.

    ``type``: government_department | employer | training_institution | service_institution |
    training_platform | technical_school. ``department_type`` (government departments only):
    hrss | emergency | health | union | industry_regulator | finance.
    """

    __tablename__ = "organisations"
    __table_args__ = (
        # A USCC identifies one legal entity across the whole platform (NULLs do not collide).
        UniqueConstraint("uscc", name="uq_organisations_uscc"),
        # Keyset pagination (newest first) within a tenant subtree.
        Index("ix_organisations_tenant_created", "tenant_code", "create_time", "id"),
        Index("ix_organisations_created", "create_time", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    type: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(200))
    department_type: Mapped[str | None] = mapped_column(String(32))
    sector: Mapped[str | None] = mapped_column(String(64))
    # Employers only (ID-2).
    uscc: Mapped[str | None] = mapped_column(String(18))
    industry_code: Mapped[str | None] = mapped_column(String(5))
    risk_class: Mapped[int | None] = mapped_column(Integer)
    headcount: Mapped[int | None] = mapped_column(Integer)
    insured_headcount: Mapped[int | None] = mapped_column(Integer)
    pooling_region_code: Mapped[str | None] = mapped_column(String(6))
    # Personal data: encrypted (services.common.pii), shown masked unless SPEC 7.3 allows.
    contact_name_enc: Mapped[str | None] = mapped_column(Text)
    contact_phone_enc: Mapped[str | None] = mapped_column(Text)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
