"""Subscribe feed (SH-3) and analytics (SH-8): record changes (outbox) with the sequencer head,
analytics rollups with the applier's inbox, and exposure data; row-level security on the tenant
tables.

Revision ID: 0006b_feed_analytics
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from services.common.migrations import disable_tenant_rls, enable_tenant_rls

revision = "0006b_feed_analytics"
down_revision = "0005"
branch_labels = None
depends_on = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_COUNTS = ("accidents", "fatalities", "accident_persons_injured", "injured_persons", "disease_cases",
           "pneumoconiosis_cases")


def upgrade() -> None:
    op.create_table(
        "record_changes",
        sa.Column("id", _BIGINT, primary_key=True, autoincrement=True),
        sa.Column("position", sa.BigInteger(), nullable=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("record_type", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("record_id", sa.String(32), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("change_time", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_record_changes_position", "record_changes", ["position"], unique=True)
    enable_tenant_rls("record_changes")
    feed_sequencer = op.create_table(
        "feed_sequencer",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(feed_sequencer, [{"id": 1, "position": 0}])
    op.create_table(
        "analytics_rollups",
        sa.Column("tenant_code", sa.String(6), primary_key=True),
        sa.Column("industry_code", sa.String(3), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False, server_default="0") for name in _COUNTS),
    )
    enable_tenant_rls("analytics_rollups")
    op.create_table(
        "analytics_applied",
        sa.Column("change_id", sa.BigInteger(), primary_key=True, autoincrement=False),
    )
    op.create_table(
        "exposure",
        sa.Column("tenant_code", sa.String(6), primary_key=True),
        sa.Column("industry_code", sa.String(3), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("insured_persons", sa.BigInteger(), nullable=False),
        sa.Column("hours_worked", sa.BigInteger(), nullable=True),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    enable_tenant_rls("exposure")


def downgrade() -> None:
    for table in ("exposure", "analytics_rollups", "record_changes"):
        disable_tenant_rls(table)
    op.drop_table("exposure")
    op.drop_table("analytics_applied")
    op.drop_table("analytics_rollups")
    op.drop_table("feed_sequencer")
    op.drop_index("ix_record_changes_position", table_name="record_changes")
    op.drop_table("record_changes")
