"""OpenTelemetry tracing of Django, psycopg and Celery: on only when OTEL_EXPORTER_OTLP_ENDPOINT is set.

Health probes and the scrape are not traced. Spans leave without personal attributes: the client
address, user agent, full URL, path with its ids and query string are dropped before export
(`http.route`, the pattern, stays), an exception event keeps only its type (no message, no stack trace),
and SQL parameters are never captured.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status

EXCLUDED_URLS = "healthz,readyz,ops/prometheus"
# Attribute keys (old and new semantic conventions) that can carry personal data or ids.
PERSONAL = {
    "http.client_ip",
    "client.address",
    "net.peer.ip",
    "net.sock.peer.addr",
    "network.peer.address",
    "http.user_agent",
    "user_agent.original",
    "http.url",
    "url.full",
    "http.target",
    "url.path",
    "url.query",
    "enduser.id",
}


class ScrubbingExporter(SpanExporter):
    """Pass spans to `exporter` without their personal attributes."""

    def __init__(self, exporter: SpanExporter):
        self.exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.exporter.export([_scrubbed(span) for span in spans])

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)


def _scrubbed(span: ReadableSpan) -> ReadableSpan:
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes={key: value for key, value in (span.attributes or {}).items() if key not in PERSONAL},
        # An exception's message and stack trace can quote the data it failed on: only its type leaves.
        events=tuple(
            Event(
                event.name,
                {k: v for k, v in (event.attributes or {}).items() if k == "exception.type"},
                event.timestamp,
            )
            for event in span.events
        ),
        links=span.links,
        kind=span.kind,
        status=Status(span.status.status_code),  # without its description (the exception's message)
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def tracing_start(*, processor=None) -> TracerProvider | None:
    """Instrument Django, psycopg and Celery; export over OTLP/HTTP, or through `processor` (tests)."""
    if processor is None and not settings.OTEL_EXPORTER_OTLP_ENDPOINT:
        return None
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    provider = TracerProvider(resource=Resource.create({"service.name": "samia-tarot"}))
    if processor is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.OTEL_EXPORTER_OTLP_ENDPOINT.rstrip("/") + "/v1/traces"
        processor = BatchSpanProcessor(ScrubbingExporter(OTLPSpanExporter(endpoint=endpoint)))
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument(tracer_provider=provider, excluded_urls=EXCLUDED_URLS)
    PsycopgInstrumentor().instrument(tracer_provider=provider, enable_commenter=False)
    CeleryInstrumentor().instrument(tracer_provider=provider)
    return provider


def tracing_stop() -> None:
    """Remove the instrumentation (tests)."""
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    for instrumentor in (DjangoInstrumentor(), PsycopgInstrumentor(), CeleryInstrumentor()):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
