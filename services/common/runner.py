"""Process entry point shared by every service's ``__main__``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from services.common.auth import validator_from_settings
from services.common.db import Database
from services.common.logsetup import configure_logging
from services.common.server import Registration, ServiceRuntime
from services.common.settings import PlatformSettings, platform_settings, service_addresses, service_settings
from services.common.telemetry import instrument_engine, setup_tracing

Build = Callable[..., Registration]


def build_runtime(
    name: str,
    build: Build,
    *,
    settings: PlatformSettings,
    database_url: str,
    addresses: dict[str, str],
    tracer_provider=None,
    validator=None,
) -> ServiceRuntime:
    """Assembles a service: database, its registration (servicers, outgoing channels), chassis."""
    database = Database(database_url)
    if tracer_provider is not None:
        instrument_engine(database.engine, tracer_provider)
    registration = build(database=database, settings=settings, addresses=addresses, tracer_provider=tracer_provider)
    return ServiceRuntime(
        name,
        settings=settings,
        database=database,
        registration=registration,
        validator=validator or validator_from_settings(settings),
        tracer_provider=tracer_provider,
    )


def run_service(name: str, build: Build) -> None:
    configure_logging()
    settings = platform_settings()
    own = service_settings(name, settings)
    tracer_provider = setup_tracing(name)

    async def main() -> None:
        runtime = build_runtime(
            name, build, settings=settings, database_url=own.database_url,
            addresses=service_addresses(settings), tracer_provider=tracer_provider,
        )
        await runtime.serve_until_signal(own.addr)

    asyncio.run(main())
