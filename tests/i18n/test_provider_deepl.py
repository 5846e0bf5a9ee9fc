"""The DeepL adapter with the real `deepl` client against the fake DeepL over HTTP: mapping, no retries, probe."""

import logging
import socket
import time
from email.utils import formatdate

import pytest

from samia.providers import registry
from samia.providers.base import Outcome, ProviderUnavailable
from samia.providers.deepl import DeepLProvider
from tests.i18n.conftest import AUTH_KEY


def send(texts=("Love today",), **options):
    return DeepLProvider().send(texts=list(texts), source="en", target="ar", **options)


def test_it_translates_with_xml_tag_handling_in_one_request(deepl):
    result = send(['Your order <x id="0"/> is ready', "luck"])
    assert (result.outcome, result.texts, result.characters) == (
        Outcome.SENT,
        ('ك الطلب <x id="0"/> جاهز', "الحظ"),
        len('Your order <x id="0"/> is ready') + 4,
    )
    (body,) = deepl.translate_requests()
    assert {k: body[k] for k in ("source_lang", "target_lang", "tag_handling", "ignore_tags")} == {
        "source_lang": "EN",
        "target_lang": "AR",
        "tag_handling": "xml",
        "ignore_tags": ["x"],
    }
    assert all(r.authorized for r in deepl.requests)


def test_it_asks_for_american_english_when_translating_into_english(deepl):
    result = DeepLProvider().send(texts=["الحظ اليوم"], source="ar", target="en")
    assert (result.texts, deepl.translate_requests()[0]["target_lang"]) == (("luck today",), "EN-US")


@pytest.mark.parametrize(
    ("status", "retry_after", "outcome", "code", "seconds"),
    [
        (456, None, Outcome.RETRYABLE, "quota_exceeded", 3600),
        (429, 7, Outcome.RETRYABLE, "rate_limited", 7),
        (429, None, Outcome.RETRYABLE, "rate_limited", 60),
        (503, None, Outcome.RETRYABLE, "http_503", 60),
        (500, 2, Outcome.RETRYABLE, "http_500", 2),
        (400, None, Outcome.PERMANENT, "http_400", None),
    ],
)
def test_it_maps_each_failure_without_retrying(deepl, status, retry_after, outcome, code, seconds):
    deepl.script(status, retry_after=retry_after)
    result = send()
    assert (result.outcome, result.code, result.retry_after_seconds) == (outcome, code, seconds)
    assert len(deepl.translate_requests()) == 1


def test_it_reads_retry_after_given_as_an_http_date(deepl):
    deepl.script(429, retry_after=formatdate(time.time() + 30, usegmt=True))
    assert send().retry_after_seconds in (29, 30, 31)


def test_it_reports_a_refused_key_as_permanent(deepl, settings):
    settings.DEEPL_AUTH_KEY = "wrong-key:fx"
    assert (send().outcome, send().code) == (Outcome.PERMANENT, "unauthorized")


def test_it_reports_a_refused_connection_as_retryable(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.DEEPL_AUTH_KEY, settings.DEEPL_SERVER_URL = AUTH_KEY, f"http://127.0.0.1:{port}"
    assert (send().outcome, send().code) == (Outcome.RETRYABLE, "connect")


def test_it_reports_an_answer_later_than_the_timeout_as_unknown(deepl, settings):
    settings.PROVIDER_TIMEOUT_SECONDS = 0.3
    deepl.script(delay=2)
    result = DeepLProvider().send(texts=["Love"], source="en", target="ar")
    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "timeout")
    assert len(deepl.translate_requests()) == 1


def test_it_refuses_more_than_fifty_texts(deepl):
    with pytest.raises(ValueError):
        send(["x"] * 51)
    assert deepl.requests == []


def test_unconfigured_it_is_unavailable_and_sends_nothing(settings):
    settings.DEEPL_AUTH_KEY = ""
    with pytest.raises(ProviderUnavailable):
        send()
    assert registry.probe("translation").detail == "not_configured"


def test_the_probe_reads_the_usage(deepl, settings):
    assert DeepLProvider().probe().available
    deepl.character_count = deepl.character_limit
    assert DeepLProvider().probe().detail == "quota_exceeded"
    settings.DEEPL_AUTH_KEY = "wrong-key:fx"
    assert DeepLProvider().probe().detail == "unauthorized"
    assert [r.path for r in deepl.requests] == ["/v2/usage"] * 3


def test_the_registry_serves_the_adapter(deepl):
    assert isinstance(registry.adapter("translation"), DeepLProvider)


def test_no_key_or_text_reaches_a_log(deepl, caplog):
    caplog.set_level(logging.DEBUG)
    deepl.script(456)
    send(["A private horoscope text"])
    send(["A private horoscope text"])
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "quota_exceeded" in logged
    assert AUTH_KEY not in logged and "private horoscope" not in logged
