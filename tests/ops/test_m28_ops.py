"""M28 acceptance: rotation with grace, shared circuits, switches, credentials behind a probe, no secret leaks."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import subprocess
import sys
import time

import jwt
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connections
from rest_framework_simplejwt.tokens import AccessToken

from notifications import dispatch as dispatcher
from notifications import links
from notifications.models import Send
from ops.models import SecretRotation
from samia import secrets, storage
from samia.audit import minisign
from samia.audit.models import AuditEntry
from samia.providers import gates, registry
from samia.providers.base import Outcome, ProviderUnavailable, Result
from samia.rls.registry import Identity
from samia.secrets import keyring
from samia.secrets import services as secret_services
from tests.conftest import api_as, rows_as
from tests.notifications.conftest import SERVICE_SID, TWILIO_SID, TWILIO_TOKEN
from tests.notifications.helpers import notify, recipient
from tests.ops.conftest import age, end_grace, other_process

pytestmark = pytest.mark.django_db

SYSTEM = "system:ops"
TWILIO_ENV = {
    "TWILIO_ACCOUNT_SID": TWILIO_SID,
    "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
}


def rotate(name: str) -> dict:
    age(name, seconds=120)  # the last rotation (or the import) is older than the 60 s guard
    return secret_services.secret_rotate(name=name, actor=SYSTEM)


def retire(name: str) -> int:
    end_grace(name)
    return secret_services.secrets_retire_due()


# --- rotation with grace ---------------------------------------------------------------------------------------------


def test_a_jwt_of_the_old_key_works_in_its_grace_and_fails_after_retirement(personas):
    client = personas["client"]
    rotate("jwt")
    old = api_as(client)  # signed with version 2
    old_token = old._credentials["HTTP_AUTHORIZATION"].split()[1]
    assert jwt.get_unverified_header(old_token)["kid"] == secrets.current("jwt").key_id

    rotate("jwt")  # version 3 signs; version 2 verifies until its grace ends

    assert (
        jwt.get_unverified_header(api_as(client)._credentials["HTTP_AUTHORIZATION"].split()[1])["kid"]
        != (jwt.get_unverified_header(old_token)["kid"])
    )
    assert old.get("/me").status_code == 200
    assert retire("jwt") >= 1
    assert old.get("/me").status_code == 401
    assert api_as(client).get("/me").status_code == 200


def test_a_jwt_from_before_the_keyring_verifies_as_version_1(personas, settings):
    payload = {"token_type": "access", "user_id": personas["client"].pk, "exp": int(time.time()) + 60, "jti": "x"}
    legacy = jwt.encode(payload, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")  # no kid

    assert AccessToken(legacy)["user_id"] == personas["client"].pk
    forged = jwt.encode(payload, "another key", algorithm="HS256", headers={"kid": "env1"})
    with pytest.raises(Exception, match="invalid"):
        AccessToken(forged)


def test_a_tracking_link_of_the_old_key_works_in_its_grace_and_fails_after_retirement():
    rotate("tracking_links")
    token = links.sign(42, "open")
    rotate("tracking_links")

    assert links.verify(token, "open") == (42, "")
    retire("tracking_links")
    with pytest.raises(links.LinkError) as refused:
        links.verify(token, "open")
    assert refused.value.code == "unknown_key"


def test_a_signed_url_of_the_old_key_works_in_its_grace_and_fails_after_retirement():
    rotate("storage_urls")
    url = storage.signed_url(key="ar/1/model.glb", ttl_seconds=600, user_id=7).url
    token = url.rstrip("/").rsplit("/", 1)[-1]
    rotate("storage_urls")

    assert storage.signed_url_verify(token).key == "ar/1/model.glb"
    retire("storage_urls")
    with pytest.raises(storage.SignatureInvalid):
        storage.signed_url_verify(token)


def test_the_environment_keys_version_1_ends_when_it_is_retired():
    # given a link and a URL signed before any rotation, by the keys imported from the environment
    keyring.reload(keyring.generation())
    link = links.sign(42, "click", target="https://example.org/x")
    url = storage.signed_url(key="ar/1/model.glb", ttl_seconds=600, user_id=7).url.rsplit("/", 1)[-1]
    rotate("tracking_links")
    rotate("storage_urls")

    # when version 1 is retired (the settings still list its key)
    assert retire("tracking_links") == 1
    assert retire("storage_urls") == 1

    # then neither verifies any more
    with pytest.raises(links.LinkError):
        links.verify(link, "click")
    with pytest.raises(storage.SignatureInvalid):
        storage.signed_url_verify(url)


@pytest.mark.skipif(not subprocess.run(["which", "minisign"], capture_output=True).stdout, reason="no minisign")
@pytest.mark.django_db(transaction=True)  # the export commits (and lets go of the chain lock)
def test_an_export_signed_before_a_rotation_verifies_with_the_old_public_key(tmp_path):
    from samia.audit.services import export_month
    from tests.audit.conftest import IN_LAST_MONTH, LAST_MONTH, write

    write(3, at=IN_LAST_MONTH)
    export_month(month=LAST_MONTH, out_dir=tmp_path)
    old_id = minisign.configured_key().key_id_hex
    (tmp_path / "samia-audit.pub").unlink()  # the auditor fetches the key, not the one shipped alongside

    rotate("audit_signing")
    assert minisign.configured_key().key_id_hex != old_id
    retire("audit_signing")  # the private half signs nothing any more; its public half stays published

    answer = api_as().get(f"/admin/audit/public-key?key_id={old_id}")
    assert answer.status_code == 200
    (tmp_path / "old.pub").write_bytes(answer.content)
    result = subprocess.run(
        ["minisign", "-Vm", "manifest.json", "-p", "old.pub"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert f"key {old_id}" in result.stdout
    assert api_as().get("/admin/audit/public-key?key_id=0000000000000000").status_code == 404
    assert api_as().get("/admin/audit/public-key?key_id=nothex").status_code == 400


# --- circuits across processes ---------------------------------------------------------------------------------------


def test_five_failures_in_one_process_open_the_circuit_in_another_then_half_open_then_closed(settings, twilio):
    settings.PROVIDER_BREAKER_FAIL_MAX = 5
    settings.PROVIDER_BREAKER_RESET_SECONDS = 60

    opened = other_process("fail", "sms", "5")
    assert opened.stdout.split() == ["open"], opened.stderr

    with pytest.raises(ProviderUnavailable) as refused:
        registry.get("sms")
    assert refused.value.reason == "circuit_open"
    settings.PROVIDER_BREAKER_RESET_SECONDS = 1
    time.sleep(1.1)
    registry.get("sms")  # due a trial: half-open, seen by every process
    assert other_process("state", "sms").stdout.split() == ["half-open"]
    registry.breaker("sms").record(Result(Outcome.SENT, message_id="SM1"))
    assert other_process("state", "sms").stdout.split() == ["closed"]
    changes = [e.details for e in AuditEntry.objects.filter(action="ops.provider.circuit").order_by("seq")]
    assert [(c["from"], c["to"]) for c in changes if c["provider"] == "sms"][:1] == [("closed", "open")]
    assert all(e.actor_role == SYSTEM for e in AuditEntry.objects.filter(action="ops.provider.circuit"))


def test_a_refused_credential_or_payload_does_not_count(settings):
    settings.PROVIDER_BREAKER_FAIL_MAX = 5
    circuit = registry.breaker("whatsapp")
    for _ in range(10):
        circuit.call(lambda: Result(Outcome.PERMANENT, code="20003"))
        circuit.call(lambda: Result(Outcome.INVALID_RECIPIENT, code="21211"))

    assert circuit.state == "closed"


# --- switches --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_switch_reaches_another_process_within_5_seconds_and_sends_wait(personas, twilio):
    watcher = subprocess.Popen(
        [sys.executable, "-m", "tests.ops.worker", "watch", "sms", "10"],
        env={**os.environ, **_worker_env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=os.getcwd(),
    )
    try:
        assert watcher.stdout.readline().strip() == "ready"
        time.sleep(0.3)  # it has read (and cached) "on"
        answer = api_as(personas["admin"]).post(
            "/admin/providers/toggle", {"provider": "sms", "enabled": False, "reason": "carrier outage"}, format="json"
        )
        assert answer.status_code == 200, answer.content
        reason, seconds = watcher.stdout.readline().split()
    finally:
        watcher.kill()
        watcher.wait()
    assert reason == "provider_disabled" and float(seconds) < 5

    (send,) = notify(recipient())
    report = dispatcher.dispatch(budget_seconds=5)

    send = Send.objects.get(pk=send.pk)
    assert report["deferred"] == 1 and report["failed"] == 0
    assert send.state == "queued" and send.last_error in ("provider_disabled", "provider_unavailable")
    assert twilio.messages_posted() == []
    with pytest.raises(ProviderUnavailable) as refused:
        registry.get("sms")
    assert refused.value.reason == "disabled"
    entry = AuditEntry.objects.get(action="ops.provider.toggle")
    assert entry.details == {"provider": "sms", "enabled": False} and entry.actor_id == personas["admin"].pk
    _cleanup_committed()


def test_the_campaigns_switch_holds_marketing_sends_only(personas):
    answer = api_as(personas["superadmin"]).post(
        "/admin/providers/toggle", {"provider": "campaigns", "enabled": False, "reason": "complaint"}, format="json"
    )

    assert answer.status_code == 200
    assert gates.send_blocked(channel="sms", marketing=True) == "campaigns_disabled"
    assert gates.send_blocked(channel="sms", marketing=False) is None


def _worker_env() -> dict:
    from django.conf import settings

    database = connections["default"].settings_dict
    return {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}",
    }


def _cleanup_committed() -> None:
    from ops.models import ProviderState

    ProviderState.objects.all().delete()


# --- provider credentials --------------------------------------------------------------------------------------------


def test_secrets_set_with_a_credential_the_provider_refuses_keeps_the_old_version(twilio, monkeypatch):
    keyring.reload(keyring.generation())  # as a process starting with TWILIO_AUTH_TOKEN set: version 1
    before = secrets.verifying("twilio_auth_token")
    assert [(k.version, k.value) for k in before] == [(1, TWILIO_TOKEN.encode())]

    # The real command in another process, as an operator runs it: refused, exit 1.
    result = subprocess.run(
        [sys.executable, "manage.py", "secrets_set", "twilio_auth_token"],
        input="refused-token\n",
        env={**os.environ, **_worker_env(), **TWILIO_ENV, "TWILIO_API_BASE": twilio.base_url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "the previous version stays active" in result.stderr and "refused-token" not in result.stderr

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a-wrong-token\n")))
    with pytest.raises(CommandError, match="probe failed"):
        call_command("secrets_set", "twilio_auth_token")

    keyring.reload(keyring.generation())
    assert [(k.version, k.value) for k in secrets.verifying("twilio_auth_token")] == [(1, TWILIO_TOKEN.encode())]
    assert secrets.credential("twilio_auth_token") is None  # the adapter keeps reading TWILIO_AUTH_TOKEN
    refused = AuditEntry.objects.filter(action="ops.secret.set", outcome="failure")
    assert refused.exists() and "a-wrong-token" not in json.dumps([e.payload for e in refused])


def test_secrets_set_with_an_accepted_credential_activates_it(twilio, settings, monkeypatch):
    settings.TWILIO_AUTH_TOKEN = "the-old-token"  # the fake accepts TWILIO_TOKEN only
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(TWILIO_TOKEN.encode() + b"\n")))

    call_command("secrets_set", "twilio_auth_token", stdout=io.StringIO())

    assert secrets.credential("twilio_auth_token") == TWILIO_TOKEN
    assert registry.probe("sms").available


def test_secrets_set_refuses_a_stable_pseudonym_and_an_unknown_name(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"x\n")))
    with pytest.raises(CommandError, match="never rotated"):
        call_command("secrets_set", "EVENTS_HASH_KEY")
    with pytest.raises(CommandError, match="unknown"):
        call_command("secrets_set", "nothing")


# --- the routes ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "name", "status"),
    [
        ("admin", "tracking_links", 201),
        ("admin", "storage_urls", 201),
        ("admin", "jwt", 403),
        ("admin", "audit_signing", 403),
        ("superadmin", "jwt", 201),
        ("superadmin", "audit_signing", 201),
        ("monitor", "tracking_links", 403),
        ("client", "tracking_links", 403),
        ("superadmin", "nothing", 404),
        ("superadmin", "EVENTS_HASH_KEY", 409),
        ("superadmin", "NOTIFICATIONS_ADDRESS_KEY", 409),
        ("superadmin", "COMMUNITY_HANDLE_KEY", 409),
    ],
)
def test_rotate_answers_each_role_and_name(personas, persona, name, status):
    secrets.verifying("jwt")  # version 1 imported
    age(name, seconds=120)
    before = [(k.version, k.status) for k in secrets.verifying(name)] if name in ("jwt", "tracking_links") else None

    answer = api_as(personas[persona]).post("/admin/secrets/rotate", {"name": name}, format="json")

    assert answer.status_code == status, answer.content
    if status == 201:
        assert answer.json()["version"] == 2 and SecretRotation.objects.filter(name=name).count() == 1
    elif before is not None:
        assert [(k.version, k.status) for k in secrets.verifying(name)] == before  # nothing changed


def test_rotate_refuses_twice_within_a_minute_bad_input_and_no_master_key(personas, settings):
    admin = api_as(personas["admin"])
    age("tracking_links", seconds=120)
    assert admin.post("/admin/secrets/rotate", {"name": "tracking_links"}, format="json").status_code == 201
    again = admin.post("/admin/secrets/rotate", {"name": "tracking_links"}, format="json")
    assert again.status_code == 409 and again.json()["error"]["details"]["status"] == "rotated_recently"
    assert admin.post("/admin/secrets/rotate", {}, format="json").status_code == 400
    assert (
        admin.post("/admin/providers/toggle", {"provider": "sms", "enabled": False}, format="json").status_code == 400
    )
    assert (
        admin.post(
            "/admin/providers/toggle", {"provider": "nothing", "enabled": False, "reason": "x"}, format="json"
        ).status_code
        == 404
    )
    settings.SECRETS_MASTER_KEYS = []
    unavailable = admin.post("/admin/secrets/rotate", {"name": "storage_urls"}, format="json")
    assert unavailable.status_code == 503 and unavailable.json()["error"]["code"] == "secrets_unavailable"


def test_health_answers_admins_with_circuit_switch_and_probe(personas, twilio):
    assert api_as(personas["client"]).get("/admin/providers/health").status_code == 403
    answer = api_as(personas["admin"]).get("/admin/providers/health?probe=1")

    assert answer.status_code == 200
    sms = next(row for row in answer.json() if row["provider"] == "sms")
    assert sms["configured"] and sms["enabled"] and sms["circuit"] == "closed"
    assert sms["last_probe"]["ok"] is True
    assert api_as(personas["admin"]).get("/admin/providers/health?probe=maybe").status_code == 400


# --- no secret anywhere ----------------------------------------------------------------------------------------------


def test_no_secret_value_reaches_a_response_the_audit_trail_or_the_logs(personas, caplog, settings):
    caplog.set_level(logging.DEBUG)
    superadmin = api_as(personas["superadmin"])
    for name in ("jwt", "tracking_links", "storage_urls", "audit_signing"):
        age(name, seconds=120)
        assert superadmin.post("/admin/secrets/rotate", {"name": name}, format="json").status_code == 201
    responses = [superadmin.get("/admin/secrets").content.decode()]
    responses.append(superadmin.post("/admin/secrets/rotate", {"name": "jwt"}, format="json").content.decode())

    values = [
        key.value
        for name in ("jwt", "tracking_links", "storage_urls", "audit_signing")
        for key in secrets.verifying(name)
    ]
    values.append(settings.SECRETS_MASTER_KEYS[0].encode())
    forms = {v for value in values for v in (value.decode("latin-1"), base64.b64encode(value).decode(), value.hex())}
    trail = json.dumps([e.payload for e in AuditEntry.objects.all()])
    text = "\n".join([*responses, trail, caplog.text])
    assert [form for form in forms if len(form) >= 16 and form in text] == []
    listed = json.loads(responses[0])
    assert {"name", "version", "key_id", "fingerprint", "status"} <= set(listed["versions"][0])
    assert "ciphertext" not in responses[0] and "value" not in listed["versions"][0]


# --- the privilege proof ---------------------------------------------------------------------------------------------


def test_rls_check_proves_the_app_role_has_no_privilege_on_the_keyring(personas):
    output = io.StringIO()
    call_command("rls_check", stdout=output)
    (row,) = [line for line in output.getvalue().splitlines() if line.startswith("secrets_secretversion ")]
    assert row.split()[1:] == ["-"] * 6

    with pytest.raises(DatabaseError, match="permission denied"):
        rows_as(Identity(personas["superadmin"].pk, "superadmin"), "SELECT count(*) FROM secrets_secretversion")
