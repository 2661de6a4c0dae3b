"""OpenTelemetry: one trace per request from the gateway through the services to SQL (OPS-5).

Exports over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (the standard OTEL_* variables apply);
tests pass their own TracerProvider with an in-memory exporter. Span attributes are set by the
instrumentations (method, status, SQL statement text with bound parameters elided): no request
bodies, hence no personal data.
"""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
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
    SQLAlchemyInstrumentor().instrument(
        engine=getattr(engine, "sync_engine", engine), tracer_provider=tracer_provider, enable_commenter=False
    )
