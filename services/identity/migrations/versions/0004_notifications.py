"""Notifications: inbox, delivery settings, e-mail/webhook outbox (SPEC 7.8).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from services.common.migrations import disable_tenant_rls, enable_tenant_rls

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("recipient_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sender", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(512), nullable=False),
        sa.Column("create_time", TZ, nullable=False),
        sa.Column("read_time", TZ, nullable=True),
    )
    op.create_index("ix_notifications_recipient_id", "notifications", ["recipient_id", "id"])
    # The recipient's tenant: a second line of defence behind "own inbox only" (PostgreSQL only).
    enable_tenant_rls("notifications")
    op.create_table(
        "notification_settings",
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("email_enabled", sa.Boolean(), nullable=False),
        sa.Column("webhook_url_enc", sa.Text(), nullable=True),
        sa.Column("update_time", TZ, nullable=False),
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("notification_id", sa.String(32), sa.ForeignKey("notifications.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_time", TZ, nullable=False),
        sa.Column("last_error", sa.String(255), nullable=True),
        sa.Column("create_time", TZ, nullable=False),
        sa.Column("sent_time", TZ, nullable=True),
    )
    op.create_index("ix_notification_deliveries_notification_id", "notification_deliveries", ["notification_id"])
    op.create_index("ix_notification_deliveries_due", "notification_deliveries", ["status", "next_attempt_time"])


def downgrade() -> None:
    op.drop_table("notification_deliveries")
    op.drop_table("notification_settings")
    disable_tenant_rls("notifications")
    op.drop_table("notifications")
