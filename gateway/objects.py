"""Serves the local object store's presigned URLs (embedded mode; SPEC 7.5).

``LocalObjectStore.presign_get`` / ``presign_put`` hand out
``{base_url}/objects/{key}?X-Prevention-Method=…&X-Prevention-Expires=…&X-Prevention-Signature=…``;
this router answers them. The signature is the only authorisation: no bearer token is needed, as
with S3 presigned URLs. Failures are problem+json (SPEC 7.4): 403 for a bad or expired signature,
404 for a missing object, 413 for an upload over the presigned size limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import IO

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from gateway.problems import domain_problem
from services.common.errors import (
    DomainError,
    PermissionDenied,
    ResourceExhausted,
)
from services.common.storage import LocalObjectStore

__all__ = ["objects_router"]

_CHUNK = 256 * 1024

# Served bytes are user uploads: never let a browser sniff them into something executable.
_SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "private, no-store",
}


def _verify(store: LocalObjectStore, request: Request, method: str, key: str) -> None:
    params = request.query_params
    if params.get("X-Prevention-Method") != method:
        raise PermissionDenied("presigned URL is not valid for this method", reason="PRESIGNED_URL_INVALID")
    store.verify_presigned(
        method,
        key,
        params.get("X-Prevention-Expires"),
        params.get("X-Prevention-Signature"),
        content_type=request.headers.get("content-type") if method == "PUT" else None,
    )


async def _file_chunks(f: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(f.read, _CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(f.close)


def objects_router(store_getter: Callable[[], LocalObjectStore]) -> APIRouter:
    """GET and PUT ``/objects/{key}`` for URLs presigned by the store ``store_getter()`` returns."""
    router = APIRouter(tags=["objects"])

    @router.get("/objects/{key:path}", include_in_schema=False)
    async def get_object(key: str, request: Request) -> Response:
        store = store_getter()
        try:
            _verify(store, request, "GET", key)
            info, f = await store.open_read(key)
        except DomainError as exc:
            return domain_problem(request, exc, headers=dict(_SAFE_HEADERS))
        return StreamingResponse(
            _file_chunks(f),
            media_type=info.content_type,
            headers={
                **_SAFE_HEADERS,
                "Content-Length": str(info.size),
                "ETag": f'"{info.sha256}"',
                "x-content-sha256": info.sha256,
            },
        )

    @router.put("/objects/{key:path}", include_in_schema=False)
    async def put_object(key: str, request: Request) -> Response:
        store = store_getter()
        try:
            _verify(store, request, "PUT", key)
            declared = request.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > store.max_presigned_size:
                # Refuse before reading; put_stream enforces the limit on the bytes as well.
                raise ResourceExhausted(
                    f"object is larger than the {store.max_presigned_size} byte limit",
                    reason="OBJECT_TOO_LARGE",
                    metadata={"max_size": str(store.max_presigned_size)},
                )
            info = await store.put_stream(key, request.stream(), request.headers.get("content-type", ""))
        except DomainError as exc:
            return domain_problem(request, exc, headers=dict(_SAFE_HEADERS))
        return JSONResponse(
            {"key": info.key, "size": info.size, "content_type": info.content_type, "sha256": info.sha256},
            headers={"ETag": f'"{info.sha256}"'},
        )

    return router
