"""The whole platform in the test process: four gRPC services on 127.0.0.1 (port 0) with their
real databases (SQLite files, or PostgreSQL when PREVENTION_TEST_DATABASE_URL is set), and the
gateway app driven through httpx's ASGI transport."""

from __future__ import annotations

import importlib
import os
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import make_url

from services.common.db import Database
from services.common.migrations import upgrade
from services.common.runner import build_runtime
from services.common.server import ServiceRuntime
from services.common.settings import SERVICES, PlatformSettings

PG_ENV = "PREVENTION_TEST_DATABASE_URL"


def postgres_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


class DatabaseFactory:
    """Fresh, migrated and seeded databases: one per service and per call."""

    def __init__(self, tmp: Path, *, admin: str | None = None):
        self.tmp = tmp
        self.admin = admin  # a PostgreSQL server to use whatever the environment says
        self.created: list[str] = []

    def url(self, service: str) -> str:
        admin = self.admin or postgres_admin_url()
        if admin is None:
            return f"sqlite:///{self.tmp / f'{service}-{uuid.uuid4().hex[:8]}.db'}"
        name = f"pt_{uuid.uuid4().hex[:10]}_{service}"
        with psycopg.connect(make_url(admin).set(drivername="postgresql").render_as_string(False),
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return make_url(admin).set(database=name).render_as_string(hide_password=False)

    async def prepared(self, service: str, *, seed: bool = True) -> str:
        url = self.url(service)
        upgrade(service, url)
        if seed:
            module = importlib.import_module(f"services.{service}.seed")
            database = Database(url)
            try:
                async with database.session() as session:
                    await module.seed(session)
            finally:
                await database.dispose()
        return url

    def drop_all(self) -> None:
        admin = self.admin or postgres_admin_url()
        if admin is None or not self.created:
            return
        with psycopg.connect(make_url(admin).set(drivername="postgresql").render_as_string(False),
                             autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def service_builder(name: str):
    return importlib.import_module(f"services.{name}.servicer").build


@dataclass
class Platform:
    settings: PlatformSettings
    runtimes: dict[str, ServiceRuntime]
    addresses: dict[str, str]
    urls: dict[str, str]
    client: httpx.AsyncClient
    app: object
    stack: AsyncExitStack = field(repr=False)


async def start_services(settings, factory: DatabaseFactory, *, tracer_provider=None, validator=None,
                         builders=None, addresses=None, prepared=None) -> tuple[dict, dict, dict]:
    """Starts each service on an ephemeral port. Services that call others get the addresses
    of the ones started before them (assessment -> sharing), so start order matters.
    ``prepared`` names databases the caller already migrated and seeded."""
    runtimes, urls, addresses = {}, {}, dict(addresses or {})
    for name in SERVICES:
        urls[name] = (prepared or {}).get(name) or await factory.prepared(name)
        build = (builders or {}).get(name) or service_builder(name)
        runtime = build_runtime(name, build, settings=settings, database_url=urls[name], addresses=addresses,
                                tracer_provider=tracer_provider, validator=validator)
        port = await runtime.start("127.0.0.1:0")
        addresses[name] = f"127.0.0.1:{port}"
        runtimes[name] = runtime
    await upload_test_documents(settings)
    return runtimes, urls, addresses


PROVINCES = tuple(f"{p}0000" for p in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44,
                                       45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 66))
PROJECT_DOCUMENT_KINDS = ("application_form", "feasibility_report", "implementation_plan", "cost_estimate",
                          "qualification")
# Documents the tests' calls and applications name (SPEC AS-1: each must be an uploaded object):
# a guideline g1, a template form t1 and one file per required kind, in every province.
TEST_DOCUMENTS = ("guideline/g1", "template_form/t1", *(f"project_document/{k}" for k in PROJECT_DOCUMENT_KINDS))


async def upload_test_documents(settings) -> None:
    from services.common.storage import object_store

    store = object_store(settings)
    for tenant in PROVINCES:
        for document in TEST_DOCUMENTS:
            await store.put(f"{tenant}/assessment/{document}", b"%PDF-1.4\n% test document\n", "application/pdf")


class ServedGateway:
    """The gateway app on a real loopback port (uvicorn in this event loop), for tests where the
    services must reach it over HTTP — the embedded issuer's JWKS route."""

    def __init__(self, app, port: int):
        import uvicorn

        self.config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
        self.server = uvicorn.Server(self.config)
        self.task = None
        self.url = f"http://127.0.0.1:{port}"

    async def __aenter__(self):
        import asyncio

        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                raise RuntimeError("the gateway did not start") from self.task.exception()
            await asyncio.sleep(0.02)  # uvicorn exposes no started event; poll its flag
        return self

    async def __aexit__(self, *exc):
        self.server.should_exit = True
        await self.task


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
