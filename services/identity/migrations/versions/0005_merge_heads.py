"""Joins the notifications branch (0004) and the login-flow/RLS branch (0004a, 0004b), which
were written side by side.

Revision ID: 0005
Revises: 0004, 0004b
Create Date: 2026-11-29
"""

revision = "0005"
down_revision = ("0004", "0004b")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
