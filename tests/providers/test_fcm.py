"""The FCM adapter, through the real pyfcm and google-auth, against the local fake FCM server over HTTP."""

import json
import logging
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from samia.providers import registry
from samia.providers.base import Health, Outcome, ProviderUnavailable, Result
from samia.providers.fcm import FCMProvider
from tests.fakes.fcm import running, service_account_json

PROJECT = "samia-test"


@pytest.fixture(scope="module")
def fake():
    with running() as server:
        yield server


@pytest.fixture(scope="module")
def key_file(fake):
    return service_account_json(fake.token_uri, project_id="key-file-project")


@pytest.fixture
def configured(fake, key_file, settings):
    fake.reset()
    settings.FCM_PROJECT_ID = PROJECT
    settings.FCM_SERVICE_ACCOUNT_JSON = key_file
    settings.FCM_END_POINT_BASE = fake.base_url
    settings.PROVIDER_TIMEOUT_SECONDS = 2.0
    return settings


@pytest.fixture
def fcm(configured):
    return FCMProvider()


def push(provider, token="device-1", **message) -> Result:
    return provider.send(token=token, title="Your reading is ready", body="Tap to open it", **message)


def test_it_sends_and_returns_the_message_name(fcm, fake):
    result = push(fcm)

    assert result == Result(Outcome.SENT, message_id=f"projects/{PROJECT}/messages/1")
    # FCM_PROJECT_ID wins over the key file's project_id.
    assert fake.paths == [f"/v1/projects/{PROJECT}/messages:send"]
    message = fake.requests[0]["message"]
    assert (message["token"], message["notification"]) == (
        "device-1",
        {"title": "Your reading is ready", "body": "Tap to open it"},
    )


@pytest.mark.parametrize(
    ("critical", "android_priority", "urgency", "apns_priority"),
    [(True, "HIGH", "high", "10"), (False, "NORMAL", "normal", "5")],
)
def test_it_puts_collapse_id_ttl_priority_and_data_in_the_message(
    fcm, fake, critical, android_priority, urgency, apns_priority
):
    result = push(
        fcm, data={"order_id": "42", "attempt": 3}, collapse_id="order-42", ttl_seconds=600, critical=critical
    )

    assert result.ok
    message = fake.requests[0]["message"]
    assert message["android"] == {"collapse_key": "order-42", "priority": android_priority, "ttl": "600s"}
    assert message["webpush"] == {"headers": {"TTL": "600", "Topic": "order-42", "Urgency": urgency}}
    assert message["apns"]["headers"]["apns-collapse-id"] == "order-42"
    assert message["apns"]["headers"]["apns-priority"] == apns_priority
    assert message["data"] == {"order_id": "42", "attempt": "3"}  # FCM only takes strings


def test_it_leaves_out_the_collapse_keys_when_there_is_no_collapse_id(fcm, fake):
    push(fcm)

    message = fake.requests[0]["message"]
    assert message["android"] == {"priority": "NORMAL", "ttl": "86400s"}
    assert "Topic" not in message["webpush"]["headers"]
    assert "apns-collapse-id" not in message["apns"]["headers"]
    assert "data" not in message


def test_a_collapse_id_web_push_cannot_carry_stays_out_of_the_topic_header(fcm, fake):
    push(fcm, collapse_id="reading:ready/" + "x" * 40)

    message = fake.requests[0]["message"]
    assert "Topic" not in message["webpush"]["headers"]
    assert message["android"]["collapse_key"] == "reading:ready/" + "x" * 40


def test_it_fetches_the_access_token_once_across_sends_and_threads(fcm, fake):
    results = [push(fcm, token=f"device-{i}") for i in range(3)]
    threads = [threading.Thread(target=lambda i=i: results.append(push(fcm, token=f"thread-{i}"))) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [r.outcome for r in results] == [Outcome.SENT] * 7
    assert (fake.token_calls, len(fake.requests)) == (1, 7)


@pytest.mark.parametrize(
    ("token", "scripted", "expected"),
    [
        ("unregistered-1", None, Result(Outcome.INVALID_RECIPIENT, code="UNREGISTERED", details={"http_status": 404})),
        (
            "mismatch-1",
            None,
            Result(Outcome.INVALID_RECIPIENT, code="SENDER_ID_MISMATCH", details={"http_status": 403}),
        ),
        ("badtoken-1", None, Result(Outcome.INVALID_RECIPIENT, code="INVALID_ARGUMENT", details={"http_status": 400})),
        (
            "device-1",
            {"status": 400, "error_code": "INVALID_ARGUMENT", "field": "message.android.ttl"},
            Result(Outcome.PERMANENT, code="INVALID_ARGUMENT", details={"http_status": 400}),
        ),
        (
            "device-1",
            {"status": 400, "error_code": "INVALID_ARGUMENT", "message": "The registration token is not valid"},
            Result(Outcome.INVALID_RECIPIENT, code="INVALID_ARGUMENT", details={"http_status": 400}),
        ),
        (
            "quota-1",
            None,
            Result(Outcome.RETRYABLE, code="QUOTA_EXCEEDED", retry_after_seconds=7, details={"http_status": 429}),
        ),
        (
            "device-1",
            {"status": 503, "error_code": "UNAVAILABLE"},
            Result(Outcome.RETRYABLE, code="UNAVAILABLE", details={"http_status": 503}),
        ),
        (
            "device-1",
            {"status": 500, "error_code": "INTERNAL", "retry_after": 3},
            Result(Outcome.RETRYABLE, code="INTERNAL", retry_after_seconds=3, details={"http_status": 500}),
        ),
        (
            "device-1",
            {"status": 401, "error_code": "THIRD_PARTY_AUTH_ERROR"},
            Result(Outcome.PERMANENT, code="THIRD_PARTY_AUTH_ERROR", details={"http_status": 401}),
        ),
        (
            "device-1",
            {"status": 403, "error_code": "PERMISSION_DENIED"},
            Result(Outcome.PERMANENT, code="PERMISSION_DENIED", details={"http_status": 403}),
        ),
    ],
)
def test_it_maps_each_fcm_error(fcm, fake, token, scripted, expected):
    if scripted:
        fake.script(token, **scripted)

    result = push(fcm, token=token)

    assert result == expected
    assert len(fake.requests) == 1


@pytest.mark.parametrize(("status", "code"), [(429, "QUOTA_EXCEEDED"), (502, "UNAVAILABLE"), (503, "UNAVAILABLE")])
def test_it_never_sleeps_or_resends(fcm, fake, status, code):
    # pyfcm would sleep Retry-After seconds and resend; urllib3 would resend a POST on 502/503.
    fake.script("device-1", status=status, error_code=code, retry_after=30)

    started = time.monotonic()
    result = push(fcm)
    elapsed = time.monotonic() - started

    assert (result.outcome, result.code, result.retry_after_seconds) == (Outcome.RETRYABLE, code, 30)
    assert len(fake.requests) == 1
    assert elapsed < 1.0


def test_it_reads_a_retry_after_given_as_an_http_date(fcm, fake):
    fake.script(
        "device-1",
        status=503,
        error_code="UNAVAILABLE",
        retry_after=format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True),
    )

    result = push(fcm)

    assert result.outcome is Outcome.RETRYABLE
    assert 118 <= result.retry_after_seconds <= 120


def test_an_unconfigured_provider_is_unavailable_never_faked(configured, fake):
    configured.FCM_SERVICE_ACCOUNT_JSON = ""
    provider = FCMProvider()

    assert provider.configured() is False
    with pytest.raises(ProviderUnavailable, match="fcm: not configured"):
        push(provider)
    assert provider.probe() == Health("fcm", False, "not_configured")
    assert (fake.requests, fake.token_calls) == ([], 0)


def test_it_needs_the_project_id_too(configured):
    configured.FCM_PROJECT_ID = ""

    assert FCMProvider().configured() is False


def test_an_unreadable_key_file_is_a_permanent_failure(configured, fake):
    configured.FCM_SERVICE_ACCOUNT_JSON = '{"type": "service_account"}'
    provider = FCMProvider()

    assert push(provider) == Result(Outcome.PERMANENT, code="invalid_service_account")
    assert provider.probe() == Health("fcm", False, "invalid_service_account")
    assert fake.requests == []


def test_a_read_timeout_is_an_unknown_outcome(fcm, fake, configured):
    configured.PROVIDER_TIMEOUT_SECONDS = 0.3
    fake.slow_seconds = 2.0

    started = time.monotonic()
    result = push(fcm, token="slow-1")

    assert result == Result(Outcome.UNKNOWN, code="timeout")
    assert time.monotonic() - started < 1.5
    assert len(fake.requests) == 1


def test_a_connection_dropped_after_sending_is_an_unknown_outcome(fcm, fake):
    result = push(fcm, token="drop-1")

    assert result == Result(Outcome.UNKNOWN, code="timeout")
    assert len(fake.requests) == 1


def test_a_refused_connection_is_retryable(fcm, fake, configured):
    with socket.socket() as probe_socket:  # a port nothing listens on once closed
        probe_socket.bind(("127.0.0.1", 0))
        closed_port = probe_socket.getsockname()[1]
    configured.FCM_END_POINT_BASE = f"http://127.0.0.1:{closed_port}"
    provider = FCMProvider()

    assert push(provider) == Result(Outcome.RETRYABLE, code="connect")


def test_a_rejected_service_account_is_a_permanent_failure(fcm, fake):
    fake.script_token_endpoint(status=400, error="invalid_grant")

    assert push(fcm) == Result(Outcome.PERMANENT, code="invalid_grant")
    assert (fake.requests, fake.token_calls) == ([], 1)


def test_a_failing_token_endpoint_is_retryable_without_sleeping(fcm, fake):
    fake.script_token_endpoint(status=503, error="temporarily_unavailable")

    started = time.monotonic()
    result = push(fcm)

    assert result == Result(Outcome.RETRYABLE, code="token_unavailable")
    assert time.monotonic() - started < 1.0
    assert (fake.requests, fake.token_calls) == ([], 1)
    assert push(fcm).ok  # the next send fetches a token again


def test_an_expired_access_token_is_retryable_and_replaced(fcm, fake):
    assert push(fcm).ok
    fake.expire_access_tokens()

    rejected = push(fcm)
    accepted = push(fcm)

    assert rejected == Result(Outcome.RETRYABLE, code="ACCESS_TOKEN_EXPIRED", details={"http_status": 401})
    assert accepted.ok
    assert (len(fake.requests), fake.token_calls) == (3, 2)


def test_the_probe_is_healthy_when_an_access_token_can_be_had(fcm, fake):
    assert fcm.probe() == Health("fcm", True)
    assert fcm.probe() == Health("fcm", True)
    assert fake.token_calls == 1  # the cached token counts


def test_the_probe_reports_a_rejected_service_account(fcm, fake):
    fake.script_token_endpoint(status=401, error="invalid_client")

    assert fcm.probe() == Health("fcm", False, "invalid_client")


def test_the_probe_reports_an_unreachable_token_endpoint(configured):
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        closed_port = probe_socket.getsockname()[1]
    configured.FCM_SERVICE_ACCOUNT_JSON = service_account_json(f"http://127.0.0.1:{closed_port}/token")

    assert FCMProvider().probe() == Health("fcm", False, "token_unavailable")


def test_the_registry_serves_the_fcm_adapter(configured, fake):
    configured.PROVIDERS = {"fcm": "samia.providers.fcm.FCMProvider"}
    registry.get.cache_clear()
    try:
        provider = registry.get("fcm")
        result = push(provider)
        health = registry.health()
    finally:
        registry.get.cache_clear()

    assert isinstance(registry.adapter("fcm"), FCMProvider)  # get() wraps it in its circuit
    assert result.ok
    assert health == [Health("fcm", True)]


def test_no_token_title_body_or_credential_reaches_a_log_or_a_result(fcm, fake, key_file, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = [
        "unregistered-secret-device",
        "badtoken-secret-device",
        "Your reading is ready",
        "Tap to open it",
        json.loads(key_file)["private_key_id"],
        "fake-access-",
    ]

    results = [
        push(fcm, token=token) for token in ("device-secret-ok", "unregistered-secret-device", "badtoken-secret-device")
    ]

    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.INVALID_RECIPIENT, Outcome.INVALID_RECIPIENT]
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "fcm send not delivered" in logged  # the failures were logged, by code only
    for secret in [*secrets, "device-secret-ok"]:
        assert secret not in logged
        assert all(secret not in repr(r) for r in results)
