"""OpenTelemetry: one trace per request from the gateway through the services to SQL (OPS-5).

Exports over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (the standard OTEL_* variables apply);
tests pass their own TracerProvider with an in-memory exporter. Span attributes are set by the
instrumentations (method, status, SQL statement text with bound parameters elided): no request
bodies, hence no personal data.
"""

from __future__ import annotations

import os

from opentelemetry import metrics, trace
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.instrumentation.sqlalchemy.version import __version__ as _SQLALCHEMY_INSTRUMENTATION_VERSION
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_configured: TracerProvider | None = None


def setup_tracing(service_name: str) -> TracerProvider:
    """The process-wide provider (idempotent)."""
    global _configured
    if _configured is not None:
        return _configured
    provider = TracerProvider(resource=Resource.create({"service.name": f"prevention-{service_name}"}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = provider
    return provider


def instrument_engine(engine, tracer_provider) -> None:
    engine = getattr(engine, "sync_engine", engine)
    instrumentor = SQLAlchemyInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(engine=engine, tracer_provider=tracer_provider, enable_commenter=False)
        return
    # instrument() is process-wide and does nothing the second time: every further engine (several
    # services in one process, as in the tests) gets its own EngineTracer, as instrument() gives the first.
    name = "opentelemetry.instrumentation.sqlalchemy"
    usage = metrics.get_meter(name, _SQLALCHEMY_INSTRUMENTATION_VERSION).create_up_down_counter(
        name="db.client.connections.usage", unit="connections",
        description="The number of connections that are currently in state described by the state attribute.",
    )
    EngineTracer(trace.get_tracer(name, _SQLALCHEMY_INSTRUMENTATION_VERSION, tracer_provider), engine, usage)
