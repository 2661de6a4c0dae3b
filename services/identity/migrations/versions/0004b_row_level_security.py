"""Row-level security on the identity service's tenant tables (PostgreSQL only).

Revision ID: 0004b
Revises: 0004a
Create Date: 2026-11-29
"""

from services.common.migrations import disable_tenant_rls, enable_tenant_rls

revision = "0004b"
down_revision = "0004a"
branch_labels = None
depends_on = None

TABLES = ("users", "api_clients", "audit_events", "organisations")


def upgrade() -> None:
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
