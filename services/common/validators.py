"""Validators for the platform's identifiers (SPEC 5, ID-2, ID-3): pure functions, no I/O.

* ``validate_uscc`` — Unified Social Credit Code, GB 32100-2015 (18 characters, check character).
* ``validate_citizen_id`` — resident identity number, GB 11643-1999 (17 digits + check, birth date).
* ``validate_phone`` — mainland mobile (optionally ``+86``) or landline numbers.
* ``validate_industry_code`` — GB/T 4754-2017 section letter + division / group / class digits.
* ``mask_citizen_id`` / ``mask_phone`` — the masked forms shown to everyone but the few who may see
  personal data in clear (SPEC 7.3, NF-8).

Every ``validate_*`` returns the normalised value (Unicode NFKC — so full-width digits typed with a
Chinese input method are accepted — stripped and upper-cased) or raises
``services.common.errors.InvalidArgument`` naming the field and a reason. Messages about personal
data (citizen ID, phone) never contain the value or any character of it: they reach logs and clients.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from services.common.clock import CST
from services.common.errors import InvalidArgument

__all__ = [
    "CITIZEN_ID_CHECK_CHARS",
    "CITIZEN_ID_WEIGHTS",
    "INDUSTRY_SECTIONS",
    "USCC_ALPHABET",
    "USCC_WEIGHTS",
    "citizen_id_birth_date",
    "citizen_id_check_char",
    "industry_division",
    "industry_section",
    "mask_citizen_id",
    "mask_phone",
    "uscc_check_char",
    "validate_citizen_id",
    "validate_industry_code",
    "validate_phone",
    "validate_uscc",
]

# -- USCC (GB 32100-2015) ------------------------------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}


def _normalise(value: object) -> str:
    if not isinstance(value, str):
        return ""
    return unicodedata.normalize("NFKC", value).strip().upper()


def uscc_check_char(first17: str) -> str:
    """The check character (18th) for the first 17 characters of a USCC.

    check = 31 − (Σ value(cᵢ) × wᵢ mod 31), and 31 maps to 0; the result is the alphabet character
    with that value. Raises ``ValueError`` if ``first17`` is not 17 characters of the USCC alphabet.
    """
    prefix = first17.upper()
    if len(prefix) != 17:
        raise ValueError("a USCC check character needs exactly 17 characters")
    try:
        total = sum(_USCC_VALUE[c] * w for c, w in zip(prefix, USCC_WEIGHTS, strict=True))
    except KeyError:
        raise ValueError("a USCC may only use the characters " + USCC_ALPHABET) from None
    check = 31 - total % 31
    return USCC_ALPHABET[0 if check == 31 else check]


def validate_uscc(value: str, field: str = "uscc") -> str:
    """Validate a Unified Social Credit Code; return it normalised (stripped, upper-case)."""
    code = _normalise(value)
    if not code:
        raise InvalidArgument.field(field, "is required")
    if len(code) != 18:
        raise InvalidArgument.field(field, f"must be 18 characters (GB 32100-2015), got {len(code)}")
    for position, char in enumerate(code, start=1):
        if char not in _USCC_VALUE:
            raise InvalidArgument.field(
                field,
                f"character {position} is not allowed: a USCC uses only digits and the letters "
                "A-Z without I, O, S, V and Z",
            )
    if uscc_check_char(code[:17]) != code[17]:
        raise InvalidArgument.field(field, "check character (18th) is wrong: not a valid USCC (GB 32100-2015)")
    return code


# -- citizen ID (GB 11643-1999) ------------------------------------------------------------------------

CITIZEN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CITIZEN_ID_CHECK_CHARS = "10X98765432"  # indexed by Σ mod 11
_DIGITS17 = re.compile(r"[0-9]{17}")


def citizen_id_check_char(first17: str) -> str:
    """The check character (``0``-``9`` or ``X``) for the first 17 digits of a citizen ID.

    Raises ``ValueError`` (without the value) if ``first17`` is not exactly 17 ASCII digits.
    """
    if not _DIGITS17.fullmatch(first17):
        raise ValueError("a citizen ID check character needs exactly 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, CITIZEN_ID_WEIGHTS, strict=True))
    return CITIZEN_ID_CHECK_CHARS[total % 11]


def citizen_id_birth_date(value: str) -> date | None:
    """The birth date in positions 7–14 (YYYYMMDD) of a citizen ID, or None if it is not a real date."""
    digits = _normalise(value)[6:14]
    if len(digits) != 8 or not digits.isascii() or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def validate_citizen_id(value: str, field: str = "citizen_id", *, today: date | None = None) -> str:
    """Validate an 18-character resident identity number; return it normalised (``x`` → ``X``).

    Checks the length, 17 digits + a digit or ``X``, the birth date (a real date, not after
    ``today`` — default: the current date in China Standard Time) and the check character.
    """
    number = _normalise(value)
    if not number:
        raise InvalidArgument.field(field, "is required")
    if len(number) != 18:
        raise InvalidArgument.field(field, f"must be 18 characters (GB 11643-1999), got {len(number)}")
    if not _DIGITS17.fullmatch(number[:17]):
        raise InvalidArgument.field(field, "the first 17 characters must be digits")
    if not (number[17].isascii() and (number[17].isdigit() or number[17] == "X")):
        raise InvalidArgument.field(field, "the 18th character must be a digit or X")
    born = citizen_id_birth_date(number)
    if born is None:
        raise InvalidArgument.field(field, "birth date (characters 7-14) is not a real date")
    if today is None:
        today = datetime.now(CST).date()
    if born > today:
        raise InvalidArgument.field(field, "birth date (characters 7-14) is in the future")
    if citizen_id_check_char(number[:17]) != number[17]:
        raise InvalidArgument.field(field, "check character (18th) is wrong: not a valid citizen ID (GB 11643-1999)")
    return number


def mask_citizen_id(value: str) -> str:
    """``110101199003071234`` → ``110101********1234`` (first 6, 8 stars, last 4).

    Other lengths keep the first 6 and last 4 only when at least 5 characters stay hidden (one
    star per hidden character); shorter values are all stars. Empty → empty.
    """
    v = _normalise(value)
    n = len(v)
    if n >= 15:
        return v[:6] + "*" * (n - 10) + v[-4:]
    return "*" * n


# -- phone numbers ---------------------------------------------------------------------------------------

_MOBILE = re.compile(r"(?:\+86-?)?(1[3-9][0-9]{9})")
_LANDLINE = re.compile(r"0[0-9]{2,3}-?[0-9]{7,8}")


def validate_phone(value: str, field: str = "phone") -> str:
    """Validate a mainland phone number; return it normalised.

    Mobile ``1[3-9]\\d{9}`` with an optional ``+86`` prefix → the bare 11 digits; landline
    ``0\\d{2,3}-?\\d{7,8}`` → as given. Spaces are ignored.
    """
    phone = re.sub(r"\s+", "", _normalise(value))
    if not phone:
        raise InvalidArgument.field(field, "is required")
    if m := _MOBILE.fullmatch(phone):
        return m.group(1)
    if _LANDLINE.fullmatch(phone):
        return phone
    raise InvalidArgument.field(
        field,
        "must be a mainland mobile number (11 digits starting 13-19, optionally +86) "
        "or a landline number with area code (0XX-XXXXXXXX)",
    )


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``: first 3, a star per hidden character, last 4.

    A ``+86`` prefix is kept and the rest masked; values of 7 characters or fewer are all stars.
    """
    v = re.sub(r"\s+", "", _normalise(value))
    prefix = ""
    if v.startswith("+86"):
        prefix, v = "+86", v[3:].lstrip("-")
    n = len(v)
    if n <= 7:
        return prefix + "*" * n
    return prefix + v[:3] + "*" * (n - 7) + v[-4:]


# -- industry codes (GB/T 4754-2017) --------------------------------------------------------------------

# Section letter → the range of two-digit divisions it holds (GB/T 4754-2017).
INDUSTRY_SECTIONS: dict[str, tuple[int, int]] = {
    "A": (1, 5),  # agriculture, forestry, animal husbandry and fishery
    "B": (6, 12),  # mining
    "C": (13, 43),  # manufacturing
    "D": (44, 46),  # electricity, heat, gas and water
    "E": (47, 50),  # construction
    "F": (51, 52),  # wholesale and retail
    "G": (53, 60),  # transport, storage and postal services
    "H": (61, 62),  # accommodation and catering
    "I": (63, 65),  # information transmission, software and IT services
    "J": (66, 69),  # finance
    "K": (70, 70),  # real estate
    "L": (71, 72),  # leasing and business services
    "M": (73, 75),  # scientific research and technical services
    "N": (76, 79),  # water conservancy, environment and public facilities
    "O": (80, 82),  # resident services, repair and other services
    "P": (83, 83),  # education
    "Q": (84, 85),  # health and social work
    "R": (86, 90),  # culture, sports and entertainment
    "S": (91, 97),  # public administration, social security and social organisations
    "T": (98, 98),  # international organisations
}
_INDUSTRY = re.compile(r"([A-T])([0-9]{2})([0-9]{0,2})")


def validate_industry_code(value: str, field: str = "industry_code") -> str:
    """Validate a GB/T 4754-2017 code: section letter + 2 (division), 3 (group) or 4 (class) digits.

    The division must belong to the section (``C26`` is valid, ``A26`` is not). Returns upper-case.
    """
    code = _normalise(value)
    if not code:
        raise InvalidArgument.field(field, "is required")
    m = _INDUSTRY.fullmatch(code)
    if not m:
        raise InvalidArgument.field(
            field,
            "must be a GB/T 4754-2017 code: a section letter A-T followed by 2, 3 or 4 digits (e.g. C26, C2611)",
        )
    section, division = m.group(1), int(m.group(2))
    low, high = INDUSTRY_SECTIONS[section]
    if not low <= division <= high:
        owner = next((s for s, (lo, hi) in INDUSTRY_SECTIONS.items() if lo <= division <= hi), None)
        hint = f"belongs to section {owner}" if owner else "does not exist"
        raise InvalidArgument.field(field, f"division {m.group(2)} {hint}, not section {section} (GB/T 4754-2017)")
    return code


def industry_division(code: str) -> str:
    """The division of a valid industry code: ``C2611`` → ``C26``."""
    return validate_industry_code(code)[:3]


def industry_section(code: str) -> str:
    """The section letter of a valid industry code: ``C2611`` → ``C``."""
    return validate_industry_code(code)[0]
