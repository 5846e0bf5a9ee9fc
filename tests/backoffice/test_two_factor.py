"""Staff sign in to the back office with a password and a TOTP code (django-otp), or a recovery code once."""

from base64 import b32encode

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from samia.audit.models import AuditEntry
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

STAFF = ["monitor", "admin", "superadmin"]


@pytest.fixture
def required(settings):
    settings.STAFF_2FA_REQUIRED = True


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The device's code for the current time step (or a later one, still within its tolerance)."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=steps_ahead)
    return str(value).zfill(device.digits)


def wrong_code_for(device: TOTPDevice) -> str:
    accepted = {code_for(device, steps) for steps in range(-device.tolerance - 1, device.tolerance + 2)}
    return next(code for code in (f"{n:06d}" for n in range(1000)) if code not in accepted)


def enrolled(user) -> tuple[TOTPDevice, list[str]]:
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="Recovery codes")
    codes = [StaticToken.random_token() for _ in range(10)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    return device, codes


def logged_in(user) -> Client:
    client = Client()
    response = client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


# --- enrolment ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF)
def test_it_sends_a_staff_member_without_a_device_to_enrol(personas, required, role):
    client = logged_in(personas[role])

    response = client.get("/backoffice/marketplace/order/?status=submitted")

    assert response.status_code == 302
    assert (
        response["Location"]
        == "/backoffice/2fa/enrol/?next=%2Fbackoffice%2Fmarketplace%2Forder%2F%3Fstatus%3Dsubmitted"
    )


def test_it_enrols_with_a_code_from_the_new_key_and_shows_ten_recovery_codes_once(personas, required):
    user = personas["monitor"]
    client = logged_in(user)

    # given the enrolment page made a waiting device and showed its key
    page = client.get("/backoffice/2fa/enrol/?next=/backoffice/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed is False
    assert b32encode(device.bin_key).decode() in page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in page.content.decode()

    # when the code from the app is entered
    response = client.post("/backoffice/2fa/enrol/", {"code": code_for(device), "next": "/backoffice/"})

    # then the device is confirmed, ten recovery codes exist and are shown, and the session is verified
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.confirmed is True
    codes = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(codes) == 10
    assert all(code in response.content.decode() for code in codes)
    assert client.get("/backoffice/").status_code == 200
    assert client.get("/backoffice/2fa/enrol/").status_code == 302  # shown once: enrolling again is refused
    [entry] = entries("accounts.otp.enrol")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (user.pk, "accounts.user", str(user.pk))
    assert entry.details == {"totp_device_id": device.pk, "recovery_codes": 10}


def test_it_refuses_a_wrong_code_at_enrolment(personas, required):
    user = personas["admin"]
    client = logged_in(user)
    client.get("/backoffice/2fa/enrol/")
    device = TOTPDevice.objects.get(user=user)

    response = client.post("/backoffice/2fa/enrol/", {"code": wrong_code_for(device)})

    assert response.status_code == 200
    assert "That code is not valid." in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed is False
    assert not StaticToken.objects.filter(device__user=user).exists()
    assert entries("accounts.otp.enrol") == []
    assert client.get("/backoffice/").status_code == 302


# --- verification ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF)
def test_it_asks_an_enrolled_staff_member_for_a_code_then_lets_them_in(personas, required, role):
    user = personas[role]
    device, _ = enrolled(user)
    client = logged_in(user)

    assert client.get("/backoffice/").headers["Location"] == "/backoffice/2fa/verify/?next=%2Fbackoffice%2F"
    response = client.post("/backoffice/2fa/verify/", {"code": code_for(device), "next": "/backoffice/"})

    assert (response.status_code, response["Location"]) == (302, "/backoffice/")
    assert client.get("/backoffice/").status_code == 200


def test_it_refuses_a_wrong_code_and_keeps_the_session_out(personas, required):
    user = personas["admin"]
    device, _ = enrolled(user)
    client = logged_in(user)

    response = client.post("/backoffice/2fa/verify/", {"code": wrong_code_for(device)})

    assert response.status_code == 200
    assert "That code is not valid." in response.content.decode()
    assert client.get("/backoffice/").status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_it_only_follows_next_within_the_back_office(personas, required):
    user = personas["monitor"]
    device, _ = enrolled(user)
    client = logged_in(user)

    response = client.post("/backoffice/2fa/verify/", {"code": code_for(device), "next": "https://evil.example/"})

    assert response["Location"] == "/backoffice/"


def test_it_takes_a_recovery_code_once(personas, required):
    user = personas["superadmin"]
    _, codes = enrolled(user)

    # given a recovery code signs a session in
    response = logged_in(user).post("/backoffice/2fa/verify/", {"code": codes[3]})
    assert response.status_code == 302
    assert StaticToken.objects.filter(device__user=user).count() == 9

    # when it is tried again in another session
    second = logged_in(user)
    again = second.post("/backoffice/2fa/verify/", {"code": codes[3]})

    # then it is refused
    assert again.status_code == 200
    assert second.get("/backoffice/").status_code == 302
    [entry] = entries("accounts.otp.recovery_used")
    assert (entry.actor_id, entry.target_id) == (user.pk, str(user.pk))
    assert entry.details["remaining"] == 9


def test_it_leaves_the_2fa_pages_and_logout_open_to_an_unverified_session(personas, required):
    user = personas["admin"]
    enrolled(user)
    client = logged_in(user)

    assert client.get("/backoffice/2fa/verify/").status_code == 200
    assert client.get("/backoffice/2fa/enrol/").status_code == 302  # enrolled: on to verify
    assert client.post("/backoffice/logout/").status_code in (200, 302)
    assert client.get("/backoffice/").headers["Location"].startswith("/backoffice/login/")


@pytest.mark.parametrize("role", STAFF)
def test_it_lets_staff_in_with_a_password_alone_when_not_required(personas, settings, role):
    settings.STAFF_2FA_REQUIRED = False
    enrolled(personas[role])

    assert logged_in(personas[role]).get("/backoffice/").status_code == 200


@pytest.mark.parametrize("role", ["client", "reader"])
def test_it_keeps_clients_and_readers_out_of_the_2fa_pages(personas, required, role):
    client = Client()
    client.post("/backoffice/login/", {"username": personas[role].email, "password": PASSWORD})

    response = client.get("/backoffice/2fa/enrol/")

    assert response.status_code == 302
    assert response["Location"].startswith("/backoffice/login/")
    assert not TOTPDevice.objects.exists()


def test_it_renews_recovery_codes_for_a_verified_session(personas, required):
    user = personas["monitor"]
    device, old = enrolled(user)
    client = logged_in(user)
    client.post("/backoffice/2fa/verify/", {"code": code_for(device)})

    response = client.post("/backoffice/2fa/recovery-codes/")

    assert response.status_code == 200
    codes = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(codes) == 10 and not codes & set(old)
    assert all(code in response.content.decode() for code in codes)
    assert [e.details for e in entries("accounts.otp.recovery_renew")] == [{"recovery_codes": 10}]


# --- resets by a superadmin -----------------------------------------------------------------------------------------


def verified(user) -> Client:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or enrolled(user)[0]
    client = logged_in(user)
    assert client.post("/backoffice/2fa/verify/", {"code": code_for(device)}).status_code == 302
    return client


def test_it_lets_a_superadmin_reset_another_staff_members_second_factor(personas, required):
    target = personas["admin"]
    enrolled(target)
    target_session = verified(target)
    superadmin = verified(personas["superadmin"])

    assert "Set up" in superadmin.get("/backoffice/2fa/staff/").content.decode()
    response = superadmin.post(f"/backoffice/2fa/staff/{target.pk}/reset/")

    assert (response.status_code, response["Location"]) == (302, "/backoffice/2fa/staff/")
    assert not TOTPDevice.objects.filter(user=target).exists()
    assert not StaticDevice.objects.filter(user=target).exists()
    assert not StaticToken.objects.filter(device__user=target).exists()
    [entry] = entries("accounts.otp.reset")
    assert (entry.actor_id, entry.target_id, entry.details) == (
        personas["superadmin"].pk,
        str(target.pk),
        {"devices": 2},
    )
    # the target's verified session must enrol again
    assert target_session.get("/backoffice/").headers["Location"].startswith("/backoffice/2fa/enrol/")


@pytest.mark.parametrize("role", ["monitor", "admin"])
def test_it_refuses_a_reset_below_superadmin(personas, required, role):
    target = personas["superadmin" if role == "admin" else "admin"]
    enrolled(target)
    client = verified(personas[role])

    assert client.get("/backoffice/2fa/staff/").status_code == 403
    response = client.post(f"/backoffice/2fa/staff/{target.pk}/reset/")

    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=target).count() == 1
    assert StaticToken.objects.filter(device__user=target).count() == 10
    assert entries("accounts.otp.reset") == []


def test_it_wants_a_verified_session_for_a_reset(personas, required):
    target = personas["admin"]
    enrolled(target)
    enrolled(personas["superadmin"])
    client = logged_in(personas["superadmin"])  # password only

    response = client.post(f"/backoffice/2fa/staff/{target.pk}/reset/")

    assert response.status_code == 302
    assert response["Location"].startswith("/backoffice/2fa/verify/")
    assert TOTPDevice.objects.filter(user=target).count() == 1
    assert client.post("/backoffice/2fa/recovery-codes/").status_code == 302
    assert entries("accounts.otp.reset") == entries("accounts.otp.recovery_renew") == []


def test_it_refuses_a_superadmin_resetting_their_own_second_factor(personas, required):
    user = personas["superadmin"]
    client = verified(user)

    response = client.post(f"/backoffice/2fa/staff/{user.pk}/reset/")

    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=user).count() == 1
    assert entries("accounts.otp.reset") == []


def test_it_keeps_keys_and_codes_out_of_the_audit_trail(personas, required):
    # given an enrolment, a recovery code used, new codes and a reset
    user = personas["monitor"]
    client = logged_in(user)
    client.get("/backoffice/2fa/enrol/")
    device = TOTPDevice.objects.get(user=user)
    client.post("/backoffice/2fa/enrol/", {"code": code_for(device)})
    first_codes = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    logged_in(user).post("/backoffice/2fa/verify/", {"code": first_codes[0]})
    client.post("/backoffice/2fa/recovery-codes/")
    second_codes = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    verified(personas["superadmin"]).post(f"/backoffice/2fa/staff/{user.pk}/reset/")

    # then the trail names each step and holds none of the secrets
    payloads = " ".join(AuditEntry.objects.filter(family="accounts").values_list("payload", flat=True))
    for action in ("enrol", "recovery_used", "recovery_renew", "reset"):
        assert f'"accounts.otp.{action}"' in payloads
    secrets = [device.key, b32encode(device.bin_key).decode(), *first_codes, *second_codes]
    assert [secret for secret in secrets if secret.lower() in payloads.lower()] == []
