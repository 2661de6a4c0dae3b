"""Errors as application/problem+json (RFC 9457) with the statuses of SPEC 7.4."""

from __future__ import annotations

import logging

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from gateway.middleware import REQUEST_ID_HEADER, REQUEST_ID_SCOPE_KEY
from services.common.context import request_id_var
from services.common.errors import DomainError, FieldViolation, InvalidArgument
from services.common.grpc_errors import HTTP_STATUS, HTTP_STATUS_BY_REASON, RpcFailure, parse_rpc_error

log = logging.getLogger("prevention.gateway")

PROBLEM = "application/problem+json"
INTERNAL_DETAIL = "internal error"
AUTH_REALM = "prevention"
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


def _request_id(request: Request | None) -> str | None:
    # Unhandled exceptions are answered by Starlette's outermost middleware, after the request
    # context middleware has returned: the id is then only in the scope.
    return request_id_var.get() or (request.scope.get(REQUEST_ID_SCOPE_KEY) if request is not None else None)


def problem_response(
    status: int, detail: str, *, request: Request | None = None, reason: str | None = None,
    violations: list[FieldViolation] | None = None, headers: dict[str, str] | None = None,
) -> JSONResponse:
    request_id = _request_id(request)
    body = Problem(
        title=TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=request.url.path if request is not None else None,
        reason=reason,
        request_id=request_id,
        violations=[Violation(field=v.field, description=v.description) for v in violations or []],
    )
    headers = dict(headers or {})
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    if status in (429, 503):
        headers.setdefault("Retry-After", RETRY_AFTER_SECONDS)
    if status == 401:  # RFC 6750 section 3
        error = "" if reason in (None, "MISSING_TOKEN") else ', error="invalid_token"'
        headers.setdefault("WWW-Authenticate", f'Bearer realm="{AUTH_REALM}"{error}')
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM, headers=headers)


def failure_response(request: Request, failure: RpcFailure) -> JSONResponse:
    if failure.http_status == 500:  # INTERNAL, UNKNOWN, DATA_LOSS...: nothing of it leaves the platform
        log.error("backend failure", extra={"path": request.url.path, "rpc_status": failure.code.name})
        return problem_response(500, INTERNAL_DETAIL, request=request, reason="INTERNAL")
    return problem_response(
        failure.http_status, failure.message, request=request, reason=failure.reason or failure.code.name,
        violations=failure.violations,
    )


def _location(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path. Starlette's own 405 names only the methods
    of the first route whose path matched, and the API serves GET and POST of one path from
    two routes (RFC 9110 section 15.5.6: Allow lists all of them)."""
    routes = request.app.router.routes
    return ", ".join(
        method for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    )


def domain_problem(request: Request, exc: DomainError, headers: dict[str, str] | None = None) -> JSONResponse:
    """A domain error raised in the gateway itself, with the status SPEC 7.4 gives its code/reason."""
    status = HTTP_STATUS_BY_REASON.get(exc.reason) or HTTP_STATUS.get(grpc.StatusCode[exc.code], 500)
    if status == 500:
        log.error("internal domain error", exc_info=exc, extra={"path": request.url.path})
        return problem_response(500, INTERNAL_DETAIL, request=request, reason="INTERNAL", headers=headers)
    violations = exc.violations if isinstance(exc, InvalidArgument) else None
    return problem_response(status, exc.message, request=request, reason=exc.reason, violations=violations,
                            headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        violations = [FieldViolation(_location(tuple(e["loc"])), e["msg"]) for e in exc.errors()]
        return problem_response(400, "invalid request", request=request, reason="INVALID_ARGUMENT",
                                violations=violations)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
        return problem_response(exc.status_code, str(exc.detail), request=request, headers=headers)

    @app.exception_handler(grpc.aio.AioRpcError)
    async def _rpc(request: Request, exc: grpc.aio.AioRpcError):
        return failure_response(request, parse_rpc_error(exc))

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        return domain_problem(request, exc)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception):
        log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
        return problem_response(500, INTERNAL_DETAIL, request=request, reason="INTERNAL")


ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": Problem, "description": TITLES[status], "content": {PROBLEM: {}}}
    for status in (400, 401, 403, 404, 409, 413, 422, 429, 500, 503, 504)
}
