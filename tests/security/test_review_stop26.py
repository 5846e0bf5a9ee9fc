"""Review stop 26: attacks on what changed this session (ops back office, provider switches S5,
provider credentials through `secrets_set`, the phone-language proof F5), each with real requests,
real SQL as the app role, or the real command.

Findings the reviewer fixed have a test that failed before the fix. Findings in another engineer's
area are `xfail(strict=True)` reproducers: they pass (and so fail the run) once the hole is closed.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import os
import subprocess
import sys
import time

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import Client

from i18n import selectors as i18n_selectors
from i18n import sql as i18n_sql
from ops.models import ProviderState, SecretRotation
from samia.audit.models import AuditEntry
from samia.providers import toggles
from samia.redis import get_redis, key
from samia.rls import binding
from samia.rls.binding import bound
from samia.rls.registry import ANONYMOUS_IDENTITY, Identity
from samia.secrets import keyring, store
from samia.secrets import services as secrets
from tests import factories
from tests.backoffice.test_ops_admin import _logged_in
from tests.conftest import api_as, rows_as
from tests.ops.conftest import clean_keyring  # noqa: F401  (autouse: the keyring commits on its own connection)
from tests.ops.test_provider_credentials import deepl, versions  # noqa: F401

pytestmark = pytest.mark.django_db

STATES = "/backoffice/ops/providerstate/"
PROBES = "/backoffice/ops/providerprobe/"
ROTATIONS = "/backoffice/ops/secretrotation/"
ROTATE = f"{ROTATIONS}rotate/"
PHONE = "+966500000026"


def _nothing_changed() -> None:
    assert not ProviderState.objects.exists() and not SecretRotation.objects.exists()
    assert not AuditEntry.objects.filter(action__in=["ops.provider.toggle", "ops.secret.rotate"]).exists()


# --- 1. the back office, per role and with crafted posts -------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "form"), [(f"{STATES}add/", {"name": "sms", "reason": "outage"}), (ROTATE, {"name": "jwt", "reason": "x"})]
)
def test_a_post_without_the_csrf_token_changes_nothing(personas, url, form):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["superadmin"])

    assert client.post(url, form).status_code == 403
    _nothing_changed()


@pytest.mark.parametrize(
    ("role", "form"),
    [
        ("admin", {"name": "audit_signing", "reason": "schedule"}),  # a superadmin's key
        ("admin", {"name": ["tracking_links", "jwt"], "reason": "schedule"}),  # the last value counts: jwt
        ("admin", {"name": "tracking_links", "reason": ["schedule", "x y"]}),
        ("admin", {"name": "x" * 300_000, "reason": "schedule"}),
        ("admin", {"name": "tracking_links", "reason": "جدول"}),
        ("admin", {"name": "tracking_links", "reason": "schedule\n; DROP TABLE x"}),
        ("superadmin", {"name": "twilio_auth_token", "reason": "schedule"}),  # a credential: secrets_set only
        ("superadmin", {"name": "EVENTS_HASH_KEY", "reason": "schedule"}),
        ("monitor", {"name": "tracking_links", "reason": "schedule"}),
        ("reader", {"name": "tracking_links", "reason": "schedule"}),
    ],
)
def test_a_crafted_rotation_is_refused_without_a_server_error(personas, role, form):
    keyring.reload(keyring.generation())
    client = Client()
    client.force_login(personas[role])

    response = client.post(ROTATE, form)

    assert response.status_code in (302, 403)
    _nothing_changed()
    assert [key.version for key in keyring.verifying("jwt")] == [1]


@pytest.mark.parametrize("role", ["monitor", "client", "reader"])
def test_only_admins_switch_a_provider_in_the_back_office(personas, role):
    client = Client()
    client.force_login(personas[role])

    assert client.post(f"{STATES}add/", {"name": "sms", "reason": "outage"}).status_code in (302, 403)
    assert client.get(PROBES).status_code in (302, 403)
    _nothing_changed()


def test_no_back_office_page_shows_a_credential_or_a_ciphertext(personas):
    value = b"review-stop26-deepl-key:fx"
    secrets.secret_set(name="deepl_auth_key", value=value, actor="system:ops", probe=lambda name, candidate: None)
    keyring.reload(keyring.generation())
    client = _logged_in(personas["superadmin"])
    client.post(f"{STATES}add/", {"name": "translation", "reason": "key check"})

    pages = [client.get(url).content.decode() for url in (ROTATIONS, STATES, PROBES, "/backoffice/audit/auditentry/")]

    [row] = [
        row for row in store.rows(store.SELECT_ALL) if row["name"] == "deepl_auth_key" and row["status"] == "active"
    ]
    assert row["fingerprint"] in pages[0]
    for page in pages:
        assert value.decode() not in page and "review-stop26" not in page
        assert row["ciphertext"][:20] not in page


@pytest.mark.django_db(transaction=True)
def test_a_back_office_switch_reaches_another_process_within_5_seconds(personas):
    database = connections["default"].settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}",
    }
    client = _logged_in(personas["admin"])
    watcher = subprocess.Popen(
        [sys.executable, "-m", "tests.ops.worker", "watch", "sms", "10"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=settings.BASE_DIR,
    )
    try:
        assert watcher.stdout.readline().strip() == "ready"
        time.sleep(0.3)  # it has read (and cached) "on"
        assert client.post(f"{STATES}add/", {"name": "sms", "reason": "carrier outage"}).status_code == 302
        reason, seconds = watcher.stdout.readline().split()
    finally:
        watcher.kill()
        watcher.wait()
    assert reason == "provider_disabled" and float(seconds) < 5
    [entry] = AuditEntry.objects.filter(action="ops.provider.toggle")
    assert entry.details == {"provider": "sms", "enabled": False}
    ProviderState.objects.all().delete()


def test_a_read_racing_a_switch_keeps_the_old_answer_5_seconds_at_most(monkeypatch):
    """The old row read just before the switch commits, cached just after its delete: seen until expiry."""
    toggles._local.clear()
    toggles.forget("sms")

    def racing(name: str) -> bool:
        toggles.forget(name)  # the switch commits and drops the cached answer while this read is in flight
        return True  # the row as it was

    monkeypatch.setattr(toggles, "_loader", racing)

    assert toggles.enabled("sms") is True
    stale_for = get_redis().pttl(key("providers:enabled:sms")) / 1000 + toggles.LOCAL_SECONDS
    toggles.forget("sms")
    assert 0 < stale_for <= 5


# --- 2. S5: the switches' rows for staff only --------------------------------------------------------------------


@pytest.fixture
def switched_off(personas):
    from django.utils import timezone

    return ProviderState.objects.create(
        name="sms", enabled=False, reason="ticket 4711", changed_by=personas["admin"], changed_at=timezone.now()
    )


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT count(*) FROM ops_providerstate WHERE reason::int > 0",  # a cast error would print the reason
        "SELECT count(*) FROM ops_providerstate WHERE 1 / (length(reason) - 11) > 0",  # division by zero on a match
        "UPDATE ops_providerstate SET enabled = enabled RETURNING reason",
        "SELECT count(*) FROM pg_stats WHERE tablename = 'ops_providerstate'",
        "SELECT count(*) FROM ops_providerstate s JOIN accounts_user u ON u.id = s.changed_by_id",
    ],
)
def test_a_client_learns_no_switch_row_through_errors_writes_or_statistics(personas, switched_off, statement):
    answer = rows_as(Identity(personas["client"].pk, "client"), statement)

    assert answer in ([], [(0,)])


def test_provider_enabled_answers_one_boolean_whatever_it_is_asked(personas, switched_off):
    client = Identity(personas["client"].pk, "client")
    asked = ["sms", "SMS", "sms'--", "%", "", None]

    answers = rows_as(client, "SELECT samia.provider_enabled(n) FROM unnest(%s::text[]) n", [asked])

    assert answers == [(False,), (True,), (True,), (True,), (True,), (True,)]
    assert rows_as(client, "SELECT pg_get_function_result('samia.provider_enabled(text)'::regprocedure)") == [
        ("boolean",)
    ]
    for role in ("client", "reader", "monitor"):
        assert api_as(personas[role]).get("/admin/providers/health").status_code == 403


# --- 3. secrets_set -----------------------------------------------------------------------------------------------


def _secrets_set(name: str, raw: bytes) -> str:
    stdin, out = sys.stdin, io.StringIO()
    sys.stdin = io.TextIOWrapper(io.BytesIO(raw))
    try:
        call_command("secrets_set", name, stdout=out, stderr=out)
    finally:
        sys.stdin = stdin
    return out.getvalue()


def test_a_value_that_is_not_text_is_refused_in_words_and_the_old_version_stays(deepl):  # noqa: F811
    with pytest.raises(CommandError, match="not UTF-8 text") as refused:
        _secrets_set("deepl_auth_key", b"\xff\xfeSECRETBYTES")

    assert "SECRET" not in str(refused.value) and "0xff" not in str(refused.value)
    assert versions("deepl_auth_key") == [(1, "active", True)]


@pytest.mark.parametrize(("name", "said"), [("jwt", "generated key"), ("nothing", "unknown credential nothing")])
def test_a_name_that_is_no_credential_is_named_clearly(deepl, name, said):  # noqa: F811
    with pytest.raises(CommandError, match=said):
        _secrets_set(name, b"value")


def test_a_refused_value_is_in_no_output_log_or_audit_entry(deepl, caplog, capsys):  # noqa: F811
    caplog.set_level(logging.DEBUG)

    with pytest.raises(CommandError, match="previous version stays active") as refused:
        _secrets_set("deepl_auth_key", b"review-stop26-refused:fx\n")

    captured = capsys.readouterr()
    audit = json.dumps([entry.payload for entry in AuditEntry.objects.all()])
    for text in (str(refused.value), caplog.text, captured.out, captured.err, audit):
        assert "review-stop26" not in text
    assert versions("deepl_auth_key") == [(1, "active", True)]


# --- 4. the phone-language proof (F5) --------------------------------------------------------------------------------


@pytest.fixture
def arabic_holder(db):
    return factories.UserFactory(phone=PHONE, language="ar")


@pytest.mark.django_db(transaction=True)
def test_a_proof_made_on_one_connection_answers_nothing_on_another(arabic_holder):
    with bound():
        replayed = binding.purpose_proof("phone", PHONE)
        assert i18n_selectors.phone_language(PHONE) == "ar"
    database = connections["default"].settings_dict
    with psycopg.connect(
        dbname=database["NAME"], user=database["USER"], host=database["HOST"] or "127.0.0.1", autocommit=True
    ) as other:
        (nonce,) = other.execute(binding.NONCE_SQL).fetchone()
        other.execute("SET ROLE samia_app")
        own = hmac.new(settings.RLS_BINDING_KEY.encode(), f"phone:{PHONE}@{nonce}".encode(), hashlib.sha256)
        ask = i18n_sql.PHONE_LANGUAGE_CALL
        assert other.execute(ask, [PHONE, replayed]).fetchone()[0] is None
        assert other.execute(ask, [PHONE, own.hexdigest()]).fetchone()[0] == "ar"  # the check itself works


@pytest.mark.parametrize("number", [f"{PHONE}' OR '1'='1", f"{PHONE}\x00", "\x00", "", "x" * 10_000])
def test_an_injected_malformed_or_nul_number_answers_none(arabic_holder, number):
    with bound(Identity(arabic_holder.pk, "client")):
        assert i18n_selectors.phone_language(number) is None


def test_without_a_proof_a_registered_number_costs_what_an_unknown_one_does(arabic_holder):
    """EXPLAIN (ANALYZE, BUFFERS) counts the pages the function reads: no oracle in them either."""

    def pages(number: str) -> str:
        with connection.cursor() as cursor:
            cursor.execute(
                f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF) {i18n_sql.PHONE_LANGUAGE_CALL}",
                [number, "0" * 64],
            )
            return " ".join(line for (line,) in cursor.fetchall())

    with bound():
        pages(PHONE), pages("+966500000099")  # warm
        assert pages(PHONE) == pages("+966500000099")


# R1: samia.identity and samia.identity_by_email want the app's proof too (accounts 0014).
def test_the_app_login_without_the_key_learns_no_numbers_language(arabic_holder):
    found = rows_as(
        ANONYMOUS_IDENTITY,
        "SELECT x.language FROM generate_series(%s - 5, %s + 5) i, samia.identity(i, '') x WHERE x.phone = %s",
        [arabic_holder.pk, arabic_holder.pk, PHONE],
    )

    assert found == []
