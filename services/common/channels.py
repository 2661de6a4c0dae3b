"""Outgoing gRPC channels: keepalive, message limits, a retry policy for UNAVAILABLE within
gRFC A6 limits, and an interceptor that gives every call a deadline no later than the current
request's, plus the request id and the caller's token (SPEC 7.1; RELIABILITY R1, R3, R4)."""

from __future__ import annotations

import json

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors

from services.common import context as ctx
from services.common.mtls import TlsFiles, channel_credentials

MAX_MESSAGE_BYTES = 4 * 1024 * 1024

RETRY_POLICY = {
    "maxAttempts": 4,  # gRFC A6 caps at 5
    "initialBackoff": "0.1s",
    "maxBackoff": "1s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}
SERVICE_CONFIG = {
    "methodConfig": [{"name": [{}], "retryPolicy": RETRY_POLICY}],
    # After the failure budget is spent, retries stop until successes refill it (no retry storm).
    "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1},
}

CHANNEL_OPTIONS: list[tuple[str, object]] = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 0),
    ("grpc.http2.max_pings_without_data", 2),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.enable_retries", 1),
    ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
]


# gRPC sends a timeout rounded *up* to its wire unit (1 ms below 1 s, 10 ms up to 10 s, 100 ms up to
# 100 s, ...), so a callee given exactly our remaining time gets a deadline up to ~1 % later than
# ours. Keep that much back, so that downstream time_remaining <= upstream (RELIABILITY R1).
DEADLINE_WIRE_MARGIN = 0.01
DEADLINE_WIRE_SLACK_SECONDS = 0.002


def effective_timeout(requested: float | None, default: float) -> float:
    """The deadline of an outgoing call: never later than the current request's deadline."""
    remaining = ctx.deadline_remaining()
    timeout = requested if requested is not None else default
    if remaining is not None:
        timeout = min(timeout, max(remaining * (1 - DEADLINE_WIRE_MARGIN) - DEADLINE_WIRE_SLACK_SECONDS, 0.0))
    return timeout


def _outgoing_metadata(metadata) -> list[tuple[str, str]]:
    items = list(metadata or ())
    keys = {k for k, _ in items}
    request_id = ctx.request_id_var.get()
    if request_id and "x-request-id" not in keys:
        items.append(("x-request-id", request_id))
    caller = ctx.current_caller()
    if caller is not None and caller.token and "authorization" not in keys:
        items.append(("authorization", f"Bearer {caller.token}"))
    return items


class _Propagate:
    def __init__(self, default_timeout: float):
        self.default_timeout = default_timeout

    def _details(self, d: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        return grpc.aio.ClientCallDetails(
            method=d.method,
            timeout=effective_timeout(d.timeout, self.default_timeout),
            metadata=grpc.aio.Metadata(*_outgoing_metadata(d.metadata)),
            credentials=d.credentials,
            wait_for_ready=d.wait_for_ready,
        )


class _UnaryUnary(_Propagate, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation, client_call_details, request):
        return await continuation(self._details(client_call_details), request)


class _UnaryStream(_Propagate, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation, client_call_details, request):
        return await continuation(self._details(client_call_details), request)


class _StreamUnary(_Propagate, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        return await continuation(self._details(client_call_details), request_iterator)


class _StreamStream(_Propagate, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation, client_call_details, request_iterator):
        return await continuation(self._details(client_call_details), request_iterator)


def open_channel(target: str, *, default_timeout: float = 10.0, tracer_provider=None,
                 tls: TlsFiles | None = None) -> grpc.aio.Channel:
    """A channel with the chassis' interceptors: mutual TLS when ``tls`` is given (distributed
    mode), plaintext otherwise (embedded mode, loopback only)."""
    interceptors = [
        *aio_client_interceptors(tracer_provider=tracer_provider),
        _UnaryUnary(default_timeout),
        _UnaryStream(default_timeout),
        _StreamUnary(default_timeout),
        _StreamStream(default_timeout),
    ]
    if tls is not None:
        return grpc.aio.secure_channel(target, channel_credentials(tls), options=CHANNEL_OPTIONS,
                                       interceptors=interceptors)
    return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS, interceptors=interceptors)
