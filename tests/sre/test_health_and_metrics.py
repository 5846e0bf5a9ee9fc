"""Health overview (pass, warn, fail), the Prometheus scrape and its token, tracing without personal attributes."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone
from opentelemetry import trace

from samia.jobs.tasks import HEARTBEAT_KEY
from samia.redis import get_redis
from sre.models import Backup, RestoreDrill
from tests.conftest import api_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def heartbeat():
    """Set the worker heartbeat to an age; put back what was there."""
    client = get_redis()
    saved = client.get(HEARTBEAT_KEY)

    def beat(age_seconds: int):
        client.set(HEARTBEAT_KEY, (timezone.now() - dt.timedelta(seconds=age_seconds)).isoformat(), ex=3600)

    yield beat
    if saved is None:
        client.delete(HEARTBEAT_KEY)
    else:
        client.set(HEARTBEAT_KEY, saved, ex=3600)


def _overview(user):
    response = api_as(user).get("/admin/health/overview")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/health+json"
    return response.json()


def test_it_warns_on_a_missing_backup_and_an_old_heartbeat(personas, heartbeat):
    heartbeat(300)

    body = _overview(personas["admin"])

    assert body["status"] == "warn"
    [beat] = body["checks"]["worker:heartbeat"]
    assert (beat["status"], beat["observedUnit"]) == ("warn", "s")
    assert 300 <= beat["observedValue"] <= 303
    assert body["checks"]["backups:age"] == [{"status": "warn", "output": "no backup"}]
    assert body["checks"]["database:ready"] == [{"status": "pass", "output": "ok"}]
    assert {c["status"] for c in body["checks"]["budgets:usage"]} == {"pass"}


def test_it_fails_on_a_stopped_worker_and_a_failed_restore_drill(personas, heartbeat):
    heartbeat(3600)
    RestoreDrill.objects.create(duration_seconds=12.0, result="failed", details={"failed": ["rls_check"]})

    body = _overview(personas["superadmin"])

    assert body["status"] == "fail"
    assert body["checks"]["worker:heartbeat"][0]["status"] == "fail"
    assert body["checks"]["backups:restore_drill"][0]["status"] == "fail"


def test_it_passes_backups_once_a_fresh_backup_and_drill_exist(personas, heartbeat):
    heartbeat(5)
    backup = Backup.objects.create(
        file_name="t.dump", sha256="0" * 64, size_bytes=1, server_version="15", started_at=timezone.now()
    )
    RestoreDrill.objects.create(backup=backup, duration_seconds=42.0, result="passed")

    checks = _overview(personas["admin"])["checks"]

    assert checks["worker:heartbeat"][0]["status"] == "pass"
    assert checks["backups:age"][0]["status"] == "pass"
    assert checks["backups:restore_drill"][0]["status"] == "pass"
    assert checks["backups:restore_drill"][0]["observedValue"] == 42


@pytest.mark.parametrize(("persona", "expected"), [(None, 401), ("client", 403), ("monitor", 403)])
def test_it_shows_the_overview_to_admins_only(personas, persona, expected):
    assert api_as(personas.get(persona)).get("/admin/health/overview").status_code == expected


# ---------------------------------------------------------------------------------------------
# The scrape


@override_settings(SRE_PROMETHEUS_TOKEN="scrape-secret-for-tests")
@pytest.mark.parametrize("header", [None, "Bearer wrong", "scrape-secret-for-tests", "Bearer scrape-secret-for-test"])
def test_it_refuses_a_scrape_without_its_token(header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}

    response = api_as().get("/ops/prometheus", **extra)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "samia_" not in response.content.decode()


@override_settings(SRE_PROMETHEUS_TOKEN="")
def test_it_lets_nobody_scrape_while_no_token_is_configured():
    response = api_as().get("/ops/prometheus", HTTP_AUTHORIZATION="Bearer ")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "No scrape token is configured."


@override_settings(SRE_PROMETHEUS_TOKEN="scrape-secret-for-tests")
def test_it_serves_the_golden_signals_with_the_token(personas):
    api_as(personas["client"]).get("/orders/999999")  # one 404 on a route with an id

    response = api_as().get("/ops/prometheus", HTTP_AUTHORIZATION="Bearer scrape-secret-for-tests")

    assert response.status_code == 200
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/plain")
    assert (
        'samia_http_request_duration_seconds_count{method="GET",route="/orders/<int:order_id>",status_class="4xx"}'
        in text
    )
    assert "/orders/999999" not in text
    for gauge in ("samia_database_connections{", "samia_database_connections_max", "samia_celery_queue_length{"):
        assert gauge in text
    assert "django_http_requests_total_by_method_total" in text


# ---------------------------------------------------------------------------------------------
# Tracing


def test_it_traces_requests_and_queries_without_personal_attributes(personas):
    from django.db import connection
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from sre import tracing

    memory = InMemorySpanExporter()
    provider = tracing.tracing_start(processor=SimpleSpanProcessor(tracing.ScrubbingExporter(memory)))
    # The test's connection was opened before instrumenting (a process opens its own after start-up).
    connection.ensure_connection()
    PsycopgInstrumentor.instrument_connection(connection.connection, tracer_provider=provider)
    try:
        api_as(personas["client"]).get("/orders/424242?q=x", REMOTE_ADDR="203.0.113.77", HTTP_USER_AGENT="Ali's phone")
        api_as().get("/healthz")
    finally:
        PsycopgInstrumentor.uninstrument_connection(connection.connection)
        tracing.tracing_stop()

    spans = memory.get_finished_spans()
    [request] = [span for span in spans if span.kind.name == "SERVER"]
    assert request.attributes["http.route"] == "orders/<int:order_id>"
    assert request.attributes.get("http.status_code", request.attributes.get("http.response.status_code")) == 404
    assert any(span.attributes.get("db.system") == "postgresql" for span in spans)
    text = str([dict(span.attributes) for span in spans])
    for personal in ("203.0.113.77", "Ali", "424242", "q=x"):
        assert personal not in text
    assert not any("healthz" in span.name for span in spans)


def test_it_exports_an_exception_by_its_type_only():
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from sre import tracing

    memory = InMemorySpanExporter()
    provider = tracing.tracing_start(processor=SimpleSpanProcessor(tracing.ScrubbingExporter(memory)))
    try:
        with provider.get_tracer("test").start_as_current_span("failing"):
            try:
                raise ValueError("no user with phone +966501234567 or ali@example.com")
            except ValueError as error:
                trace.get_current_span().record_exception(error)
                trace.get_current_span().set_status(trace.Status(trace.StatusCode.ERROR, str(error)))
    finally:
        tracing.tracing_stop()

    [span] = memory.get_finished_spans()
    [event] = span.events
    assert (event.name, dict(event.attributes)) == ("exception", {"exception.type": "ValueError"})
    assert span.status.status_code.name == "ERROR" and not span.status.description
