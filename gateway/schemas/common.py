from __future__ import annotations

from pydantic import BaseModel, ConfigDict

# services.common.validators.validate_phone's rule (mainland mobile with optional +86, or a landline
# with area code), stated in the contract.
PHONE = r"^((\+86-?)?1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})?$"


class Strict(BaseModel):
    """Request bodies refuse unknown fields (mass assignment, RELIABILITY S7)."""

    model_config = ConfigDict(extra="forbid")
