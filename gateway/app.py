"""The gateway's app factory (SPEC 4.5): REST over the four services, health, errors, tracing."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import grpc
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prevention.assessment.v1 import assessment_pb2_grpc
from prevention.identity.v1 import identity_pb2_grpc
from prevention.sharing.v1 import sharing_pb2_grpc
from prevention.training.v1 import training_pb2_grpc

from gateway.deps import Backends
from gateway.middleware import RequestContextMiddleware
from gateway.objects import objects_router
from gateway.problems import install_error_handlers
from gateway.routers import (
    analytics,
    assessment,
    bulletins,
    console,
    identity,
    joint_meetings,
    notifications,
    oidc,
    records,
    rectification,
    sharing,
    training,
    users,
    xapi,
)
from gateway.routers import assessment_work as assessment_work_routes
from gateway.routers import organisations as organisations_routes
from gateway.routers import training_core as training_core_routes
from services.common.auth import TokenValidator, validator_from_settings
from services.common.channels import open_channel
from services.common.mtls import tls_files
from services.common.settings import SERVICES, PlatformSettings, platform_settings, service_addresses
from services.common.storage import LocalObjectStore, object_store

READY_TIMEOUT_SECONDS = 2.0
API_VERSION = "0.1.0"


def create_app(
    settings: PlatformSettings | None = None,
    *,
    addresses: dict[str, str] | None = None,
    validator: TokenValidator | None = None,
    tracer_provider=None,
) -> FastAPI:
    settings = settings or platform_settings()
    addresses = addresses or service_addresses(settings)
    prod = settings.profile == "prod"

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        channels = {
            name: open_channel(addresses[name], default_timeout=settings.grpc_default_timeout_seconds,
                               tracer_provider=tracer_provider, tls=tls_files(settings))
            for name in SERVICES
        }
        app.state.channels = channels
        app.state.backends = Backends(
            identity=identity_pb2_grpc.IdentityServiceStub(channels["identity"]),
            sharing=sharing_pb2_grpc.SharingServiceStub(channels["sharing"]),
            training=training_pb2_grpc.TrainingServiceStub(channels["training"]),
            assessment=assessment_pb2_grpc.AssessmentServiceStub(channels["assessment"]),
            timeout=settings.grpc_default_timeout_seconds,
        )
        try:
            yield
        finally:
            for channel in channels.values():
                await channel.close()

    app = FastAPI(
        title="Work-Injury Prevention Platform API",
        description="REST API of the national Work-Injury Prevention Platform. Errors are "
                    "application/problem+json naming the fields at fault. Text never contains NUL "
                    "(U+0000): a request with one is refused with 400.",
        version=API_VERSION,
        lifespan=lifespan,
        docs_url=None if prod else "/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.validator = validator or validator_from_settings(settings)
    install_error_handlers(app)
    for router in (identity.router, users.router, sharing.router, training.router, assessment.router,
                   oidc.router, notifications.router, bulletins.router, joint_meetings.router, records.router,
                   analytics.router, rectification.router):
        app.include_router(router)
    app.include_router(organisations_routes.router)
    app.include_router(console.router)  # the operator web console (GW-5)
    app.include_router(training_core_routes.router)
    app.include_router(xapi.router)
    app.include_router(assessment_work_routes.router)
    store = object_store(settings)
    if isinstance(store, LocalObjectStore):  # embedded mode: the gateway serves presigned URLs
        app.state.object_store = store
        app.include_router(objects_router(lambda: app.state.object_store))

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The gateway process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"description": "a service is not SERVING"}})
    async def readyz():
        """Ready when every service answers gRPC health SERVING."""

        async def check(name: str) -> str:
            stub = health_pb2_grpc.HealthStub(app.state.channels[name])
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=READY_TIMEOUT_SECONDS)
            except grpc.aio.AioRpcError as error:
                return error.code().name
            return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)

        statuses = dict(zip(SERVICES, await asyncio.gather(*(check(n) for n in SERVICES)), strict=True))
        ready = all(s == "SERVING" for s in statuses.values())
        headers = {} if ready else {"Retry-After": "1"}
        return JSONResponse({"status": "ready" if ready else "not ready", "services": statuses},
                            status_code=200 if ready else 503, headers=headers)

    if settings.gateway_cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.gateway_cors_origins,
                           allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"])
    app.add_middleware(xapi.VersionHeaderMiddleware)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.gateway_max_body_bytes)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=tracer_provider, exclude_spans=["receive", "send"])
    return app
