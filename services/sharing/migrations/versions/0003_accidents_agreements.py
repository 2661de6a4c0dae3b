"""Accident records and sharing agreements (SPEC SH-1, SH-2), with row-level security.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from services.common.migrations import disable_tenant_rls, enable_tenant_rls

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accidents",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("publisher_record_id", sa.String(64), nullable=False),
        sa.Column("publisher_organisation", sa.String(128), nullable=False),
        sa.Column("create_hash", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("occurred_at", sa.Date(), nullable=False),
        sa.Column("employer", sa.String(128), nullable=False),
        sa.Column("industry_code", sa.String(8), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("accident_type", sa.String(48), nullable=False),
        sa.Column("persons_injured", sa.Integer(), nullable=False),
        sa.Column("fatalities", sa.Integer(), nullable=False),
        sa.Column("days_lost", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.UniqueConstraint("tenant_code", "publisher_record_id", name="uq_accidents_publisher_record"),
    )
    op.create_index("ix_accidents_tenant_occurred", "accidents", ["tenant_code", "occurred_at", "id"])
    op.create_table(
        "sharing_agreements",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("provider_organisation", sa.String(128), nullable=False),
        sa.Column("consumer_organisation", sa.String(128), nullable=False),
        sa.Column("record_type", sa.String(32), nullable=False),
        sa.Column("granted_fields", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_sharing_agreements_consumer", "sharing_agreements", ["consumer_organisation", "record_type"])
    enable_tenant_rls("accidents")
    # National agreements (made by the ministry) apply in every tenant: readable by all.
    enable_tenant_rls("sharing_agreements", national_visible=True)


def downgrade() -> None:
    disable_tenant_rls("sharing_agreements")
    disable_tenant_rls("accidents")
    op.drop_index("ix_sharing_agreements_consumer", table_name="sharing_agreements")
    op.drop_table("sharing_agreements")
    op.drop_index("ix_accidents_tenant_occurred", table_name="accidents")
    op.drop_table("accidents")
