"""Provider operations in the back office (issue 21): switches through the ops service (audited as the
API audits them), the last probes read-only, the keyring's metadata and rotation, each role offered
only what the API lets it do, and never a secret's value or ciphertext on a page."""

import base64

import pytest
from django.test import Client
from django.utils import timezone

from ops.models import ProviderProbe, ProviderState, SecretRotation
from samia.audit.models import AuditEntry
from samia.providers import toggles
from samia.secrets import keyring, store
from tests.factories import PASSWORD
from tests.ops.conftest import _forget_ops_state, age, purge_committed_owner_audit

pytestmark = pytest.mark.django_db

STATES = "/backoffice/ops/providerstate/"
PROBES = "/backoffice/ops/providerprobe/"
ROTATIONS = "/backoffice/ops/secretrotation/"
ROTATE = f"{ROTATIONS}rotate/"


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def _empty_keyring() -> None:
    with store.owner_transaction() as cursor:
        cursor.execute("DELETE FROM secrets_secretversion")
    _forget_ops_state()
    keyring.reload(keyring.generation())


@pytest.fixture(autouse=True)
def clean_keyring(db):
    """The keyring commits on the owner's connection: empty before and after each test."""
    _empty_keyring()
    yield
    _empty_keyring()
    purge_committed_owner_audit()


@pytest.fixture
def switched(personas):
    return ProviderState.objects.create(
        name="sms", enabled=False, reason="carrier outage", changed_by=personas["admin"], changed_at=timezone.now()
    )


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


# --- who sees what ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "states", "probes", "rotations", "add"),
    [
        ("monitor", 200, 403, 403, 403),
        ("admin", 200, 200, 200, 200),
        ("superadmin", 200, 200, 200, 200),
    ],
)
def test_each_staff_role_sees_what_the_api_lets_it(personas, switched, role, states, probes, rotations, add):
    client = _logged_in(personas[role])

    assert client.get(STATES).status_code == states
    assert client.get(PROBES).status_code == probes
    assert client.get(ROTATIONS).status_code == rotations
    assert client.get(f"{STATES}add/").status_code == add


def test_a_monitor_reads_a_switch_and_its_reason_but_is_offered_no_change(personas, switched):
    client = _logged_in(personas["monitor"])

    listing = client.get(STATES).content.decode()
    page = client.get(f"{STATES}{switched.pk}/change/")
    posted = client.post(f"{STATES}{switched.pk}/change/", {"enabled": "on", "reason": "back"})

    assert "carrier outage" in listing and f"{STATES}add/" not in listing
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert posted.status_code == 403
    switched.refresh_from_db()
    assert switched.enabled is False and not AuditEntry.objects.filter(action="ops.provider.toggle").exists()


@pytest.mark.parametrize("role", ["client", "reader"])
def test_clients_and_readers_have_no_back_office(personas, role):
    client = Client()
    client.force_login(personas[role])

    assert client.get(STATES).status_code in (302, 403)
    assert client.get(ROTATIONS).status_code in (302, 403)


# --- switching -------------------------------------------------------------------------------------------------------


def test_an_admin_switches_a_provider_off_through_the_service_and_it_is_audited(personas):
    client = _logged_in(personas["admin"])

    response = client.post(f"{STATES}add/", {"name": "fcm", "reason": "FCM incident 42"}, follow=True)

    assert response.status_code == 200
    state = ProviderState.objects.get(name="fcm")
    assert (state.enabled, state.reason, state.changed_by_id) == (False, "FCM incident 42", personas["admin"].pk)
    [entry] = AuditEntry.objects.filter(action="ops.provider.toggle")
    assert (entry.actor_id, entry.details) == (personas["admin"].pk, {"provider": "fcm", "enabled": False})
    assert toggles.enabled("fcm") is False


def test_an_admin_switches_it_back_on_from_its_page_with_a_new_reason(personas, switched):
    client = _logged_in(personas["superadmin"])
    page = client.get(f"{STATES}{switched.pk}/change/").content.decode()
    assert "carrier outage" not in page.split('name="reason"')[1].split("</textarea>")[0]  # a new why each time

    client.post(f"{STATES}{switched.pk}/change/", {"enabled": "on", "reason": "carrier fixed it"})

    switched.refresh_from_db()
    assert (switched.enabled, switched.reason, switched.changed_by_id) == (
        True,
        "carrier fixed it",
        personas["superadmin"].pk,
    )
    [entry] = AuditEntry.objects.filter(action="ops.provider.toggle")
    assert entry.details == {"provider": "sms", "enabled": True}


@pytest.mark.parametrize(
    "form",
    [
        {"name": "fcm", "enabled": "on", "reason": ""},
        {"name": "fcm", "enabled": "on", "reason": "   "},
        {"name": "nothing", "enabled": "on", "reason": "why"},
        {"name": "", "reason": "why"},
        {"name": "fcm", "reason": "x" * 201},
        {"name": "fcm\x00", "reason": "why"},
    ],
)
def test_a_switch_without_a_reason_or_provider_is_a_form_error_and_changes_nothing(personas, form):
    client = _logged_in(personas["admin"])

    response = client.post(f"{STATES}add/", form)

    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not ProviderState.objects.exists()
    assert not AuditEntry.objects.filter(action="ops.provider.toggle").exists()


# --- probes ----------------------------------------------------------------------------------------------------------


def test_the_last_probes_are_read_only_with_their_circuit(personas):
    ProviderProbe.objects.create(name="sms", ok=False, code="http_401", latency_ms=12, probed_at=timezone.now())
    client = _logged_in(personas["admin"])

    listing = client.get(PROBES).content.decode()

    assert "http_401" in listing and "closed" in listing
    assert f"{PROBES}add/" not in listing
    assert client.post(f"{PROBES}add/", {"name": "fcm"}).status_code == 403


# --- the keyring -----------------------------------------------------------------------------------------------------


def _choices(html: str) -> list[str]:
    form = html.split('id="rotate-key"')[1].split("</form>")[0]
    return [part.split('"')[0] for part in form.split('<option value="')[1:]]


def test_each_role_is_offered_the_keys_it_may_rotate(personas):
    admin_page = _logged_in(personas["admin"]).get(ROTATIONS).content.decode()
    superadmin_page = _logged_in(personas["superadmin"]).get(ROTATIONS).content.decode()

    assert _choices(admin_page) == ["tracking_links", "storage_urls"]
    assert _choices(superadmin_page) == ["jwt", "tracking_links", "storage_urls", "audit_signing"]


def test_an_admin_rotates_a_key_with_a_reason_audited_as_the_api_audits_it(personas):
    keyring.reload(keyring.generation())  # version 1 from the environment
    age("tracking_links", seconds=120)
    client = _logged_in(personas["admin"])

    response = client.post(ROTATE, {"name": "tracking_links", "reason": "schedule"}, follow=True)

    assert any("tracking_links rotated: version 2" in message for message in _messages(response))
    rotation = SecretRotation.objects.get()
    assert (rotation.name, rotation.version, rotation.rotated_by_id) == ("tracking_links", 2, personas["admin"].pk)
    [entry] = AuditEntry.objects.filter(action="ops.secret.rotate")
    assert entry.details["reason"] == "schedule"
    assert entry.details["key_id"] == rotation.key_id


@pytest.mark.parametrize(
    ("role", "form", "said"),
    [
        ("admin", {"name": "jwt", "reason": "schedule"}, "Not rotated."),  # a superadmin's key
        ("admin", {"name": "EVENTS_HASH_KEY", "reason": "schedule"}, "Not rotated."),
        ("admin", {"name": "tracking_links", "reason": ""}, "Not rotated."),
        ("admin", {"name": "tracking_links", "reason": "two words"}, "short code"),
        ("admin", {"name": "tracking_links", "reason": "x" * 65}, "Not rotated."),
        ("admin", {"name": "tracking_links\x00", "reason": "schedule"}, "Not rotated."),
        ("admin", {"name": "tracking_links", "reason": "schedule"}, "less than a minute ago"),  # rotated just now
        ("monitor", {"name": "tracking_links", "reason": "schedule"}, None),
    ],
)
def test_a_refused_rotation_is_said_in_words_and_changes_nothing(personas, role, form, said):
    keyring.reload(keyring.generation())
    client = _logged_in(personas[role])

    response = client.post(ROTATE, form, follow=True)

    if said is None:
        assert response.status_code == 403
    else:
        assert response.status_code == 200
        assert any(said in message for message in _messages(response)), _messages(response)
    assert not SecretRotation.objects.exists()
    assert not AuditEntry.objects.filter(action="ops.secret.rotate").exists()
    assert [key.version for key in keyring.verifying("tracking_links")] == [1]


def test_a_get_of_the_rotate_address_is_refused_without_a_server_error(personas):
    assert _logged_in(personas["admin"]).get(ROTATE).status_code == 405


def test_the_keyring_page_shows_metadata_and_never_a_value_or_a_ciphertext(personas):
    keyring.reload(keyring.generation())
    for name in ("jwt", "tracking_links", "storage_urls", "audit_signing"):
        age(name, seconds=120)
    client = _logged_in(personas["superadmin"])
    for name in ("jwt", "tracking_links", "storage_urls", "audit_signing"):
        assert client.post(ROTATE, {"name": name, "reason": "drill"}).status_code == 302
    keyring.reload(keyring.generation())

    page = client.get(ROTATIONS).content.decode()

    rows = store.rows(store.SELECT_ALL)
    assert len(rows) == 8
    for row in rows:
        assert row["fingerprint"] in page and row["key_id"] in page
        assert row["ciphertext"] and row["ciphertext"] not in page
        assert row["ciphertext"][:24] not in page
    values = [
        key.value
        for name in ("jwt", "tracking_links", "storage_urls", "audit_signing")
        for key in keyring.verifying(name)
    ]
    assert len(values) == 8
    for value in values:
        for shown in (value, base64.b64encode(value), base64.urlsafe_b64encode(value), value.hex().encode()):
            assert shown.decode(errors="replace") not in page
