"""Joins the exchange-log branch (0004) and the bulletins/joint-meetings branch (0004b, 0004c),
which were written side by side.

Revision ID: 0005
Revises: 0004, 0004c
Create Date: 2026-11-29
"""

revision = "0005"
down_revision = ("0004", "0004c")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
