"""The session-wide personal-data scan (tests/conftest.py, RELIABILITY A3) finds what it must."""

import logging

from hypothesis import given
from hypothesis import strategies as st

from services.common.validators import citizen_id_check_char
from tests.support.pii_scan import CapturingHandler, leaks


@given(st.from_regex(r"[1-6][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}", fullmatch=True))
def test_scanner_finds_any_valid_citizen_id_in_a_log_line(prefix):
    citizen_id = prefix + citizen_id_check_char(prefix)
    handler = CapturingHandler()
    logger = logging.getLogger("scan-test")
    logger.propagate = False  # keep the planted ID out of the session-wide scan
    logger.addHandler(handler)
    try:
        logger.warning("lookup failed", extra={"value": citizen_id})
    finally:
        logger.removeHandler(handler)
    assert leaks(handler.lines), "the scan must catch an ID in a log extra"


def test_scanner_finds_phones_and_ignores_masked_values():
    assert leaks(['{"message": "call 13912345678"}'])
    assert not leaks(['{"message": "call 139****5678 about 110101********1234"}'])
    assert not leaks(['{"request_id": "4f1d2c3b4a5968778695a4b3c2d1e0f9"}'])
