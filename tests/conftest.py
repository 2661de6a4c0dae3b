"""Shared fixtures. Tests that touch a database are marked `db` automatically (they use the
`db_factory` fixture) and run again on PostgreSQL by .ci/run."""

from __future__ import annotations

import logging
import os
from contextlib import AsyncExitStack

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.app import create_app
from services.common.settings import PlatformSettings
from tests.support.pii_scan import CapturingHandler, leaks, span_texts
from tests.support.platform import DatabaseFactory, Platform, postgres_admin_url, start_services
from tests.support.tokens import TokenIssuer

DB_FIXTURES = {"db_factory", "platform", "issuer_platform"}
CAPTURE = CapturingHandler()
SPANS: list[InMemorySpanExporter] = []


def pytest_configure(config):
    root = logging.getLogger()
    root.addHandler(CAPTURE)
    root.setLevel(min(root.level or logging.INFO, logging.INFO))


WORKER_SCANS: list[dict] = []  # what each pytest-xdist worker found (the controller reports the sum)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    scan = getattr(node, "workeroutput", {}).get("pii_scan")
    if scan is not None:
        WORKER_SCANS.append(scan)


def pytest_sessionfinish(session, exitstatus):
    """RELIABILITY A3 over the whole session: no citizen ID or phone number in any log or span.
    Under pytest-xdist each worker scans its own logs and spans and hands the result to the controller."""
    texts = CAPTURE.lines + [t for exporter in SPANS for t in span_texts(exporter.get_finished_spans())]
    found = leaks(texts)
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["pii_scan"] = {"scanned": len(texts), "leaks": list(found[:20]), "count": len(found)}
        return
    scanned, count, shown = len(texts), len(found), list(found[:20])
    for scan in WORKER_SCANS:
        scanned, count, shown = scanned + scan["scanned"], count + scan["count"], shown + scan["leaks"]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"personal-data scan: {scanned} log lines and spans, {count} leaks")
        for line in shown[:20]:
            reporter.write_line(f"LEAK {line}", red=True)
    if count:
        session.exitstatus = 1


def pytest_collection_modifyitems(config, items):
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + postgres_admin_url() if postgres_admin_url() else 'SQLite'}"


@pytest.fixture(scope="session")
def issuer():
    issuer = TokenIssuer()
    yield issuer
    issuer.close()


@pytest.fixture(scope="session")
def span_exporter():
    exporter = InMemorySpanExporter()
    SPANS.append(exporter)
    return exporter


@pytest.fixture(scope="session")
def tracer_provider(span_exporter):
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    return provider


def make_settings(issuer: TokenIssuer, tmp_path, **overrides) -> PlatformSettings:
    values = dict(
        data_dir=tmp_path, oidc_issuer=issuer.issuer, oidc_jwks_url=issuer.jwks_url,
        health_interval_seconds=0.1, grpc_drain_grace_seconds=5.0,
    )
    values.update(overrides)
    return PlatformSettings(**values)


@pytest.fixture(scope="session")
def settings(issuer, tmp_path_factory) -> PlatformSettings:
    return make_settings(issuer, tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def db_factory(tmp_path_factory):
    factory = DatabaseFactory(tmp_path_factory.mktemp("db"))
    yield factory
    factory.drop_all()


async def open_gateway(stack: AsyncExitStack, app) -> httpx.AsyncClient:
    await stack.enter_async_context(app.router.lifespan_context(app))
    return await stack.enter_async_context(
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                          base_url="http://testserver")
    )


@pytest.fixture(scope="session")
async def platform(settings, db_factory, tracer_provider):
    stack = AsyncExitStack()
    runtimes, urls, addresses = await start_services(settings, db_factory, tracer_provider=tracer_provider)
    app = create_app(settings, addresses=addresses, tracer_provider=tracer_provider)
    client = await open_gateway(stack, app)
    yield Platform(settings=settings, runtimes=runtimes, addresses=addresses, urls=urls, client=client, app=app,
                   stack=stack)
    await stack.aclose()
    for runtime in reversed(list(runtimes.values())):
        await runtime.stop(grace=1.0)


@pytest.fixture
def ci() -> bool:
    return os.environ.get("CI") == "true"
