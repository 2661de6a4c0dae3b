"""Joint meetings (SPEC SH-6), with row-level security.

Revision ID: 0004c
Revises: 0004b
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from services.common.migrations import disable_tenant_rls, enable_tenant_rls

revision = "0004c"
down_revision = "0004b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "joint_meetings",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=False),
        sa.Column("action_items", sa.JSON(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_joint_meetings_tenant_date", "joint_meetings", ["tenant_code", "meeting_date", "id"])
    enable_tenant_rls("joint_meetings")


def downgrade() -> None:
    disable_tenant_rls("joint_meetings")
    op.drop_index("ix_joint_meetings_tenant_date", table_name="joint_meetings")
    op.drop_table("joint_meetings")
