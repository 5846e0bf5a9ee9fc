"""The Twilio adapters, with the real twilio library talking HTTP to the local fake (tests/fakes/twilio.py)."""

import json
import logging
import re
import socket
import time

import pytest

from samia.providers import registry
from samia.providers.base import Health, Outcome, ProviderUnavailable, Result
from samia.providers.twilio import SMSProvider, WhatsAppProvider
from tests.fakes.twilio import running

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "fake-auth-token-0123456789abcdef"
SERVICE_SID = "MG" + "b2" * 16
WHATSAPP_FROM = "+14155238886"
CALLBACK = "https://api.samia.example/webhooks/twilio/status"
NUMBER = "+447700900123"
BODY = "Your reading with Layla starts at 18:00"
TIMEOUT = 0.5


@pytest.fixture
def fake():
    with running(ACCOUNT_SID, AUTH_TOKEN, slow_seconds=TIMEOUT * 6) as server:
        yield server


@pytest.fixture
def twilio_settings(settings, fake):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_MESSAGING_SERVICE_SID = SERVICE_SID
    settings.TWILIO_WHATSAPP_FROM = ""
    settings.TWILIO_API_BASE = fake.base_url
    settings.PROVIDER_TIMEOUT_SECONDS = TIMEOUT
    return settings


@pytest.fixture
def sms(twilio_settings):
    return SMSProvider()


@pytest.fixture
def whatsapp(twilio_settings):
    return WhatsAppProvider()


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that nothing listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def unanswered_port():
    """A port whose accept queue is full: Linux drops further SYNs, so connecting times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(listener.getsockname())
        fillers.append(filler)
    yield listener.getsockname()[1]
    for sock in [*fillers, listener]:
        sock.close()


def test_it_sends_an_sms_through_the_messaging_service(sms, fake):
    result = sms.send(to=NUMBER, body=BODY, status_callback=CALLBACK)

    assert result.outcome is Outcome.SENT
    assert re.fullmatch(r"SM[0-9a-f]{32}", result.message_id)
    [request] = fake.requests
    assert (request.method, request.path, request.authorized) == (
        "POST",
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        True,
    )
    assert request.form == {"To": NUMBER, "Body": BODY, "MessagingServiceSid": SERVICE_SID, "StatusCallback": CALLBACK}


def test_it_leaves_out_the_status_callback_when_none_is_given(sms, fake):
    assert sms.send(to=NUMBER, body=BODY).ok

    assert fake.messages_posted() == [{"To": NUMBER, "Body": BODY, "MessagingServiceSid": SERVICE_SID}]


def test_whatsapp_sends_an_approved_template_from_its_sender(whatsapp, fake, twilio_settings):
    twilio_settings.TWILIO_WHATSAPP_FROM = WHATSAPP_FROM
    variables = {"1": "ليلى", "2": "18:00"}

    result = whatsapp.send(to=NUMBER, content_sid="HX" + "c3" * 16, content_variables=variables)

    assert result.outcome is Outcome.SENT
    [form] = fake.messages_posted()
    assert json.loads(form.pop("ContentVariables")) == variables
    assert form == {
        "To": f"whatsapp:{NUMBER}",
        "From": f"whatsapp:{WHATSAPP_FROM}",
        "MessagingServiceSid": SERVICE_SID,
        "ContentSid": "HX" + "c3" * 16,
    }


def test_whatsapp_free_form_goes_through_the_messaging_service_alone(whatsapp, fake):
    assert whatsapp.send(to=NUMBER, body=BODY, status_callback=CALLBACK).ok

    assert fake.messages_posted() == [
        {"To": f"whatsapp:{NUMBER}", "Body": BODY, "MessagingServiceSid": SERVICE_SID, "StatusCallback": CALLBACK}
    ]


@pytest.mark.parametrize(
    "message",
    [
        {},
        {"body": BODY, "content_sid": "HX" + "c3" * 16},
        {"body": BODY, "content_variables": {"1": "Layla"}},
    ],
    ids=["neither", "both", "variables-without-template"],
)
@pytest.mark.parametrize("provider_class", [SMSProvider, WhatsAppProvider])
def test_it_refuses_anything_but_one_body_or_one_template(twilio_settings, fake, provider_class, message):
    with pytest.raises(ValueError):
        provider_class().send(to=NUMBER, **message)

    assert fake.requests == []


@pytest.mark.parametrize(
    ("to", "outcome", "code", "retry_after"),
    [
        ("+447700900000", Outcome.INVALID_RECIPIENT, "21610", None),
        ("+447700901111", Outcome.INVALID_RECIPIENT, "21211", None),
        ("+447700902222", Outcome.RETRYABLE, "20429", 5),
        ("+447700903333", Outcome.RETRYABLE, "20503", None),
    ],
)
def test_it_maps_the_fakes_default_answers(sms, fake, to, outcome, code, retry_after):
    result = sms.send(to=to, body=BODY)

    assert (result.outcome, result.code, result.retry_after_seconds) == (outcome, code, retry_after)
    assert len(fake.requests) == 1  # no retries


@pytest.mark.parametrize(
    ("status", "code", "retry_after", "outcome"),
    [
        (400, 21610, None, Outcome.INVALID_RECIPIENT),
        (400, 21211, None, Outcome.INVALID_RECIPIENT),
        (400, 21614, None, Outcome.INVALID_RECIPIENT),
        (400, 21612, None, Outcome.INVALID_RECIPIENT),
        (400, 63003, None, Outcome.INVALID_RECIPIENT),
        (400, 63016, None, Outcome.PERMANENT),
        (401, 20003, None, Outcome.PERMANENT),
        (404, 20404, None, Outcome.PERMANENT),
        (400, 21408, None, Outcome.PERMANENT),
        (429, 20429, 12, Outcome.RETRYABLE),
        (429, 20429, None, Outcome.RETRYABLE),
        (500, 20500, None, Outcome.RETRYABLE),
        (503, 20503, 30, Outcome.RETRYABLE),
    ],
)
@pytest.mark.parametrize("provider_class", [SMSProvider, WhatsAppProvider])
def test_it_maps_each_twilio_error(twilio_settings, fake, provider_class, status, code, retry_after, outcome):
    fake.script(NUMBER, status=status, code=code, retry_after=retry_after)

    result = provider_class().send(to=NUMBER, body=BODY)

    assert result == Result(outcome, code=str(code), retry_after_seconds=retry_after, details={"http_status": status})
    assert len(fake.requests) == 1  # no retries, whatever the answer


def test_a_retry_after_date_becomes_seconds(sms, fake):
    fake.script(NUMBER, status=429, code=20429, retry_after="Fri, 01 Jan 2100 00:00:00 GMT")

    result = sms.send(to=NUMBER, body=BODY)

    assert result.outcome is Outcome.RETRYABLE
    assert result.retry_after_seconds > 365 * 24 * 3600


def test_a_refusal_then_a_success_each_take_one_request(sms, fake):
    fake.script(NUMBER, status=503, code=20503, retry_after=3)

    first, second = sms.send(to=NUMBER, body=BODY), sms.send(to=NUMBER, body=BODY)

    assert (first.outcome, first.retry_after_seconds, second.outcome) == (Outcome.RETRYABLE, 3, Outcome.SENT)
    assert len(fake.requests) == 2


def test_wrong_credentials_are_permanent(fake, twilio_settings):
    twilio_settings.TWILIO_AUTH_TOKEN = "not-the-token"

    result = SMSProvider().send(to=NUMBER, body=BODY)

    assert (result.outcome, result.code) == (Outcome.PERMANENT, "20003")
    assert [r.authorized for r in fake.requests] == [False]


def test_a_read_timeout_is_an_unknown_outcome(sms, fake):
    started = time.monotonic()

    result = sms.send(to="+447700909999", body=BODY)

    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "timeout")
    assert time.monotonic() - started < TIMEOUT * 4
    assert len(fake.requests) == 1


def test_a_connection_closed_after_sending_is_an_unknown_outcome(sms, fake):
    fake.script(NUMBER, disconnect=True)

    result = sms.send(to=NUMBER, body=BODY)

    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "timeout")
    assert len(fake.requests) == 1


def test_a_refused_connection_is_retryable(twilio_settings, closed_port):
    twilio_settings.TWILIO_API_BASE = f"http://127.0.0.1:{closed_port}"

    result = SMSProvider().send(to=NUMBER, body=BODY)

    assert result == Result(Outcome.RETRYABLE, code="connect")


def test_a_connect_timeout_is_retryable(twilio_settings, unanswered_port):
    twilio_settings.TWILIO_API_BASE = f"http://127.0.0.1:{unanswered_port}"

    result = SMSProvider().send(to=NUMBER, body=BODY)

    assert result == Result(Outcome.RETRYABLE, code="connect")


def test_the_client_is_built_once_with_no_retries(sms):
    client = sms.client

    assert sms.client is client
    assert client.http_client.timeout == TIMEOUT
    for url in ("https://api.twilio.com", "http://127.0.0.1"):
        retries = client.http_client.session.get_adapter(url).max_retries
        assert (retries.total, retries.read) == (0, False)


@pytest.mark.parametrize("missing", ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_MESSAGING_SERVICE_SID"])
@pytest.mark.parametrize("provider_class", [SMSProvider, WhatsAppProvider])
def test_an_unconfigured_provider_is_unavailable(twilio_settings, fake, provider_class, missing):
    setattr(twilio_settings, missing, "")
    provider = provider_class()

    with pytest.raises(ProviderUnavailable, match=f"{provider.name}: not configured"):
        provider.send(to=NUMBER, body=BODY)

    assert provider.configured() is False
    assert provider.probe() == Health(provider.name, False, "not_configured")
    assert fake.requests == []


def test_the_whatsapp_sender_is_optional(twilio_settings):
    twilio_settings.TWILIO_WHATSAPP_FROM = WHATSAPP_FROM
    assert WhatsAppProvider().configured() is True
    twilio_settings.TWILIO_WHATSAPP_FROM = ""
    assert WhatsAppProvider().configured() is True


def test_probe_fetches_the_account(sms, fake):
    assert sms.probe() == Health("sms", True)

    [request] = fake.requests
    assert (request.method, request.path, request.authorized) == (
        "GET",
        f"/2010-04-01/Accounts/{ACCOUNT_SID}.json",
        True,
    )


def test_probe_reports_bad_credentials(twilio_settings, fake):
    twilio_settings.TWILIO_AUTH_TOKEN = "not-the-token"

    assert WhatsAppProvider().probe() == Health("whatsapp", False, "http_401")


def test_probe_reports_an_unreachable_api(twilio_settings, closed_port):
    twilio_settings.TWILIO_API_BASE = f"http://127.0.0.1:{closed_port}"

    assert SMSProvider().probe() == Health("sms", False, "connect")


def test_the_registry_serves_both_adapters(twilio_settings):
    twilio_settings.PROVIDERS = {
        "sms": "samia.providers.twilio.SMSProvider",
        "whatsapp": "samia.providers.twilio.WhatsAppProvider",
    }
    registry.get.cache_clear()
    try:
        assert type(registry.adapter("sms")) is SMSProvider  # get() wraps it in its circuit
        assert type(registry.adapter("whatsapp")) is WhatsAppProvider
        registry.get("sms")
        assert registry.health() == [Health("sms", True), Health("whatsapp", True)]
    finally:
        registry.get.cache_clear()


def test_no_number_body_or_secret_reaches_a_log_or_a_result(sms, whatsapp, fake, caplog):
    caplog.set_level(logging.DEBUG)  # the root logger would take everything twilio's client logs
    fake.script(NUMBER, status=400, code=21211)  # Twilio's message for 21211 quotes the number

    results = [
        sms.send(to=NUMBER, body=BODY, status_callback=CALLBACK),
        sms.send(to=NUMBER, body=BODY),
        whatsapp.send(to=NUMBER, content_sid="HX" + "c3" * 16, content_variables={"1": "Layla"}),
        sms.send(to="+447700909999", body=BODY),
    ]

    assert [r.outcome for r in results] == [Outcome.INVALID_RECIPIENT, Outcome.SENT, Outcome.SENT, Outcome.UNKNOWN]
    assert logging.getLogger("twilio.http_client").getEffectiveLevel() == logging.WARNING
    assert [r.name for r in caplog.records if r.name.startswith("twilio")] == []
    sends = [r for r in caplog.records if r.name == "samia.providers.twilio"]
    assert [(r.outcome, r.code) for r in sends] == [
        ("invalid_recipient", "21211"),
        ("sent", ""),
        ("sent", ""),
        ("unknown", "timeout"),
    ]
    logged = caplog.text + repr([r.__dict__ for r in caplog.records]) + repr(results)
    for secret in (NUMBER, "447700900123", BODY, "Layla", AUTH_TOKEN, "+447700909999"):
        assert secret not in logged


def test_the_fake_gives_realistic_webhook_forms(sms, fake):
    sid = sms.send(to=NUMBER, body=BODY).message_id

    assert fake.status_callback_form(sid, "undelivered", error_code=30003) == {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": "undelivered",
        "SmsStatus": "undelivered",
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "To": NUMBER,
        "MessagingServiceSid": SERVICE_SID,
        "ErrorCode": "30003",
    }
    inbound = fake.inbound_form(f"whatsapp:{NUMBER}", "STOP", opt_out_type="STOP")
    assert (inbound["From"], inbound["To"], inbound["Body"], inbound["OptOutType"]) == (
        f"whatsapp:{NUMBER}",
        "whatsapp:+15005550006",
        "STOP",
        "STOP",
    )
    assert re.fullmatch(r"SM[0-9a-f]{32}", inbound["MessageSid"])
    assert "OptOutType" not in fake.inbound_form(NUMBER, "hello")
