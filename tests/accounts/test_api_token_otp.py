"""POST /auth/token for staff while STAFF_2FA_REQUIRED: the password and a code from their authenticator."""

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from rest_framework_simplejwt.tokens import AccessToken

from samia.audit.models import AuditEntry
from tests.backoffice.test_two_factor import code_for, enrolled, wrong_code_for
from tests.conftest import api_as
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

GENERIC = "No active account matches these credentials."


@pytest.fixture
def required(settings):
    settings.STAFF_2FA_REQUIRED = True


def _login(user, password=PASSWORD, ip="10.0.0.1", **extra):
    body = {"email": user.email, "password": password, **extra}
    return api_as().post("/auth/token", body, format="json", REMOTE_ADDR=ip)


def _failures() -> list:
    return list(AuditEntry.objects.filter(action="auth.login.failed").values_list("details", flat=True))


@pytest.mark.parametrize("role", ["monitor", "admin", "superadmin"])
def test_it_issues_tokens_to_staff_with_the_right_code(personas, required, role):
    device, _ = enrolled(personas[role])

    response = _login(personas[role], otp=code_for(device))

    assert response.status_code == 200
    assert AccessToken(response.json()["access"])["role"] == role


@pytest.mark.parametrize("otp", [None, "", "   "])
def test_it_wants_the_otp_field_from_staff(personas, required, otp):
    enrolled(personas["admin"])

    response = _login(personas["admin"], **({} if otp is None else {"otp": otp}))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["details"]) == ["otp"]
    assert _failures() == [{"reason": "otp_missing"}]


def test_it_refuses_a_wrong_code_with_the_bad_password_message(personas, required):
    device, _ = enrolled(personas["monitor"])

    wrong_code = _login(personas["monitor"], otp=wrong_code_for(device))
    wrong_password = _login(personas["monitor"], password="wrong-password", otp=code_for(device))

    assert wrong_code.status_code == wrong_password.status_code == 401
    assert wrong_code.json()["error"]["message"] == wrong_password.json()["error"]["message"] == GENERIC
    assert _failures() == [{"reason": "bad_otp"}, {"reason": "bad_password"}]
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # kept although the answer is an error


def test_it_counts_wrong_codes_as_failed_logins(personas, required, settings):
    device, _ = enrolled(personas["admin"])
    per_account, _window = settings.LOGIN_RATE_LIMITS["account"]
    for _ in range(per_account):
        assert _login(personas["admin"], otp=wrong_code_for(device)).status_code == 401

    response = _login(personas["admin"], otp=code_for(device))

    assert response.status_code == 429


def test_it_refuses_staff_without_a_device(personas, required):
    response = _login(personas["superadmin"], otp="123456")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == GENERIC


def test_it_takes_a_recovery_code_once(personas, required):
    user = personas["admin"]
    _, codes = enrolled(user)

    first = _login(user, otp=codes[0])
    second = _login(user, otp=codes[0])

    assert (first.status_code, second.status_code) == (200, 401)
    assert StaticToken.objects.filter(device__user=user).count() == 9
    [used] = AuditEntry.objects.filter(action="accounts.otp.recovery_used")
    assert (used.actor_id, used.details) == (
        user.pk,
        {"static_device_id": used.details["static_device_id"], "remaining": 9},
    )
    assert codes[0] not in used.payload


@pytest.mark.parametrize("role", ["client", "reader"])
def test_it_leaves_clients_and_readers_alone(personas, required, role):
    assert _login(personas[role]).status_code == 200
    assert _login(personas[role], otp="").status_code == 200


def test_it_issues_staff_tokens_on_the_password_alone_when_not_required(personas, settings):
    settings.STAFF_2FA_REQUIRED = False
    enrolled(personas["admin"])

    assert _login(personas["admin"]).status_code == 200


def test_it_caps_the_otp_field(personas, required):
    response = _login(personas["admin"], otp="1" * 65)

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["otp"]
