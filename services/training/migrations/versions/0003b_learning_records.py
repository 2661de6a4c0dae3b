"""Learning-record store: xAPI statements, attachments, documents (issue 5, TR-3).

Revision ID: 0003b_learning_records
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from services.common.migrations import disable_tenant_rls, enable_tenant_rls

revision = "0003b_learning_records"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("learning_statements", "learning_statement_attachments", "xapi_documents")


def upgrade() -> None:
    op.create_table(
        "learning_statements",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("statement_id", sa.String(36), nullable=False),
        sa.Column("stored", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_key", sa.String(512), nullable=False),
        sa.Column("verb_id", sa.String(1024), nullable=False),
        sa.Column("activity_id", sa.String(1024), nullable=False),
        sa.Column("registration", sa.String(36), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("voids", sa.String(36), nullable=False),
        sa.Column("ref_id", sa.String(36), nullable=False),
        sa.Column("writer", sa.String(128), nullable=False),
        sa.Column("agent_keys", sa.Text(), nullable=False),
        sa.Column("related_agent_keys", sa.Text(), nullable=False),
        sa.Column("related_activity_ids", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("statement_json", sa.Text(), nullable=False),
        sa.UniqueConstraint("tenant_code", "statement_id", name="uq_learning_statements_id"),
    )
    for name, columns in (("stored", ["tenant_code", "stored", "seq"]), ("verb", ["tenant_code", "verb_id"]),
                          ("activity", ["tenant_code", "activity_id"]), ("actor", ["tenant_code", "actor_key"]),
                          ("voids", ["tenant_code", "voids"]), ("ref", ["tenant_code", "ref_id"])):
        op.create_index(f"ix_learning_statements_{name}", "learning_statements", columns)
    op.create_table(
        "learning_statement_attachments",
        sa.Column("tenant_code", sa.String(6), primary_key=True),
        sa.Column("sha2", sa.String(64), primary_key=True),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("object_key", sa.String(255), nullable=False),
    )
    op.create_table(
        "xapi_documents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("scope_hash", sa.String(64), nullable=False),
        sa.Column("document_id", sa.String(1024), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_xapi_documents_scope", "xapi_documents", ["tenant_code", "kind", "scope_hash"])
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    op.drop_table("xapi_documents")
    op.drop_table("learning_statement_attachments")
    op.drop_table("learning_statements")
