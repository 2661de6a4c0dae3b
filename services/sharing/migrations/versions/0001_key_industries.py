"""Key industries and idempotency keys.

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
        "key_industries",
        sa.Column("tenant_code", sa.String(6), primary_key=True),
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("display_name_en", sa.String(128), nullable=False),
        sa.Column("divisions", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("key_industries")
    op.drop_table(TABLE_NAME)
