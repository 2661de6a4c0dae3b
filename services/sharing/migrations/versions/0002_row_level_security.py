"""Row-level security on key industries (PostgreSQL only); the national five are readable by all.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from services.common.migrations import disable_tenant_rls, enable_tenant_rls

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    enable_tenant_rls("key_industries", national_visible=True)


def downgrade() -> None:
    disable_tenant_rls("key_industries")
