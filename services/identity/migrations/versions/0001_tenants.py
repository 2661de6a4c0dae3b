"""Tenant tree and idempotency keys.

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
        "tenants",
        sa.Column("code", sa.String(6), primary_key=True),
        sa.Column("parent_code", sa.String(6), nullable=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("display_name_en", sa.String(64), nullable=False),
    )
    op.create_index("ix_tenants_parent_code", "tenants", ["parent_code"])


def downgrade() -> None:
    op.drop_index("ix_tenants_parent_code", "tenants")
    op.drop_table("tenants")
    op.drop_table(TABLE_NAME)
