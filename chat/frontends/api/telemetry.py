"""Traces of `recochat serve`: the standard FastAPI instrumentation (a span per
request) with the turn's stage spans (chat/tracing.py) beneath it.

Off by default: nothing is exported and the OpenTelemetry API stays a no-op. It is
on when RECOCHAT_OTEL_EXPORTER (or the standard OTEL_TRACES_EXPORTER) is `console`
or `otlp`, or an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT); the OTLP
exporter reads the other standard OTEL_EXPORTER_OTLP_* variables itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace.export import SpanExporter

# probes, static files, and /demo, whose query string holds an API key
NOT_TRACED = "healthz,readyz,metrics,widget.js,images,demo"


def exporter_for(name: str | None) -> SpanExporter | None:
    """The exporter a setting names, or None (tracing off)."""
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    return None


def install(api: FastAPI, exporter: SpanExporter, *, batch: bool = True) -> None:
    """Send the app's spans to `exporter`: one SDK tracer provider per process (the
    global one, which chat/tracing.py's spans use), the FastAPI instrumentation on
    this app. `batch=False` exports each span as it ends (tests, the console)."""
    from opentelemetry import trace
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):  # the API's default: install ours, once
        provider = TracerProvider(resource=Resource.create({"service.name": "recochat"}))
        trace.set_tracer_provider(provider)
    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    FastAPIInstrumentor.instrument_app(api, tracer_provider=provider, excluded_urls=NOT_TRACED)
