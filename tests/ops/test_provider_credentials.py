"""Provider credentials through `manage.py secrets_set NAME`: each one probed with the NEW value against
the fake provider (real client libraries over real sockets) before it is activated; a refused value
keeps the version in use and exits 1; an accepted one is what the sync and the dispatcher's async
sends use from then on."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import jwt
import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from samia import secrets
from samia.audit.models import AuditEntry
from samia.providers import aio, registry
from samia.providers.apns import reset_clients
from samia.providers.base import Health
from samia.secrets import catalog, keyring
from tests.fakes import apns as fake_apns
from tests.fakes import deepl as fake_deepl
from tests.fakes import fcm as fake_fcm
from tests.notifications.conftest import TWILIO_TOKEN

pytestmark = pytest.mark.django_db

PUSH = {"title": "Your reading is ready", "body": "Tap to open it"}


def secrets_set(name: str, value: str, *options: str) -> str:
    out = io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(value.encode() + b"\n"))
    try:
        call_command("secrets_set", name, *options, stdout=out)
    finally:
        sys.stdin = stdin
    return out.getvalue()


def versions(name: str) -> list[tuple[int, str, bool]]:
    keyring.reload(keyring.generation())
    return [(key.version, key.status, key.from_environment) for key in secrets.verifying(name)]


def refusals() -> list[dict]:
    return [entry.payload for entry in AuditEntry.objects.filter(action="ops.secret.set", outcome="failure")]


def rotations() -> list[dict]:
    return [entry.payload for entry in AuditEntry.objects.filter(action="ops.secret.rotate")]


def fresh(name: str):
    registry.get.cache_clear()
    return registry.adapter(name)


# --- FCM: the service account ----------------------------------------------------------------------------------------


@pytest.fixture
def fcm(settings):
    with fake_fcm.running() as fake:
        old = fake_fcm.service_account_json(fake.token_uri)
        settings.FCM_PROJECT_ID = "samia-test"
        settings.FCM_SERVICE_ACCOUNT_JSON = old
        settings.FCM_END_POINT_BASE = fake.base_url
        settings.PROVIDER_TIMEOUT_SECONDS = 2.0
        registry.get.cache_clear()
        yield fake, old
    registry.get.cache_clear()


def test_fcm_a_service_account_the_token_endpoint_refuses_keeps_the_old_one(fcm):
    fake, _ = fcm
    refused = fake_fcm.service_account_json(fake.token_uri)
    fake.revoke(refused)

    with pytest.raises(CommandError, match=r"probe failed \(fcm_invalid_grant\)"):
        secrets_set("fcm_service_account", refused)

    assert versions("fcm_service_account") == [(1, "active", True)]
    assert secrets.credential("fcm_service_account") is None
    assert fresh("fcm").probe() == Health("fcm", True)  # the old one still serves
    assert len(refusals()) == 1 and "fcm_invalid_grant" in json.dumps(refusals())
    assert json.loads(refused)["private_key_id"] not in json.dumps(refusals())


def test_fcm_an_unreadable_key_file_is_refused_before_any_request(fcm):
    fake, _ = fcm

    with pytest.raises(CommandError, match=r"probe failed \(fcm_invalid_service_account\)"):
        secrets_set("fcm_service_account", '["not", "a", "key file"]')

    assert fake.token_calls == 0
    assert versions("fcm_service_account") == [(1, "active", True)]


def test_fcm_an_accepted_service_account_serves_sync_and_async_sends_with_a_new_access_token(fcm):
    fake, old = fcm
    provider = fresh("fcm")
    assert provider.send(token="device-1", **PUSH).ok  # an access token of the old account, cached
    assert fake.token_calls == 1
    new = fake_fcm.service_account_json(fake.token_uri)

    output = secrets_set("fcm_service_account", new)

    assert "fcm_service_account version 2 active" in output
    assert versions("fcm_service_account") == [(2, "active", False)]
    assert secrets.credential("fcm_service_account") == new
    # The old key is deleted in Google's console: nothing may still use it.
    fake.revoke(old)
    fake.expire_access_tokens()
    # the same adapter (a batch already held it) and the dispatcher's async path
    assert provider.send(token="device-2", **PUSH).ok
    assert aio.call(fresh("fcm").send_async(token="device-3", **PUSH), timeout=10).ok
    # one for the old account, one for the probe of the new one, then one per client of the new one
    assert fake.token_calls == 4
    assert len(rotations()) == 1 and "fcm_service_account" in json.dumps(rotations())
    assert json.loads(new)["private_key"] not in json.dumps(rotations())


# --- APNs: the .p8 key and its key id --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def apns_server():
    old_pem, old_public = fake_apns.make_key()
    with fake_apns.running() as fake:
        yield fake, old_pem, old_public


@pytest.fixture
def apns(apns_server, settings):
    fake, old_pem, old_public = apns_server
    fake.reset()
    fake.trust("OLDKEY0001", old_public)
    settings.APNS_KEY_PEM = old_pem
    settings.APNS_KEY_ID = "OLDKEY0001"
    settings.APNS_TEAM_ID = "TEAM987654"
    settings.APNS_TOPIC = "com.samia.tarot"
    settings.APNS_HOST = fake.host
    settings.APNS_PORT = fake.port
    settings.APNS_CA_FILE = fake.ca_file
    settings.PROVIDER_TIMEOUT_SECONDS = 3.0
    fake.public_key = old_public  # a JWT naming an unknown key id verifies with the old key: it fails
    registry.get.cache_clear()
    yield fake
    reset_clients()
    registry.get.cache_clear()


def kid_of(request: dict) -> str:
    return jwt.get_unverified_header(request["jwt"])["kid"]


def test_apns_a_key_apple_does_not_know_keeps_the_old_one(apns):
    unknown_pem, _ = fake_apns.make_key()

    with pytest.raises(CommandError, match=r"probe failed \(apns_InvalidProviderToken\)"):
        secrets_set("apns_key", unknown_pem, "--key-id", "NEWKEY0002")

    assert versions("apns_key") == [(1, "active", True)]
    assert secrets.credential("apns_key") is None
    [probe] = apns.requests
    assert (probe["token"], probe["headers"]["apns-push-type"], kid_of(probe)) == ("0" * 64, "background", "NEWKEY0002")
    assert fresh("apns").send(token="a1b2c3", **PUSH).ok
    assert kid_of(apns.requests[-1]) == "OLDKEY0001"
    assert "PRIVATE KEY" not in json.dumps(refusals())


def test_apns_an_accepted_key_signs_every_push_from_then_on(apns):
    assert fresh("apns").send(token="a1b2c3", **PUSH).ok
    new_pem, new_public = fake_apns.make_key()
    apns.trust("NEWKEY0002", new_public)

    output = secrets_set("apns_key", new_pem, "--key-id", "NEWKEY0002")

    assert "apns_key version 2 active" in output
    assert versions("apns_key") == [(2, "active", False)]
    assert json.loads(secrets.credential("apns_key")) == {"key_id": "NEWKEY0002", "key": new_pem.strip() + "\n"}
    assert fresh("apns").send(token="a1b2c4", **PUSH).ok
    assert aio.call(fresh("apns").send_async(token="a1b2c5", **PUSH), timeout=10).ok
    assert [kid_of(request) for request in apns.requests] == ["OLDKEY0001", "NEWKEY0002", "NEWKEY0002", "NEWKEY0002"]
    assert "PRIVATE KEY" not in json.dumps(rotations())


@pytest.mark.parametrize("options", [(), ("--key-id", "")])
def test_apns_needs_its_key_id_and_other_credentials_take_none(apns, options):
    with pytest.raises(CommandError, match="--key-id goes with apns_key"):
        secrets_set("apns_key", "pem", *options)
    with pytest.raises(CommandError, match="--key-id goes with apns_key"):
        secrets_set("deepl_auth_key", "some-key", "--key-id", "X")
    assert apns.requests == []


def test_apns_the_environment_key_is_version_1(apns, settings):
    keyring.reload(keyring.generation())
    [version_1] = secrets.verifying("apns_key")

    assert json.loads(version_1.value) == {"key_id": "OLDKEY0001", "key": settings.APNS_KEY_PEM}
    assert catalog.kind("apns_key") == "credential"


# --- DeepL: the auth key ---------------------------------------------------------------------------------------------


@pytest.fixture
def deepl(settings):
    with fake_deepl.running("old-key:fx") as fake:
        settings.DEEPL_AUTH_KEY = "old-key:fx"
        settings.DEEPL_SERVER_URL = fake.base_url
        settings.PROVIDER_TIMEOUT_SECONDS = 2.0
        registry.get.cache_clear()
        yield fake
    registry.get.cache_clear()


def test_deepl_a_key_deepl_refuses_keeps_the_old_one(deepl):
    with pytest.raises(CommandError, match=r"probe failed \(translation_unauthorized\)"):
        secrets_set("deepl_auth_key", "unknown-key:fx")

    assert versions("deepl_auth_key") == [(1, "active", True)]
    assert [request.authorized for request in deepl.requests] == [False]
    assert fresh("translation").send(texts=["love"], source="en", target="ar").ok
    assert "unknown-key" not in json.dumps(refusals())


def test_deepl_an_accepted_key_translates_from_then_on(deepl):
    deepl.accept("new-key:fx")

    secrets_set("deepl_auth_key", "new-key:fx")
    deepl.auth_key = "new-key:fx"  # the old key is deleted in DeepL's console
    deepl.refuse("new-key:fx")

    assert versions("deepl_auth_key") == [(2, "active", False)]
    assert fresh("translation").send(texts=["love"], source="en", target="ar").ok
    assert aio.call(fresh("translation").send_async(texts=["today"], source="en", target="ar"), timeout=10).ok
    assert all(request.authorized for request in deepl.requests)


# --- Twilio: the auth token (tests/ops/test_m28_ops.py has the refusal) -------------------------------------------


def test_twilio_an_accepted_token_serves_an_adapter_built_before_sync_and_async(twilio, settings):
    settings.TWILIO_AUTH_TOKEN = "the-old-token"  # the fake accepts TWILIO_TOKEN only
    provider = fresh("sms")
    message = {"to": "+15005550009", "body": "Your reading is ready"}
    assert provider.send(**message).code == "20003"  # the old token, refused

    secrets_set("twilio_auth_token", TWILIO_TOKEN)

    assert provider.send(**message).ok
    assert aio.call(provider.send_async(**message), timeout=10).ok
    assert aio.call(fresh("whatsapp").send_async(**message), timeout=10).ok


# --- the real command, as an operator runs it ------------------------------------------------------------------------


def test_the_command_exits_1_and_names_no_value_when_the_provider_refuses(deepl, settings):
    database = connections["default"].settings_dict
    result = subprocess.run(
        [sys.executable, "manage.py", "secrets_set", "deepl_auth_key"],
        input="refused-key:fx\n",
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}",
            "DEEPL_AUTH_KEY": "old-key:fx",
            "DEEPL_SERVER_URL": deepl.base_url,
        },
        capture_output=True,
        text=True,
        check=False,
        cwd=settings.BASE_DIR,
    )

    assert result.returncode == 1, result.stderr
    assert "translation_unauthorized" in result.stderr and "the previous version stays active" in result.stderr
    assert "refused-key" not in result.stderr + result.stdout
    assert versions("deepl_auth_key") == [(1, "active", True)]
