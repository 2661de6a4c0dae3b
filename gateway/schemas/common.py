from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from services.common.text import MESSAGE as NUL_MESSAGE
from services.common.text import NUL

# services.common.validators.validate_phone's rule (mainland mobile with optional +86, or a landline
# with area code), stated in the contract.
PHONE = r"^((\+86-?)?1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})?$"


class Strict(BaseModel):
    """Request bodies refuse unknown fields (mass assignment, RELIABILITY S7) and NUL characters
    in any text (services.common.text: PostgreSQL cannot store them)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value):
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and NUL in t for t in texts):
            raise ValueError(NUL_MESSAGE)
        return value
