"""Tables of the learning-record store. Statements keep their canonical JSON plus the columns
the xAPI queries filter on; a learner is an xAPI account (SPEC 7.7), never a citizen ID."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.training.models import Base

SEQ_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class LearningStatement(Base):
    __tablename__ = "learning_statements"
    __table_args__ = (
        UniqueConstraint("tenant_code", "statement_id", name="uq_learning_statements_id"),
        Index("ix_learning_statements_stored", "tenant_code", "stored", "seq"),
        Index("ix_learning_statements_verb", "tenant_code", "verb_id"),
        Index("ix_learning_statements_activity", "tenant_code", "activity_id"),
        Index("ix_learning_statements_actor", "tenant_code", "actor_key"),
        Index("ix_learning_statements_voids", "tenant_code", "voids"),
    )

    seq: Mapped[int] = mapped_column(SEQ_TYPE, primary_key=True, autoincrement=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    statement_id: Mapped[str] = mapped_column(String(36))
    stored: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_key: Mapped[str] = mapped_column(String(512))
    verb_id: Mapped[str] = mapped_column(String(1024))
    # The object's activity id ('' when the object is no activity).
    activity_id: Mapped[str] = mapped_column(String(1024))
    registration: Mapped[str] = mapped_column(String(36), default="")
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    # For a voiding statement: the id of the statement it voids.
    voids: Mapped[str] = mapped_column(String(36), default="")
    # The statement a StatementRef object points at (filters match statements that target a match).
    ref_id: Mapped[str] = mapped_column(String(36), default="")
    # Who wrote it: the API client (platform) or the user subject.
    writer: Mapped[str] = mapped_column(String(128))
    # "|key|key|" lists for the agent / related_* filters.
    agent_keys: Mapped[str] = mapped_column(Text)
    related_agent_keys: Mapped[str] = mapped_column(Text)
    related_activity_ids: Mapped[str] = mapped_column(Text)
    # sha256 of the statement as compared for conflicts (xAPI statement comparison).
    content_hash: Mapped[str] = mapped_column(String(64))
    statement_json: Mapped[str] = mapped_column(Text)


class StatementAttachment(Base):
    """An attachment's content lives in object storage, keyed by its sha2 (RELIABILITY D5)."""

    __tablename__ = "learning_statement_attachments"

    tenant_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    sha2: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(255))
    length: Mapped[int] = mapped_column(BigInteger)
    object_key: Mapped[str] = mapped_column(String(255))


class XapiDocument(Base):
    """State, activity profile and agent profile documents."""

    __tablename__ = "xapi_documents"
    __table_args__ = (Index("ix_xapi_documents_scope", "tenant_code", "kind", "scope_hash"),)

    # sha256 of (tenant, kind, activity, agent, registration, document id).
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    kind: Mapped[str] = mapped_column(String(16))
    # sha256 of (tenant, kind, activity, agent, registration): the set a listing or delete-all covers.
    scope_hash: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[str] = mapped_column(String(1024))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(255))
    etag: Mapped[str] = mapped_column(String(64))
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))
