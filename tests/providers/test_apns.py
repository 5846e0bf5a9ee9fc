"""The APNs adapter: the real aioapns over HTTP/2 + TLS against the local fake APNs (tests/fakes/apns.py)."""

import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import jwt
import pytest

from samia.providers import apns
from samia.providers.apns import APNsProvider, reset_clients
from samia.providers.base import Health, Outcome, ProviderUnavailable
from tests.fakes import apns as fake_apns

KEY_ID = "ABC123DEFG"
TEAM_ID = "TEAM987654"
TOPIC = "com.samia.tarot"


@pytest.fixture(scope="module")
def key():
    return fake_apns.make_key()


@pytest.fixture(scope="module")
def server(key):
    with fake_apns.running(public_key=key[1]) as fake:
        yield fake


@pytest.fixture
def fake(server, key, settings):
    settings.APNS_KEY_PEM = key[0]
    settings.APNS_KEY_ID = KEY_ID
    settings.APNS_TEAM_ID = TEAM_ID
    settings.APNS_TOPIC = TOPIC
    settings.APNS_USE_SANDBOX = False
    settings.APNS_HOST = server.host
    settings.APNS_PORT = server.port
    settings.APNS_CA_FILE = server.ca_file
    settings.PROVIDER_TIMEOUT_SECONDS = 3.0
    server.reset()
    yield server
    reset_clients()


def _push(token="a1b2c3", **message):
    message = {"title": "Your reading is ready", "body": "Open the app to see it", **message}
    return APNsProvider().send(token=token, **message)


def _wait_until(condition, seconds=3.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_it_sends_an_alert_with_apple_headers(fake):
    # when
    before = int(time.time())
    result = _push(data={"order_id": "42"}, collapse_id="order-42", ttl_seconds=3600)
    after = int(time.time())

    # then
    [request] = fake.requests
    headers = request["headers"]
    assert (result.outcome, result.message_id, result.code) == (Outcome.SENT, headers["apns-id"], "")
    assert request["token"] == "a1b2c3"
    assert headers[":path"] == "/3/device/a1b2c3"
    assert headers["apns-push-type"] == "alert"
    assert headers["apns-priority"] == "5"
    assert headers["apns-topic"] == TOPIC
    assert headers["apns-collapse-id"] == "order-42"
    assert before + 3600 <= int(headers["apns-expiration"]) <= after + 3600
    assert request["payload"] == {
        "aps": {"alert": {"title": "Your reading is ready", "body": "Open the app to see it"}, "sound": "default"},
        "order_id": "42",
    }


def test_a_critical_alert_is_priority_10_and_an_empty_collapse_id_is_omitted(fake):
    result = _push(critical=True)

    [request] = fake.requests
    assert result.outcome is Outcome.SENT
    assert request["headers"]["apns-priority"] == "10"
    assert "apns-collapse-id" not in request["headers"]


def test_data_cannot_replace_the_aps_dictionary(fake):
    _push(data={"aps": "nope", "kind": "order"})

    [request] = fake.requests
    assert request["payload"]["aps"]["alert"]["title"] == "Your reading is ready"
    assert request["payload"]["kind"] == "order"


def test_it_signs_every_push_with_one_jwt_over_one_connection(fake):
    results = [_push(token=f"device{n}") for n in range(25)]

    assert {r.outcome for r in results} == {Outcome.SENT}
    assert len(fake.requests) == 25
    assert fake.connections == 1
    [token] = fake.jwts
    assert jwt.get_unverified_header(token)["kid"] == KEY_ID
    assert jwt.decode(token, options={"verify_signature": False})["iss"] == TEAM_ID


def test_a_new_connection_reuses_the_same_jwt(fake):
    # given: one push, then APNs closes the connection (as it does when idle or recycling)
    assert _push().ok
    fake.disconnect()
    _wait_until(lambda: not apns._client.pool.connections)

    # when
    result = _push()

    # then: aioapns alone would sign the second connection with a fresh JWT
    assert result.ok
    assert fake.connections == 2
    assert len(fake.jwts) == 1


@pytest.mark.parametrize(
    ("token", "outcome", "code"),
    [
        ("bad-1", Outcome.INVALID_RECIPIENT, "BadDeviceToken"),
        ("topic-1", Outcome.INVALID_RECIPIENT, "DeviceTokenNotForTopic"),
        ("big-1", Outcome.PERMANENT, "PayloadTooLarge"),
        ("busy-1", Outcome.RETRYABLE, "ServiceUnavailable"),
    ],
)
def test_it_maps_the_prefixed_errors(fake, token, outcome, code):
    result = _push(token=token)

    assert (result.outcome, result.code, result.message_id, result.details) == (outcome, code, "", {})


@pytest.mark.parametrize(
    ("status", "reason", "outcome"),
    [
        (400, "BadCollapseId", Outcome.PERMANENT),
        (400, "BadExpirationDate", Outcome.PERMANENT),
        (400, "BadDeviceToken", Outcome.INVALID_RECIPIENT),
        (403, "InvalidProviderToken", Outcome.PERMANENT),
        (403, "ExpiredProviderToken", Outcome.PERMANENT),
        (403, "TooManyProviderTokenUpdates", Outcome.PERMANENT),
        (413, "PayloadTooLarge", Outcome.PERMANENT),
        (429, "TooManyRequests", Outcome.RETRYABLE),
        (500, "InternalServerError", Outcome.RETRYABLE),
        (503, "ServiceUnavailable", Outcome.RETRYABLE),
        (503, "Shutdown", Outcome.RETRYABLE),
    ],
)
def test_it_maps_each_apns_error(fake, status, reason, outcome):
    fake.script("d00d", status, reason)

    result = _push(token="d00d")

    assert (result.outcome, result.code, result.retry_after_seconds) == (outcome, reason, None)


def test_retry_after_is_passed_on(fake):
    fake.script("d00d", 429, "TooManyRequests", retry_after=30)

    result = _push(token="d00d")

    assert (result.outcome, result.code, result.retry_after_seconds) == (Outcome.RETRYABLE, "TooManyRequests", 30)


def test_unregistered_carries_the_instant_apple_gave(fake):
    fake.script("gone", 410, "Unregistered", timestamp_ms=1_700_000_000_123)

    result = _push(token="gone")

    assert (result.outcome, result.code) == (Outcome.INVALID_RECIPIENT, "Unregistered")
    assert result.details == {"unregistered_at": "2023-11-14T22:13:20.123+00:00"}


def test_unregistered_by_prefix_is_dated_now(fake):
    before = time.time()
    result = _push(token="unregistered-1")

    assert result.outcome is Outcome.INVALID_RECIPIENT
    instant = datetime.fromisoformat(result.details["unregistered_at"])
    assert before - 1 <= instant.timestamp() <= time.time() + 1


def test_a_script_runs_out_after_its_times(fake):
    fake.script("twice", 503, "ServiceUnavailable", times=2)

    outcomes = [_push(token="twice").outcome for _ in range(3)]

    assert outcomes == [Outcome.RETRYABLE, Outcome.RETRYABLE, Outcome.SENT]


def test_error_bodies_never_exhaust_the_connection_window(fake, settings):
    # given: more error-body bytes than HTTP/2's initial 64 KiB receive window, on one connection
    settings.PROVIDER_TIMEOUT_SECONDS = 1.0
    reason = "BadTopic" + "x" * 1000
    fake.script("d00d", 400, reason, times=80)

    results = [_push(token="d00d") for _ in range(80)]

    assert {(r.outcome, r.code) for r in results} == {(Outcome.PERMANENT, reason)}
    assert fake.connections == 1


def test_a_late_answer_within_the_timeout_is_still_a_success(fake):
    fake.script("later", 200, delay=0.3)

    assert _push(token="later").ok


def test_a_wrong_key_is_refused_and_logged_by_code_only(fake, settings, caplog):
    # given: a key the fake does not trust (it verifies the ES256 signature)
    other_key, _ = fake_apns.make_key()
    settings.APNS_KEY_PEM = other_key

    with caplog.at_level(logging.WARNING, logger="samia.providers.apns"):
        result = _push()

    assert (result.outcome, result.code) == (Outcome.PERMANENT, "InvalidProviderToken")
    warnings = [r.getMessage() for r in caplog.records if r.name == "samia.providers.apns"]
    assert warnings == ["apns refused the provider credentials (InvalidProviderToken)"]


def test_an_unparseable_key_is_permanent_without_a_request(fake, settings):
    settings.APNS_KEY_PEM = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"

    result = _push()

    assert (result.outcome, result.code) == (Outcome.PERMANENT, "bad_key")
    assert fake.requests == []
    assert APNsProvider().probe() == Health("apns", False, "bad_key")


def test_a_silent_apns_is_an_unknown_outcome_within_the_timeout(fake, settings):
    settings.PROVIDER_TIMEOUT_SECONDS = 0.5

    started = time.monotonic()
    result = _push(token="slow-1")
    elapsed = time.monotonic() - started

    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "timeout")
    assert 0.5 <= elapsed < 0.5 + 0.4
    assert len(fake.requests) == 1  # it was written: a resend could duplicate it
    # the silent connection is dropped and the next push opens a fresh one
    assert _push().ok
    assert fake.connections == 2


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_refused_connection_is_retryable(fake, settings):
    settings.APNS_PORT = _closed_port()

    started = time.monotonic()
    result = _push()

    assert (result.outcome, result.code) == (Outcome.RETRYABLE, "connect")
    assert time.monotonic() - started < settings.PROVIDER_TIMEOUT_SECONDS
    assert APNsProvider().probe() == Health("apns", False, "connect")


def test_an_untrusted_certificate_is_retryable(fake, settings):
    settings.APNS_CA_FILE = ""  # the system CAs do not trust the fake's certificate

    result = _push()

    assert (result.outcome, result.code) == (Outcome.RETRYABLE, "connect")
    assert fake.requests == []


def test_probe_opens_a_connection_and_sends_nothing(fake):
    assert APNsProvider().probe() == Health("apns", True)
    _wait_until(lambda: fake.connections == 1)  # the server side finishes the TLS handshake last
    assert fake.requests == []


def test_unconfigured_is_unavailable_not_faked(fake, settings):
    settings.APNS_TEAM_ID = ""

    assert APNsProvider().configured() is False
    with pytest.raises(ProviderUnavailable, match="apns: not configured"):
        _push()
    assert APNsProvider().probe() == Health("apns", False, "not_configured")
    assert fake.requests == []


@pytest.mark.parametrize("token", ["", "abc/../../4/x", "abc def", "abc?x=1"])
def test_a_malformed_token_is_refused_before_sending(fake, token):
    result = _push(token=token)

    assert (result.outcome, result.code) == (Outcome.INVALID_RECIPIENT, "BadDeviceToken")
    assert fake.requests == []


def test_a_collapse_id_over_64_bytes_is_refused_before_sending(fake):
    assert _push(collapse_id="é" * 32).ok  # 64 bytes
    result = _push(collapse_id="é" * 33)

    assert (result.outcome, result.code) == (Outcome.PERMANENT, "BadCollapseId")
    assert len(fake.requests) == 1


def test_eight_threads_share_one_client(fake):
    def send(n):
        return _push(token=f"thread{n}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send, range(80)))

    assert [r.outcome for r in results] == [Outcome.SENT] * 80
    assert len({r.message_id for r in results}) == 80
    assert sorted(r["token"] for r in fake.requests) == sorted(f"thread{n}" for n in range(80))
    assert (fake.connections, len(fake.jwts)) == (1, 1)
    assert [t.name for t in threading.enumerate()].count("provider-loop") == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_builds_its_own_client(fake):
    # given: the parent has a client with an open connection
    assert _push().ok

    # when: a child (a Celery prefork worker) pushes
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status only
        try:
            os._exit(0 if _push(token="child").ok else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)

    # then: the child opened its own connection, and the parent's client still works
    assert os.waitstatus_to_exitcode(status) == 0
    assert fake.connections == 2
    assert _push().ok


def test_no_token_alert_text_or_key_reaches_the_logs(fake, key, settings, caplog):
    caplog.set_level(logging.DEBUG)
    settings.PROVIDER_TIMEOUT_SECONDS = 0.5
    fake.script("5ec7e7", 403, "ExpiredProviderToken")
    tokens = ["5ec7e7", "bad-5ec7e7", "unregistered-5ec7e7", "busy-5ec7e7", "slow-5ec7e7", "0k5ec7e7"]

    for token in tokens:
        _push(token=token, title="Secret title 7731", body="Private body 8842")
    settings.APNS_PORT = _closed_port()
    _push(token="5ec7e7", title="Secret title 7731", body="Private body 8842")

    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert caplog.records  # the failures above were logged, so the check below means something
    for secret in ["5ec7e7", "Secret title 7731", "Private body 8842", "PRIVATE KEY", *fake.jwts]:
        assert secret not in logged
