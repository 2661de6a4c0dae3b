"""Server interceptor of the chassis: request id + access log, deadline capture, authentication,
and error mapping (SPEC 7.4). OpenTelemetry's own aio interceptor runs before this one."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

import grpc
from google.protobuf.message import Message
from opentelemetry import trace

from services.common import context as ctx
from services.common.auth import TokenValidator, bearer_token
from services.common.errors import DomainError, Unavailable
from services.common.grpc_errors import abort
from services.common.mtls import check_peer
from services.common.policy import Policy
from services.common.text import reject_nul

log = logging.getLogger("prevention.rpc")

PUBLIC_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")


def _metadata(context: grpc.aio.ServicerContext) -> dict[str, str]:
    return {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}


class ChassisInterceptor(grpc.aio.ServerInterceptor):
    def __init__(
        self,
        *,
        validator: TokenValidator,
        policy: Policy,
        public_prefixes: Iterable[str] = PUBLIC_PREFIXES,
        peer_service: str | None = None,
    ):
        self.validator = validator
        self.policy = policy
        # With mutual TLS: the service whose allowed callers (SPEC 7.1) the peer must be.
        self.peer_service = peer_service
        self.public_prefixes = tuple(public_prefixes)

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(self.public_prefixes):
            return handler
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(method, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_unary(method, handler.stream_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(method, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return grpc.stream_stream_rpc_method_handler(
            self._wrap_stream(method, handler.stream_stream),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    async def _enter(self, method: str, context: grpc.aio.ServicerContext) -> dict:
        metadata = _metadata(context)
        request_id = metadata.get("x-request-id") or ctx.new_request_id()
        ctx.request_id_var.set(request_id[:128])
        remaining = context.time_remaining()
        ctx.set_deadline(remaining)
        ctx.caller_var.set(None)
        if self.peer_service is not None:
            check_peer(context, self.peer_service)
        rule = self.policy.rule(method)
        if rule is None or not rule.public:
            token = bearer_token(metadata.get("authorization"))
            caller = await self.validator.validate(token)
            ctx.caller_var.set(caller)
            trace.get_current_span().set_attribute(ctx.TENANT_SPAN_ATTRIBUTE, caller.tenant)
        self.policy.authorize(method, ctx.current_caller())  # deny by default (SPEC 7.3 as data)
        return {"deadline_remaining_ms": None if remaining is None else round(remaining * 1000)}

    def _finish(self, method: str, started: float, status: str, fields: dict) -> None:
        caller = ctx.current_caller()
        log.info(
            "rpc",
            extra={
                "rpc_method": method,
                "rpc_status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "tenant": caller.tenant if caller else None,
                **fields,
            },
        )

    async def _handle(self, method, context, error: BaseException, started, fields) -> None:
        if isinstance(error, DomainError):
            self._finish(method, started, error.code, fields)
            await abort(context, error)
        if isinstance(error, (ConnectionError, OSError)) or type(error).__name__ == "OperationalError":
            log.warning("dependency unavailable", extra={"rpc_method": method, "error_type": type(error).__name__})
            self._finish(method, started, "UNAVAILABLE", fields)
            await abort(context, Unavailable("a dependency of the service is unavailable"))
        log.error("unhandled error", exc_info=error, extra={"rpc_method": method})
        self._finish(method, started, "INTERNAL", fields)
        await context.abort(grpc.StatusCode.INTERNAL, "internal error")

    def _wrap_unary(self, method, behaviour):
        async def wrapper(request_or_iterator, context):
            started = time.perf_counter()
            fields: dict = {}
            try:
                fields = await self._enter(method, context)
                if isinstance(request_or_iterator, Message):
                    reject_nul(request_or_iterator)
                response = await behaviour(request_or_iterator, context)
            except (asyncio.CancelledError, grpc.aio.AbortError):
                raise
            except BaseException as error:
                await self._handle(method, context, error, started, fields)
                raise
            self._finish(method, started, "OK", fields)
            return response

        return wrapper

    def _wrap_stream(self, method, behaviour):
        async def wrapper(request_or_iterator, context):
            started = time.perf_counter()
            fields: dict = {}
            try:
                fields = await self._enter(method, context)
                async for item in behaviour(request_or_iterator, context):
                    yield item
            except (asyncio.CancelledError, grpc.aio.AbortError):
                raise
            except BaseException as error:
                await self._handle(method, context, error, started, fields)
                raise
            self._finish(method, started, "OK", fields)

        return wrapper
