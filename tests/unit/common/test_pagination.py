import pytest

from services.common.errors import InvalidArgument
from services.common.pagination import (
    MAX_PAGE_SIZE,
    clamp_page_size,
    decode_page_token,
    encode_page_token,
)


def test_page_size_default_clamp_and_negative():
    assert clamp_page_size(0) == 50
    assert clamp_page_size(7) == 7
    assert clamp_page_size(10**6) == MAX_PAGE_SIZE
    with pytest.raises(InvalidArgument) as info:
        clamp_page_size(-1)
    assert info.value.violations[0].field == "page_size"


def test_token_roundtrip_and_binding_to_query():
    token = encode_page_token(["2026-01-01", "abc"], {"parent": "110000"})
    assert decode_page_token(token, {"parent": "110000"}, shape=(str, str)) == ["2026-01-01", "abc"]
    with pytest.raises(InvalidArgument, match="page_token"):
        decode_page_token(token, {"parent": "110000"})  # the default shape is one string
    assert decode_page_token("", {"parent": "x"}) is None
    with pytest.raises(InvalidArgument, match="page_token"):
        decode_page_token(token, {"parent": "120000"})


@pytest.mark.parametrize("token", ["!!!", "e30", "bm90IGpzb24", "eyJrIjogMX0"])
def test_malformed_tokens_are_invalid(token):
    with pytest.raises(InvalidArgument) as info:
        decode_page_token(token)
    assert info.value.violations[0].field == "page_token"
