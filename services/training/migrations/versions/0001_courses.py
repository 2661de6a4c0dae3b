"""Courses and idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from services.common.idempotency import TABLE_NAME, idempotency_columns

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(TABLE_NAME, *idempotency_columns())
    op.create_table(
        "courses",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("content_category", sa.String(32), nullable=False),
        sa.Column("contact_phone", sa.String(32), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_courses_tenant_created", "courses", ["tenant_code", "create_time", "id"])


def downgrade() -> None:
    op.drop_index("ix_courses_tenant_created", "courses")
    op.drop_table("courses")
    op.drop_table(TABLE_NAME)
