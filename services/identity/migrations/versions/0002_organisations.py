"""Organisations and employers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("department_type", sa.String(32), nullable=True),
        sa.Column("sector", sa.String(64), nullable=True),
        sa.Column("uscc", sa.String(18), nullable=True),
        sa.Column("industry_code", sa.String(5), nullable=True),
        sa.Column("risk_class", sa.Integer, nullable=True),
        sa.Column("headcount", sa.Integer, nullable=True),
        sa.Column("insured_headcount", sa.Integer, nullable=True),
        sa.Column("pooling_region_code", sa.String(6), nullable=True),
        sa.Column("contact_name_enc", sa.Text, nullable=True),
        sa.Column("contact_phone_enc", sa.Text, nullable=True),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("uscc", name="uq_organisations_uscc"),
    )
    op.create_index("ix_organisations_tenant_created", "organisations", ["tenant_code", "create_time", "id"])
    op.create_index("ix_organisations_created", "organisations", ["create_time", "id"])


def downgrade() -> None:
    op.drop_index("ix_organisations_created", "organisations")
    op.drop_index("ix_organisations_tenant_created", "organisations")
    op.drop_table("organisations")
