"""Rectification notices (SPEC SH-5) and joint inspections (SH-6), with row-level security.

Revision ID: 0006c_rectification
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from services.common.migrations import disable_tenant_rls, enable_tenant_rls

revision = "0006c_rectification"
down_revision = "0005"  # the head 0005_merge_heads.py; its revision id is "0005"
branch_labels = None
depends_on = None

TABLES = ("rectification_notices", "rectification_transitions", "rectification_evidence",
          "rectification_dispatches", "joint_inspections")


def _times(*names: str) -> list[sa.Column]:
    return [sa.Column(n, sa.DateTime(timezone=True), nullable=False) for n in names]


def upgrade() -> None:
    op.create_table(
        "rectification_notices",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("employer", sa.String(128), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("source_type", sa.String(32), nullable=False),
        sa.Column("required_action", sa.Text(), nullable=False),
        sa.Column("deadline_date", sa.Date(), nullable=False),
        sa.Column("due_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("law", sa.String(48), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("issuing_organisation", sa.String(128), nullable=False),
        sa.Column("issued_by", sa.String(128), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("enforcement_referral", sa.Text(), nullable=False),
        *_times("create_time", "update_time"),
        sa.UniqueConstraint("tenant_code", "source", "employer", name="uq_rectification_notices_source"),
    )
    op.create_index("ix_rectification_notices_tenant_create", "rectification_notices",
                    ["tenant_code", "create_time", "id"])
    op.create_index("ix_rectification_notices_state_due", "rectification_notices", ["state", "due_time"])
    op.create_table(
        "rectification_transitions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("notice_id", sa.String(32), nullable=False),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_rectification_transitions_notice", "rectification_transitions", ["notice_id", "time"])
    op.create_table(
        "rectification_evidence",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("notice_id", sa.String(32), nullable=False),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("object_key", sa.String(255), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("attached", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by", sa.String(128), nullable=False),
        *_times("create_time"),
    )
    op.create_index("ix_rectification_evidence_notice", "rectification_evidence", ["notice_id", "create_time"])
    op.create_table(
        "rectification_dispatches",
        sa.Column("notice_id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("claim_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
    )
    op.create_index("ix_rectification_dispatches_unsent", "rectification_dispatches", ["sent_time"])
    op.create_table(
        "joint_inspections",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("inspection_date", sa.Date(), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("employers", sa.JSON(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        *_times("create_time", "update_time"),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_joint_inspections_tenant_date", "joint_inspections", ["tenant_code", "inspection_date", "id"])
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    op.drop_table("joint_inspections")
    op.drop_table("rectification_dispatches")
    op.drop_table("rectification_evidence")
    op.drop_table("rectification_transitions")
    op.drop_table("rectification_notices")
