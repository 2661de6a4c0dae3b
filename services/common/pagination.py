"""Opaque keyset page tokens (AIP-158) and page-size clamping (SPEC 7.4)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime

from sqlalchemy import Select, tuple_

from services.common.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def clamp_page_size(page_size: int, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    """0 means the default; above the maximum is clamped, not refused; negative is invalid."""
    if page_size < 0:
        raise InvalidArgument.field("page_size", "must not be negative")
    if page_size == 0:
        return default
    return min(page_size, maximum)


def _query_hash(query: dict) -> str:
    return hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode_page_token(last_key: list, query: dict | None = None) -> str:
    """The token carries the last row's sort key and a hash of the query it belongs to."""
    raw = json.dumps({"k": last_key, "q": _query_hash(query or {})}, default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str, query: dict | None = None, *, shape: tuple[type, ...] = (str,)) -> list | None:
    """Returns the last key, None for an empty token; a foreign or malformed token is invalid.
    ``shape`` is the types of the key's parts: tokens are opaque to clients but not signed, so a
    hand-made one must fail here (400), never deeper in a query (500)."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        key, qhash = data["k"], data["q"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidArgument.field("page_token", "is malformed") from None
    if not isinstance(key, list) or qhash != _query_hash(query or {}):
        raise InvalidArgument.field("page_token", "does not belong to this query") from None
    if len(key) != len(shape) or not all(type(part) is kind for part, kind in zip(key, shape, strict=True)):
        raise InvalidArgument.field("page_token", "is malformed")
    return key


def newest_first(query: Select, time_column, id_column, after: tuple[str, str] | None, limit: int) -> Select:
    """A keyset page newest first on (time, id): at most ``limit`` rows after ``after``, the last
    row's key from a page token (its time as ISO 8601). A time that does not parse is INVALID_ARGUMENT."""
    if after is not None:
        try:
            after_time = datetime.fromisoformat(after[0])
        except (TypeError, ValueError):
            raise InvalidArgument.field("page_token", "is malformed") from None
        query = query.where(tuple_(time_column, id_column) < tuple_(after_time, after[1]))
    return query.order_by(time_column.desc(), id_column.desc()).limit(limit)


def newest_first_after(token: str, query: dict | None = None) -> tuple[str, str] | None:
    """The (time, id) key a newest-first page token carries; None for the first page."""
    after = decode_page_token(token, query, shape=(str, str))
    return (after[0], after[1]) if after else None


def newest_first_token(rows: list, size: int, query: dict | None = None) -> str:
    """The next page's token for ``rows`` fetched with ``limit=size + 1`` (empty on the last page)."""
    if len(rows) <= size:
        return ""
    last = rows[size - 1]
    return encode_page_token([last.create_time.isoformat(), last.id], query)
