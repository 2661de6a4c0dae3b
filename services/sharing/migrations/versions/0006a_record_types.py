"""The other SH-1 record types (disease cases, recognitions, hazard reports, measurements), with
row-level security; the exchange log's export reason (RELIABILITY S10).

Revision ID: 0006a_record_types
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from services.common.migrations import disable_tenant_rls, enable_tenant_rls

revision = "0006a_record_types"
down_revision = "0005"
branch_labels = None
depends_on = None

DATE_FIELDS = {"disease_cases": "diagnosed_at", "recognitions": "injured_at", "hazard_reports": "reported_at",
               "measurements": "measured_at"}


def _common() -> list[sa.Column]:
    return [
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("publisher_record_id", sa.String(64), nullable=False),
        sa.Column("publisher_organisation", sa.String(128), nullable=False),
        sa.Column("create_hash", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("employer", sa.String(128), nullable=False),
        sa.Column("industry_code", sa.String(8), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "disease_cases", *_common(),
        sa.Column("category", sa.String(48), nullable=False),
        sa.Column("diagnosed_at", sa.Date(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.UniqueConstraint("tenant_code", "publisher_record_id", name="uq_disease_cases_publisher_record"),
    )
    op.create_table(
        "recognitions", *_common(),
        sa.Column("injured_at", sa.Date(), nullable=False),
        sa.Column("recognised_at", sa.Date(), nullable=False),
        sa.Column("disability_grade", sa.Integer(), nullable=False),
        sa.Column("fatal", sa.Boolean(), nullable=False),
        sa.Column("accident", sa.String(64), nullable=False),
        sa.UniqueConstraint("tenant_code", "publisher_record_id", name="uq_recognitions_publisher_record"),
    )
    op.create_table(
        "hazard_reports", *_common(),
        sa.Column("reported_at", sa.Date(), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("category", sa.String(48), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.UniqueConstraint("tenant_code", "publisher_record_id", name="uq_hazard_reports_publisher_record"),
    )
    op.create_table(
        "measurements", *_common(),
        sa.Column("measured_at", sa.Date(), nullable=False),
        sa.Column("factor", sa.String(32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("limit_value", sa.Float(), nullable=False),
        sa.Column("exceedance", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("tenant_code", "publisher_record_id", name="uq_measurements_publisher_record"),
    )
    for table, day in DATE_FIELDS.items():
        op.create_index(f"ix_{table}_tenant_{day.removesuffix('_at')}", table, ["tenant_code", day, "id"])
        enable_tenant_rls(table)
    op.add_column("exchange_log", sa.Column("reason", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("exchange_log") as batch:
        batch.drop_column("reason")
    for table, day in DATE_FIELDS.items():
        disable_tenant_rls(table)
        op.drop_index(f"ix_{table}_tenant_{day.removesuffix('_at')}", table_name=table)
        op.drop_table(table)
