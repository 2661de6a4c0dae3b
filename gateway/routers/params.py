"""Query and header parameters shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Query

from services.common.pagination import clamp_page_size

PageSize = Annotated[
    int, Query(alias="page_size", ge=0, description="0 = default; values above the maximum are clamped")
]
PageToken = Annotated[str, Query(max_length=2048, description="Opaque token from next_page_token")]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=128, description="A retried POST with the same key applies once"),
]


def page_size(value: int) -> int:
    return clamp_page_size(min(value, 2**31 - 1))
