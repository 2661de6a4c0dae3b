"""The gRPC server chassis every service runs on (STYLE: grpc examples).

``ServiceRuntime`` binds a ``grpc.aio`` server with health, reflection, OpenTelemetry and the
chassis interceptor, keeps health NOT_SERVING until the database answers, and on SIGTERM turns
health NOT_SERVING, refuses new RPCs and drains in-flight ones within the grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_server_interceptor

from services.common import mtls
from services.common.auth import TokenValidator
from services.common.db import Database
from services.common.interceptors import PUBLIC_PREFIXES, ChassisInterceptor
from services.common.policy import Policy
from services.common.settings import PlatformSettings

log = logging.getLogger("prevention.server")


def server_options(settings: PlatformSettings) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", settings.grpc_max_message_bytes),
        ("grpc.max_send_message_length", settings.grpc_max_message_bytes),
        ("grpc.max_connection_age_ms", settings.grpc_max_connection_age_seconds * 1000),
        ("grpc.max_connection_age_grace_ms", int(settings.grpc_drain_grace_seconds * 1000)),
        ("grpc.keepalive_time_ms", 60_000),
        ("grpc.keepalive_timeout_ms", 20_000),
        # Clients may ping every 10 s; faster pings get GOAWAY (too_many_pings), not a crash.
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.http2.max_ping_strikes", 2),
        ("grpc.so_reuseport", 0),
    ]


def traced(handler_call_details) -> bool:
    """Health and reflection RPCs get no span: probes are noise, and OpenTelemetry's aio wrapper
    breaks Health/Watch (a coroutine writing through its context, not an async generator)."""
    return not handler_call_details.method.startswith(PUBLIC_PREFIXES)


@dataclass
class Registration:
    """What a service contributes: how to add its servicer and the full names of its services."""

    add_to_server: Callable[[grpc.aio.Server], None]
    service_names: Sequence[str]
    # SPEC 7.3 rows for these services (policy.yaml beside the servicer).
    policy: Policy
    # Outgoing channels the service opened; closed when it stops.
    channels: Sequence[grpc.aio.Channel] = ()
    # Long-running work (e.g. ``lambda stop: scheduler.run_forever(stop)``) started with the server;
    # on stop the event is set and the work awaited (cancelled after the drain grace) before the
    # database closes.
    background: Sequence[Callable[[asyncio.Event], Awaitable[None]]] = ()


class ServiceRuntime:
    def __init__(
        self,
        name: str,
        *,
        settings: PlatformSettings,
        database: Database,
        registration: Registration,
        validator: TokenValidator,
        tracer_provider=None,
    ):
        self.name = name
        self.settings = settings
        self.database = database
        self.registration = registration
        self.health = health.aio.HealthServicer()
        self.server = grpc.aio.server(
            interceptors=[
                aio_server_interceptor(tracer_provider=tracer_provider, filter_=traced),
                ChassisInterceptor(validator=validator, policy=registration.policy,
                                   peer_service=name if mtls.tls_files(settings) else None),
            ],
            options=server_options(settings),
            maximum_concurrent_rpcs=settings.grpc_max_concurrent_rpcs,
        )
        self.port: int | None = None
        self.probe_server: grpc.aio.Server | None = None
        self.health_port: int | None = None
        self._health_task: asyncio.Task | None = None
        self._background_stop = asyncio.Event()
        self._background_tasks: list[asyncio.Task] = []
        self._stopping = False

    async def start(self, addr: str) -> int:
        self.registration.add_to_server(self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        names = [*self.registration.service_names, health.SERVICE_NAME]
        if self.settings.profile != "prod":  # reflection is off in production (RELIABILITY S12)
            names.append(reflection.SERVICE_NAME)
            reflection.enable_server_reflection(names, self.server)
        files = mtls.tls_files(self.settings)
        if files is None:
            self.port = self.server.add_insecure_port(addr)
        else:
            self.port = self.server.add_secure_port(addr, mtls.server_credentials(files))
        if not self.port:
            raise OSError(f"cannot bind {addr}")
        await self._set_status(health_pb2.HealthCheckResponse.NOT_SERVING)
        if files is not None and self.settings.health_port:
            await self._start_probe_server()
        await self.server.start()
        await self.check_health()
        self._health_task = asyncio.create_task(self._health_loop(), name=f"{self.name}-health")
        self._background_tasks = [asyncio.create_task(work(self._background_stop), name=f"{self.name}-background")
                                  for work in self.registration.background]
        log.info("service started", extra={"service": self.name, "port": self.port})
        return self.port

    async def _start_probe_server(self) -> None:
        """With mutual TLS the kubelet's native gRPC probes cannot present a client certificate, so
        the same health service (and nothing else) is also served in plaintext on its own port."""
        self.probe_server = grpc.aio.server(options=server_options(self.settings), maximum_concurrent_rpcs=16)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.probe_server)
        host = self.settings.health_host
        self.health_port = self.probe_server.add_insecure_port(f"{host}:{self.settings.health_port}")
        if not self.health_port:
            raise OSError(f"cannot bind the health port {self.settings.health_port}")
        await self.probe_server.start()

    async def _set_status(self, status) -> None:
        for service in ("", *self.registration.service_names):
            await self.health.set(service, status)

    async def check_health(self) -> bool:
        """SERVING while the database answers; NOT_SERVING otherwise or once stopping."""
        if self._stopping:
            return False
        try:
            await asyncio.wait_for(self.database.ping(), timeout=max(self.settings.health_interval_seconds, 1.0))
            ok = True
        except Exception:  # any database failure means not ready
            ok = False
        if not self._stopping:
            status = health_pb2.HealthCheckResponse.SERVING if ok else health_pb2.HealthCheckResponse.NOT_SERVING
            await self._set_status(status)
        return ok

    async def _health_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.settings.health_interval_seconds)
            await self.check_health()

    async def stop(self, grace: float | None = None) -> None:
        """Health NOT_SERVING, refuse new RPCs, let in-flight ones finish within the grace."""
        if self._stopping:
            return
        self._stopping = True
        self._background_stop.set()  # background work winds down while in-flight RPCs drain
        if self._health_task:
            self._health_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health_task
        await self.health.enter_graceful_shutdown()
        await self.server.stop(self.settings.grpc_drain_grace_seconds if grace is None else grace)
        if self.probe_server is not None:
            await self.probe_server.stop(0)
        await self._stop_background(self.settings.grpc_drain_grace_seconds if grace is None else grace)
        for channel in self.registration.channels:
            await channel.close()
        await self.database.dispose()
        log.info("service stopped", extra={"service": self.name})

    async def _stop_background(self, grace: float) -> None:
        if not self._background_tasks:
            return
        _, late = await asyncio.wait(self._background_tasks, timeout=max(grace, 0.1))
        for task in late:
            task.cancel()
        for result in await asyncio.gather(*self._background_tasks, return_exceptions=True):
            if isinstance(result, Exception):
                log.error("background work failed", exc_info=result, extra={"service": self.name})

    async def serve_until_signal(self, addr: str) -> None:
        await self.start(addr)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("signal received, draining", extra={"service": self.name})
        await self.stop()
