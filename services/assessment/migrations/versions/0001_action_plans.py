"""Action-plan cycles and idempotency keys.

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
        "action_plans",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("baseline_year", sa.Integer(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("implementation_plan_due", sa.Date(), nullable=False),
        sa.Column("annual_report_due", sa.String(5), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("action_plans")
    op.drop_table(TABLE_NAME)
