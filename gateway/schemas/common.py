from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from services.common.text import MESSAGE as NUL_MESSAGE
from services.common.text import NUL

# services.common.validators.validate_phone's rule (mainland mobile with optional +86, or a landline
# with area code), stated in the contract.
PHONE = r"^((\+86-?)?1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})?$"

# Text the services strip (Python's str.strip) and refuse when nothing is left must hold a character
# that is not whitespace to Python, a wider set than JSON Schema's (ECMAScript) \S: U+001C..U+001F
# and U+0085 are whitespace to Python only. Found by schemathesis (RELIABILITY S15).
NOT_BLANK = r"[^\t-\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


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
