"""Rate runs are listed newest first per pooling region (ListRateRuns): an index serves it.

Revision ID: 0003_rate_runs_listed
Revises: 0002_assessment_core
Create Date: 2026-11-29
"""

from alembic import op

revision = "0003_rate_runs_listed"
down_revision = "0002_assessment_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_rate_runs_tenant_code_create_time", "rate_runs", ["tenant_code", "create_time", "id"])


def downgrade() -> None:
    op.drop_index("ix_rate_runs_tenant_code_create_time", table_name="rate_runs")
