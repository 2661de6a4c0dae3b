"""Errors as application/problem+json (RFC 9457) with the statuses of SPEC 7.4."""

from __future__ import annotations

import logging

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.context import request_id_var
from services.common.errors import DomainError, FieldViolation, InvalidArgument
from services.common.grpc_errors import HTTP_STATUS, HTTP_STATUS_BY_REASON, RpcFailure, parse_rpc_error

log = logging.getLogger("prevention.gateway")

PROBLEM = "application/problem+json"
RETRY_AFTER_SECONDS = "1"
TITLES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    409: "Conflict", 412: "Precondition Failed", 413: "Content Too Large", 415: "Unsupported Media Type",
    422: "Unprocessable Content", 429: "Too Many Requests", 500: "Internal Server Error",
    501: "Not Implemented", 503: "Service Unavailable", 504: "Gateway Timeout",
}


class Violation(BaseModel):
    field: str
    description: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    reason: str | None = None
    request_id: str | None = None
    violations: list[Violation] = []


def problem_response(
    status: int, detail: str, *, request: Request | None = None, reason: str | None = None,
    violations: list[FieldViolation] | None = None, headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        title=TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=request.url.path if request is not None else None,
        reason=reason,
        request_id=request_id_var.get(),
        violations=[Violation(field=v.field, description=v.description) for v in violations or []],
    )
    headers = dict(headers or {})
    if status in (429, 503):
        headers.setdefault("Retry-After", RETRY_AFTER_SECONDS)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM, headers=headers)


def failure_response(request: Request, failure: RpcFailure) -> JSONResponse:
    return problem_response(
        failure.http_status, failure.message, request=request, reason=failure.reason or failure.code.name,
        violations=failure.violations,
    )


def _location(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        violations = [FieldViolation(_location(tuple(e["loc"])), e["msg"]) for e in exc.errors()]
        return problem_response(400, "invalid request", request=request, reason="INVALID_ARGUMENT",
                                violations=violations)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return problem_response(exc.status_code, str(exc.detail), request=request, headers=exc.headers)

    @app.exception_handler(grpc.aio.AioRpcError)
    async def _rpc(request: Request, exc: grpc.aio.AioRpcError):
        return failure_response(request, parse_rpc_error(exc))

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        code = grpc.StatusCode[exc.code]
        status = HTTP_STATUS_BY_REASON.get(exc.reason) or HTTP_STATUS.get(code, 500)
        violations = exc.violations if isinstance(exc, InvalidArgument) else None
        return problem_response(status, exc.message, request=request, reason=exc.reason, violations=violations)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception):
        log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
        return problem_response(500, "internal error", request=request, reason="INTERNAL")


ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": Problem, "description": TITLES[status], "content": {PROBLEM: {}}}
    for status in (400, 401, 403, 404, 409, 422, 429, 500, 503, 504)
}
