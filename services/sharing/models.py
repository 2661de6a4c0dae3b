from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Float, Index, Integer, String, Text, UniqueConstraint
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


class Bulletin(Base):
    """A typical accident the ministry circulates nationally (SPEC SH-7): an accident summary,
    no personal data. ``tenant_code`` is always the national tenant, readable by every tenant."""

    __tablename__ = "bulletins"
    __table_args__ = (Index("ix_bulletins_publish_time", "publish_time", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[date] = mapped_column(Date)
    region_code: Mapped[str] = mapped_column(String(6), default="")
    industry_code: Mapped[str] = mapped_column(String(8))
    accident_type: Mapped[str] = mapped_column(String(48))
    severity: Mapped[str] = mapped_column(String(16))
    fatalities: Mapped[int] = mapped_column(Integer, default=0)
    persons_injured: Mapped[int] = mapped_column(Integer, default=0)
    publish_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


class BulletinAcknowledgement(Base):
    """One province's acknowledgement of a bulletin (SPEC SH-7); ``tenant_code`` is the province."""

    __tablename__ = "bulletin_acknowledgements"

    bulletin_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    acknowledge_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str] = mapped_column(String(128))


class ExchangeLogEntry(Base):
    """One entry of the hash-chained exchange log (SPEC SH-4): who published or read which
    records, never the records' content. ``hash`` is SHA-256 over the canonical JSON of the entry
    including ``prev_hash`` (services.sharing.exchange_log)."""

    __tablename__ = "exchange_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    tenant_code: Mapped[str] = mapped_column(String(6))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    record_type: Mapped[str] = mapped_column(String(32))
    record_ids: Mapped[list[str]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # An export's stated reason (RELIABILITY S10); "" otherwise. Added by 0006a_record_types.
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")


class ExchangeLogHead(Base):
    """The chain's one-row head: appending updates it first, which serialises appenders (a row
    lock on PostgreSQL, the write lock on SQLite) so the chain stays linear."""

    __tablename__ = "exchange_log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class JointMeeting(Base):
    """A joint meeting of one tenant's departments (SPEC SH-6): participants, minutes and the
    resolutions as action items ``{description, owner, due_date}`` (replaced as a whole)."""

    __tablename__ = "joint_meetings"
    __table_args__ = (Index("ix_joint_meetings_tenant_date", "tenant_code", "meeting_date", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    title: Mapped[str] = mapped_column(String(200))
    meeting_date: Mapped[date] = mapped_column(Date)
    location: Mapped[str] = mapped_column(String(200), default="")
    participants: Mapped[list[str]] = mapped_column(JSON)
    minutes: Mapped[str] = mapped_column(Text, default="")
    action_items: Mapped[list[dict]] = mapped_column(JSON)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


# -- the other SH-1 record types (services/sharing/record_types.py) ------------------------------


class _SharedRecord:
    """The columns every shared record type has besides its data fields (as on Accident)."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    publisher_record_id: Mapped[str] = mapped_column(String(64))
    publisher_organisation: Mapped[str] = mapped_column(String(128), default="")
    create_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="active")
    employer: Mapped[str] = mapped_column(String(128))
    industry_code: Mapped[str] = mapped_column(String(8))
    void_reason: Mapped[str] = mapped_column(Text, default="")
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))
    updated_by: Mapped[str] = mapped_column(String(128))


class DiseaseCase(_SharedRecord, Base):
    """Occupational-disease cases (SPEC SH-1): counted, never described (no person, no diagnosis)."""

    __tablename__ = "disease_cases"
    __table_args__ = (
        UniqueConstraint("tenant_code", "publisher_record_id", name="uq_disease_cases_publisher_record"),
        Index("ix_disease_cases_tenant_diagnosed", "tenant_code", "diagnosed_at", "id"),
    )

    category: Mapped[str] = mapped_column(String(48))
    diagnosed_at: Mapped[date] = mapped_column(Date)
    persons: Mapped[int] = mapped_column(Integer, default=1)


class Recognition(_SharedRecord, Base):
    """A work-injury recognition (SPEC SH-1)."""

    __tablename__ = "recognitions"
    __table_args__ = (
        UniqueConstraint("tenant_code", "publisher_record_id", name="uq_recognitions_publisher_record"),
        Index("ix_recognitions_tenant_injured", "tenant_code", "injured_at", "id"),
    )

    injured_at: Mapped[date] = mapped_column(Date)
    recognised_at: Mapped[date] = mapped_column(Date)
    disability_grade: Mapped[int] = mapped_column(Integer, default=0)
    fatal: Mapped[bool] = mapped_column(Boolean, default=False)
    accident: Mapped[str] = mapped_column(String(64), default="")


class HazardReport(_SharedRecord, Base):
    """A reported hidden hazard (SPEC SH-1)."""

    __tablename__ = "hazard_reports"
    __table_args__ = (
        UniqueConstraint("tenant_code", "publisher_record_id", name="uq_hazard_reports_publisher_record"),
        Index("ix_hazard_reports_tenant_reported", "tenant_code", "reported_at", "id"),
    )

    reported_at: Mapped[date] = mapped_column(Date)
    level: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(48))
    description: Mapped[str] = mapped_column(Text, default="")


class Measurement(_SharedRecord, Base):
    """A workplace hazard-factor measurement (SPEC SH-1); ``exceedance`` is computed on write."""

    __tablename__ = "measurements"
    __table_args__ = (
        UniqueConstraint("tenant_code", "publisher_record_id", name="uq_measurements_publisher_record"),
        Index("ix_measurements_tenant_measured", "tenant_code", "measured_at", "id"),
    )

    measured_at: Mapped[date] = mapped_column(Date)
    factor: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    limit_value: Mapped[float] = mapped_column(Float)
    exceedance: Mapped[bool] = mapped_column(Boolean, default=False)
# -- subscribe feed (SH-3) and analytics rollups (SH-8): services/sharing/changes.py ---------------

_BIGINT = BigInteger().with_variant(Integer, "sqlite")


class RecordChange(Base):
    """One publish, correction or void of a shared record, written in the writer's transaction
    (transactional outbox). ``position`` is stamped by the sequencer only after the change is
    committed and visible, gap-free and in stamping order: the feed's cursor (changes.py)."""

    __tablename__ = "record_changes"
    __table_args__ = (Index("ix_record_changes_position", "position", unique=True),)

    id: Mapped[int] = mapped_column(_BIGINT, primary_key=True, autoincrement=True)
    position: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    record_type: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict] = mapped_column(JSON)
    change_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FeedSequencer(Base):
    """The sequencer's one-row head: the last stamped position. Stamping updates it first, which
    serialises sequencers (a row lock on PostgreSQL, the write lock on SQLite)."""

    __tablename__ = "feed_sequencer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(BigInteger)


class AnalyticsRollup(Base):
    """Counts per tenant x GB/T 4754 division x year, kept by the change applier (analytics.py)."""

    __tablename__ = "analytics_rollups"

    tenant_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    industry_code: Mapped[str] = mapped_column(String(3), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    accidents: Mapped[int] = mapped_column(BigInteger, default=0)
    fatalities: Mapped[int] = mapped_column(BigInteger, default=0)
    accident_persons_injured: Mapped[int] = mapped_column(BigInteger, default=0)
    injured_persons: Mapped[int] = mapped_column(BigInteger, default=0)
    disease_cases: Mapped[int] = mapped_column(BigInteger, default=0)
    pneumoconiosis_cases: Mapped[int] = mapped_column(BigInteger, default=0)


class AnalyticsApplied(Base):
    """The applier's inbox: a change id is applied to the rollups once (RELIABILITY D4)."""

    __tablename__ = "analytics_applied"

    change_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class Exposure(Base):
    """Insured persons and hours worked (nullable) per tenant x division x year (SPEC 7.7): the
    denominators of incidence."""

    __tablename__ = "exposure"

    tenant_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    industry_code: Mapped[str] = mapped_column(String(3), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    insured_persons: Mapped[int] = mapped_column(BigInteger)
    hours_worked: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(128))
