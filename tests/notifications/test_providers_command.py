"""manage.py notifications_providers: configured, answering, or neither, with codes only."""

import io

import pytest
from django.core.management import CommandError, call_command

from tests.notifications.conftest import TWILIO_TOKEN


def _run() -> str:
    out = io.StringIO()
    call_command("notifications_providers", stdout=out)
    return out.getvalue()


def test_unconfigured_providers_are_reported_as_such(unconfigured):
    text = _run()

    for name in ("fcm", "apns", "sms", "whatsapp"):
        assert any(line.startswith(name) and "not configured" in line for line in text.splitlines()), text


def test_configured_providers_answer_and_no_secret_is_printed(fcm, twilio):
    text = _run()

    lines = {line.split()[0]: line for line in text.splitlines()[1:]}
    assert "available" in lines["fcm"] and "available" in lines["sms"] and "available" in lines["whatsapp"]
    assert TWILIO_TOKEN not in text and "PRIVATE KEY" not in text


def test_a_configured_provider_that_does_not_answer_fails_the_command(twilio, settings):
    settings.TWILIO_AUTH_TOKEN = "wrong-token"
    from samia.providers import registry

    registry.get.cache_clear()

    with pytest.raises(CommandError, match="sms"):
        _run()
