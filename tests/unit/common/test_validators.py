"""Identifier validators and masking (SPEC 5, ID-2, ID-3, 7.3)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import InvalidArgument
from services.common.validators import (
    CITIZEN_ID_CHECK_CHARS,
    USCC_ALPHABET,
    citizen_id_birth_date,
    citizen_id_check_char,
    industry_division,
    industry_section,
    mask_citizen_id,
    mask_phone,
    uscc_check_char,
    validate_citizen_id,
    validate_industry_code,
    validate_phone,
    validate_uscc,
)


def violation(exc: pytest.ExceptionInfo[InvalidArgument]) -> tuple[str, str]:
    [v] = exc.value.violations
    return v.field, v.description


# -- USCC --------------------------------------------------------------------------------------------

# 91350100M000100Y43, worked by hand (values: digits 0-9, A=10 ... M=21 ... Y=30; I O S V Z absent):
#   chars   9  1  3   5   0  1   0  0   M   0  0  0  1  0  0   Y   4
#   values  9  1  3   5   0  1   0  0  21   0  0  0  1  0  0  30   4
#   weights 1  3  9  27  19 26  16 17  20  29 25 13  8 24 10  30  28
#   products 9+3+27+135+0+26+0+0+420+0+0+0+8+0+0+900+112 = 1640
#   1640 mod 31 = 28 (31 × 52 = 1612); 31 − 28 = 3 → check character "3".
# 91110000600037341L: Σ = 538, 538 mod 31 = 11, 31 − 11 = 20 → "L" (A=10 ... H=17, J=18, K=19, L=20).
VALID_USCCS = ["91350100M000100Y43", "91110000600037341L"]


@pytest.mark.parametrize("code", VALID_USCCS)
def test_known_valid_usccs(code):
    assert uscc_check_char(code[:17]) == code[17]
    assert validate_uscc(code) == code


def test_hand_computed_check_chars():
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert uscc_check_char("91110000600037341") == "L"


def test_uscc_is_normalised():
    assert validate_uscc("  91350100m000100y43 ") == "91350100M000100Y43"
    # full-width characters from a Chinese input method
    assert validate_uscc("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"


@pytest.mark.parametrize(
    "code", ["91350100M000100Y44", "91350100M000100Y4A", "91110000600037341K", "91110000600037341M"]
)
def test_uscc_wrong_check_char(code):
    with pytest.raises(InvalidArgument) as exc:
        validate_uscc(code)
    field, reason = violation(exc)
    assert field == "uscc"
    assert "check character" in reason


@pytest.mark.parametrize("code", ["91350100M000100Y4", "91350100M000100Y433", "9", "91350100M000100Y43" * 2])
def test_uscc_wrong_length(code):
    with pytest.raises(InvalidArgument) as exc:
        validate_uscc(code, field="employer.uscc")
    field, reason = violation(exc)
    assert field == "employer.uscc"
    assert "18 characters" in reason
    assert f"got {len(code)}" in reason


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_uscc_forbidden_letters(letter):
    code = "91350100" + letter + "000100Y43"
    with pytest.raises(InvalidArgument) as exc:
        validate_uscc(code)
    _, reason = violation(exc)
    assert "character 9 is not allowed" in reason
    with pytest.raises(ValueError):
        uscc_check_char(code[:17])


@pytest.mark.parametrize("bad", ["", "   ", None])
def test_uscc_required(bad):
    with pytest.raises(InvalidArgument) as exc:
        validate_uscc(bad)
    assert violation(exc) == ("uscc", "is required")


def test_uscc_reasons_are_distinct():
    reasons = set()
    for code in ["91350100M000100Y4", "91350100I000100Y43", "91350100M000100Y44"]:
        with pytest.raises(InvalidArgument) as exc:
            validate_uscc(code)
        reasons.add(violation(exc)[1])
    assert len(reasons) == 3


def test_uscc_check_char_needs_17():
    with pytest.raises(ValueError):
        uscc_check_char("9135")


uscc_prefixes = st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17)


@given(uscc_prefixes)
def test_uscc_property_only_the_computed_check_char_validates(prefix):
    check = uscc_check_char(prefix)
    assert check in USCC_ALPHABET
    assert validate_uscc(prefix + check) == prefix + check
    assert validate_uscc((prefix + check).lower()) == prefix + check
    for other in USCC_ALPHABET:
        if other == check:
            continue
        with pytest.raises(InvalidArgument) as exc:
            validate_uscc(prefix + other)
        assert "check character" in violation(exc)[1]


@given(uscc_prefixes, st.integers(0, 16), st.sampled_from(USCC_ALPHABET))
def test_uscc_property_single_substitution_is_detected(prefix, position, replacement):
    code = prefix + uscc_check_char(prefix)
    changed = code[:position] + replacement + code[position + 1 :]
    if changed != code:
        # weights are all non-zero mod 31 (prime), so one changed character always changes the sum
        with pytest.raises(InvalidArgument):
            validate_uscc(changed)


# -- citizen ID --------------------------------------------------------------------------------------

VALID_ID = "11010519491231002X"  # Σ = 167, 167 mod 11 = 2 → "X"


def test_known_valid_citizen_id():
    assert citizen_id_check_char(VALID_ID[:17]) == "X"
    assert validate_citizen_id(VALID_ID) == VALID_ID
    assert citizen_id_birth_date(VALID_ID) == date(1949, 12, 31)


def test_lower_case_x_is_normalised():
    assert validate_citizen_id(" 11010519491231002x ") == VALID_ID


def test_wrong_check_char():
    with pytest.raises(InvalidArgument) as exc:
        validate_citizen_id("110105194912310021")
    field, reason = violation(exc)
    assert field == "citizen_id"
    assert "check character" in reason
    assert "110105194912310021" not in str(exc.value)


@pytest.mark.parametrize("value", ["11010519491231002", "1101051949123100212", "110105491231002"])
def test_wrong_length(value):
    with pytest.raises(InvalidArgument) as exc:
        validate_citizen_id(value, field="user.citizen_id")
    field, reason = violation(exc)
    assert field == "user.citizen_id"
    assert "18 characters" in reason
    assert value not in str(exc.value)


def with_check(first17: str) -> str:
    return first17 + citizen_id_check_char(first17)


@pytest.mark.parametrize(
    "birth",
    ["19490230", "19491301", "19490000", "19490132", "20230229", "00000101"],
)
def test_bad_birth_dates(birth):
    value = with_check("110105" + birth + "002")
    with pytest.raises(InvalidArgument) as exc:
        validate_citizen_id(value)
    assert "not a real date" in violation(exc)[1]
    assert value not in str(exc.value)


def test_leap_day_is_a_real_date():
    assert validate_citizen_id(with_check("11010520000229002"))


def test_future_birth_date():
    today = date(2025, 6, 1)
    tomorrow = with_check("110105" + (today + timedelta(days=1)).strftime("%Y%m%d") + "002")
    with pytest.raises(InvalidArgument) as exc:
        validate_citizen_id(tomorrow, today=today)
    assert "in the future" in violation(exc)[1]
    born_today = with_check("110105" + today.strftime("%Y%m%d") + "002")
    assert validate_citizen_id(born_today, today=today) == born_today
    with pytest.raises(InvalidArgument):
        validate_citizen_id(with_check("11010530000101002"))  # the real "today" default


@pytest.mark.parametrize(
    "value", ["1101051949123100AX", "X1010519491231002X", "11010519491231002Y", "１１０１０５１９４９１２３１００２Ａ"]
)
def test_non_digits(value):
    with pytest.raises(InvalidArgument) as exc:
        validate_citizen_id(value)
    _, reason = violation(exc)
    assert "digit" in reason


def test_full_width_digits_are_accepted():
    assert validate_citizen_id("１１０１０５１９４９１２３１００２ｘ") == VALID_ID


@pytest.mark.parametrize("bad", ["", None])
def test_citizen_id_required(bad):
    with pytest.raises(InvalidArgument) as exc:
        validate_citizen_id(bad)
    assert violation(exc) == ("citizen_id", "is required")


def test_citizen_id_check_char_needs_17_digits():
    with pytest.raises(ValueError) as exc:
        citizen_id_check_char("1101051949123100")
    assert "1101051949123100" not in str(exc.value)


birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31))
citizen_prefixes = st.builds(
    lambda region, born, seq: region + born.strftime("%Y%m%d") + seq,
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    birth_dates,
    st.text(alphabet="0123456789", min_size=3, max_size=3),
)


@given(citizen_prefixes)
def test_citizen_id_property_only_the_computed_check_char_validates(prefix):
    check = citizen_id_check_char(prefix)
    assert validate_citizen_id(prefix + check) == prefix + check
    for other in CITIZEN_ID_CHECK_CHARS:
        if other == check:
            continue
        value = prefix + other
        with pytest.raises(InvalidArgument) as exc:
            validate_citizen_id(value)
        assert "check character" in violation(exc)[1]
        assert value not in str(exc.value)


@given(st.text(alphabet="0123456789X", min_size=1, max_size=25))
def test_citizen_id_messages_never_carry_the_value(value):
    try:
        validate_citizen_id(value)
    except InvalidArgument as exc:
        # Fragments under 6 characters identify nobody and can occur by chance (e.g. "11643" of the
        # standard's name in the message); anything longer must never be echoed.
        assert value not in str(exc) or len(value) < 6
        assert value not in exc.violations[0].description or len(value) < 6


# -- masking -----------------------------------------------------------------------------------------


def test_mask_citizen_id():
    assert mask_citizen_id("110101199003071234") == "110101********1234"
    assert mask_citizen_id(" 11010519491231002x") == "110105********002X"
    assert mask_citizen_id("") == ""
    assert mask_citizen_id("12345") == "*****"
    assert mask_citizen_id("110101900307123") == "110101*****7123"  # legacy 15 digits: 5 hidden


@given(citizen_prefixes)
def test_mask_citizen_id_property(prefix):
    value = with_check(prefix)
    masked = mask_citizen_id(value)
    assert len(masked) == 18
    assert masked == value[:6] + "********" + value[-4:]
    assert value[6:14] not in masked[6:14]  # the birth date is hidden


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+8613812345678") == "+86138****5678"
    assert mask_phone("010-12345678") == "010*****5678"
    assert mask_phone("1234567") == "*******"
    assert mask_phone("123") == "***"
    assert mask_phone("") == ""


@given(st.text(alphabet="0123456789", min_size=0, max_size=16))
def test_mask_phone_never_reveals_more_than_7(value):
    masked = mask_phone(value)
    assert len(masked) == len(value)
    assert sum(c != "*" for c in masked) <= min(7, max(0, len(value) - 1))


# -- phone -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("13812345678", "13812345678"),
        ("19912345678", "19912345678"),
        ("+8613812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("010-12345678", "010-12345678"),
        ("0755-1234567", "0755-1234567"),
        ("02112345678", "02112345678"),
    ],
)
def test_valid_phones(value, normalised):
    assert validate_phone(value) == normalised


@pytest.mark.parametrize(
    "value", ["12812345678", "1381234567", "138123456789", "+8712812345678", "110", "10-12345678", "abc"]
)
def test_invalid_phones(value):
    with pytest.raises(InvalidArgument) as exc:
        validate_phone(value, field="contact.phone")
    field, reason = violation(exc)
    assert field == "contact.phone"
    assert "mobile" in reason
    assert value not in str(exc.value)


def test_phone_required():
    with pytest.raises(InvalidArgument) as exc:
        validate_phone(" ")
    assert violation(exc) == ("phone", "is required")


# -- industry codes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["C26", "C261", "C2611", "A01", "B06", "E47", "G54", "T98", "c2611", " k70 "])
def test_valid_industry_codes(code):
    assert validate_industry_code(code) == code.strip().upper()


@pytest.mark.parametrize("code", ["C", "C2", "C26111", "U10", "26", "CC26", "C26A", "C-26"])
def test_malformed_industry_codes(code):
    with pytest.raises(InvalidArgument) as exc:
        validate_industry_code(code)
    field, reason = violation(exc)
    assert field == "industry_code"
    assert "section letter A-T" in reason


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        ("A26", "belongs to section C"),
        ("C01", "belongs to section A"),
        ("T99", "does not exist"),
        ("A00", "does not exist"),
    ],
)
def test_division_must_belong_to_section(code, hint):
    with pytest.raises(InvalidArgument) as exc:
        validate_industry_code(code)
    assert hint in violation(exc)[1]


def test_industry_division_and_section():
    assert industry_division("C2611") == "C26"
    assert industry_division("c261") == "C26"
    assert industry_division("C26") == "C26"
    assert industry_section("B0610") == "B"
    with pytest.raises(InvalidArgument):
        industry_division("X26")
