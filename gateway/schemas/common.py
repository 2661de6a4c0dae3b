from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Request bodies refuse unknown fields (mass assignment, RELIABILITY S7)."""

    model_config = ConfigDict(extra="forbid")
