"""Bulletins and their acknowledgements by province (SPEC SH-7), with row-level security.

Branches from 0003 alongside 0004 (another slice); `prevention migrate` upgrades all heads.

Revision ID: 0004b
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from services.common.migrations import disable_tenant_rls, enable_tenant_rls

revision = "0004b"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulletins",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.Date(), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("industry_code", sa.String(8), nullable=False),
        sa.Column("accident_type", sa.String(48), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("fatalities", sa.Integer(), nullable=False),
        sa.Column("persons_injured", sa.Integer(), nullable=False),
        sa.Column("publish_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_bulletins_publish_time", "bulletins", ["publish_time", "id"])
    op.create_table(
        "bulletin_acknowledgements",
        sa.Column("bulletin_id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), primary_key=True),
        sa.Column("acknowledge_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(128), nullable=False),
    )
    # Bulletins are national (tenant 100000): readable by every tenant, written by the ministry.
    enable_tenant_rls("bulletins", national_visible=True)
    # A province reads and writes its own acknowledgements; the ministry reads them all.
    enable_tenant_rls("bulletin_acknowledgements")


def downgrade() -> None:
    disable_tenant_rls("bulletin_acknowledgements")
    disable_tenant_rls("bulletins")
    op.drop_table("bulletin_acknowledgements")
    op.drop_index("ix_bulletins_publish_time", table_name="bulletins")
    op.drop_table("bulletins")
