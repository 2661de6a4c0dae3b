"""Pure ASGI middleware: request id on every response (and into gRPC metadata through the
context variable), and the request body size limit (RELIABILITY S8)."""

from __future__ import annotations

import json
import re

from services.common.context import caller_var, new_request_id, request_id_var

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_SCOPE_KEY = "prevention.request_id"


class _TooLarge(BaseException):
    pass


class RequestContextMiddleware:
    # Presigned uploads to the local object store are bounded by the store (SPEC 7.5: uploads over
    # 4 MiB go this way), not by the API's body limit.
    UNLIMITED_PREFIXES = ("/objects/",)

    def __init__(self, app, *, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else new_request_id()
        scope[REQUEST_ID_SCOPE_KEY] = request_id
        token = request_id_var.set(request_id)
        caller_token = caller_var.set(None)  # set by authentication; never outlives the request
        try:
            if scope["path"].startswith(self.UNLIMITED_PREFIXES):
                return await self.app(scope, receive, self._with_request_id(send, request_id))
            declared = headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                return await self._too_large(scope, send, request_id)
            received = 0
            started = False

            async def limited_receive():
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > self.max_body_bytes:
                        raise _TooLarge
                return message

            with_id = self._with_request_id(send, request_id)

            async def send_with_id(message):
                nonlocal started
                started = started or message["type"] == "http.response.start"
                await with_id(message)

            try:
                await self.app(scope, limited_receive, send_with_id)
            except _TooLarge:
                if not started:
                    await self._too_large(scope, send, request_id)
        finally:
            caller_var.reset(caller_token)
            request_id_var.reset(token)

    @staticmethod
    def _with_request_id(send, request_id: str):
        async def send_with_id(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        return send_with_id

    async def _too_large(self, scope, send, request_id: str) -> None:
        body = json.dumps({
            "type": "about:blank", "title": "Content Too Large", "status": 413,
            "detail": f"request body exceeds {self.max_body_bytes} bytes", "instance": scope.get("path"),
            "reason": "PAYLOAD_TOO_LARGE", "request_id": request_id,
        }).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode()),
        ]})
        await send({"type": "http.response.body", "body": body})
