"""Notifications fixtures: the real provider clients pointed at local fake servers."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from notifications import schedule_requests
from samia.providers import registry
from tests.conftest import purge_committed_audit_trail
from tests.fakes import fcm as fake_fcm
from tests.fakes import twilio as fake_twilio

TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-test-auth-token"
SERVICE_SID = "MG" + "1" * 32


@pytest.fixture(scope="session")
def fcm_server():
    with fake_fcm.running() as server:
        server.key_file = fake_fcm.service_account_json(server.token_uri)
        yield server


@pytest.fixture(scope="session")
def twilio_server():
    with fake_twilio.running(TWILIO_SID, TWILIO_TOKEN, slow_seconds=2.0) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_providers():
    from notifications.dispatch import limits

    registry.get.cache_clear()
    limits.forget()  # no rate-limit bucket or provider pause carries over from another test
    yield
    registry.get.cache_clear()


@pytest.fixture
def fcm(fcm_server, settings):
    """FCM configured against the fake; returns the fake."""
    fcm_server.reset()
    settings.FCM_PROJECT_ID = "samia-test"
    settings.FCM_SERVICE_ACCOUNT_JSON = fcm_server.key_file
    settings.FCM_END_POINT_BASE = fcm_server.base_url
    settings.PROVIDER_TIMEOUT_SECONDS = 1.0
    registry.get.cache_clear()
    return fcm_server


@pytest.fixture
def twilio(twilio_server, settings):
    """Twilio SMS and WhatsApp configured against the fake; returns the fake."""
    twilio_server.reset()
    settings.TWILIO_ACCOUNT_SID = TWILIO_SID
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.TWILIO_MESSAGING_SERVICE_SID = SERVICE_SID
    settings.TWILIO_WHATSAPP_FROM = "whatsapp:+15005550006"
    settings.TWILIO_API_BASE = twilio_server.base_url
    settings.PUBLIC_BASE_URL = "https://api.samia.test"
    settings.PROVIDER_TIMEOUT_SECONDS = 1.0
    registry.get.cache_clear()
    return twilio_server


@pytest.fixture
def unconfigured(settings):
    """Every provider without credentials (the default on a fresh machine)."""
    for name in (
        "FCM_PROJECT_ID",
        "FCM_SERVICE_ACCOUNT_JSON",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_MESSAGING_SERVICE_SID",
        "APNS_KEY_PEM",
    ):
        setattr(settings, name, "")
    registry.get.cache_clear()


@pytest.fixture
def committed(transactional_db):
    """Tests whose data other connections (threads, a killed worker) must see.

    The audit trail refuses TRUNCATE, so before Django flushes the database the committed
    entries are purged the retention way: behind an anchor, with the purge switch on.
    """
    yield
    from django.db import connection, transaction

    purge_committed_audit_trail()
    with transaction.atomic(), connection.cursor() as cursor:
        # Django's flush does not see the partitions of events_raw.
        cursor.execute("DELETE FROM events_raw")


@pytest.fixture(scope="session")
def apns_server():
    from tests.fakes import apns as fake_apns

    private_pem, public_key = fake_apns.make_key()
    with fake_apns.running(public_key=public_key) as server:
        server.private_pem = private_pem
        yield server


@pytest.fixture
def apns(apns_server, settings):
    """APNs (token auth, HTTP/2 over TLS) configured against the fake; returns the fake."""
    from samia.providers.apns import reset_clients

    apns_server.reset()
    settings.APNS_KEY_PEM = apns_server.private_pem
    settings.APNS_KEY_ID = "ABC123DEFG"
    settings.APNS_TEAM_ID = "DEF123GHIJ"
    settings.APNS_TOPIC = "com.samia.app"
    settings.APNS_HOST = apns_server.host
    settings.APNS_PORT = apns_server.port
    settings.APNS_CA_FILE = apns_server.ca_file
    settings.PROVIDER_TIMEOUT_SECONDS = 2.0
    registry.get.cache_clear()
    yield apns_server
    reset_clients()


# Queued campaign schedules (test_schedule_job*.py, schedule_helpers.py).


@pytest.fixture
def queued(settings):
    settings.NOTIFICATIONS_SCHEDULE_JOB_USERS = 0


@pytest.fixture
def published(monkeypatch) -> list:
    """The orders requests send to the broker, kept here instead (the test runs the job itself)."""
    orders = []
    monkeypatch.setattr(schedule_requests, "_publish", orders.append)
    return orders


@pytest.fixture
def lock_holder(committed):
    """Another transaction holding a campaign's row as a running schedule does (FOR NO KEY UPDATE)."""
    database = connection.settings_dict
    holder = psycopg.connect(
        host=database["HOST"], port=database["PORT"], user=database["USER"], dbname=database["NAME"]
    )

    def hold(campaign_id: int) -> None:
        holder.execute("SELECT 1 FROM notifications_campaign WHERE id = %s FOR NO KEY UPDATE", [campaign_id])

    yield hold
    holder.rollback()
    holder.close()
