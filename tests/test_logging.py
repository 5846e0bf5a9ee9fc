import json
import logging

import pytest

from samia.logging import JsonFormatter, ScrubFilter, scrub_text
from tests.conftest import api_as

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiMSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def _render(msg, *args, **extra):
    record = logging.LogRecord("samia.test", logging.INFO, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    ScrubFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sent to alice@example.com today", "sent to [email] today"),
        ("url To=%2B14155550100&x=1", "url To=[phone]&x=1"),
        ("call +966501234567 now", "call [phone] now"),
        ("whatsapp:+447911123456", "whatsapp:[phone]"),
        (f"header Bearer {JWT}", "header Bearer [redacted]"),
        (f"token in text {JWT}", "token in text [jwt]"),
        ("password=hunter2 otp: 123456", "password=[redacted] otp: [redacted]"),
        ('{"api_key": "abc123", "ok": 1}', '{"api_key": "[redacted]", "ok": 1}'),
        ("order 12345 moved to approved", "order 12345 moved to approved"),
    ],
)
def test_it_scrubs_personal_data_and_secrets_from_text(text, expected):
    assert scrub_text(text) == expected


def test_it_scrubs_arguments_and_extra_fields():
    line = _render(
        "login for %s with %s",
        "bob@example.com",
        "+14155550100",
        auth_token="abc",
        client_secret="s3cr3t",
        otp_code="4242",
        details={"password": "x", "email": "carol@example.com", "order_id": 7},
        order_id=7,
    )

    assert line["message"] == "login for [email] with [phone]"
    assert line["auth_token"] == line["client_secret"] == line["otp_code"] == "[redacted]"
    assert line["details"] == {"password": "[redacted]", "email": "[email]", "order_id": 7}
    assert line["order_id"] == 7


def test_it_scrubs_tracebacks():
    try:
        raise ValueError("duplicate key (email)=(dave@example.com)")
    except ValueError:
        import sys

        record = logging.LogRecord("samia.test", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    ScrubFilter().filter(record)
    rendered = JsonFormatter().format(record)

    assert "dave@example.com" not in rendered
    assert "[email]" in rendered


def test_every_configured_handler_scrubs():
    from django.conf import settings

    for name, handler in settings.LOGGING["handlers"].items():
        assert "scrub" in handler.get("filters", []), name


@pytest.mark.django_db
def test_it_logs_one_json_line_per_request_without_personal_data(make_user, caplog):
    user = make_user(email="erin@example.com")
    caplog.set_level(logging.INFO, logger="samia.request")

    response = api_as(user).get("/me", HTTP_X_REQUEST_ID="req-12345678")

    records = [r for r in caplog.records if r.name == "samia.request"]
    assert len(records) == 1
    record = records[0]
    assert (record.method, record.route, record.status) == ("GET", "me", 200)
    assert record.latency_ms >= 0
    assert response["X-Request-ID"] == "req-12345678"
    line = JsonFormatter().format(record)
    assert json.loads(line)["request_id"] == "req-12345678"
    assert "erin@example.com" not in line
