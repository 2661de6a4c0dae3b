"""Tenant-subtree filters for queries (SPEC 3: every query is scoped by the caller's subtree)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, true

from services.common.context import Caller, subtree_prefix


def visible_to(column, caller: Caller) -> ColumnElement[bool]:
    """SQL condition: the row's tenant code lies in the caller's subtree (ministry: everything)."""
    if caller.is_ministry:
        return true()
    prefix = subtree_prefix(caller.tenant)
    return true() if not prefix else column.startswith(prefix, autoescape=True)
