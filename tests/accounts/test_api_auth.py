import datetime as dt

import pytest
from django.db import DatabaseError, connection
from django.test import override_settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from samia.accounts.models import User
from samia.rls.binding import bound
from samia.rls.registry import Identity
from tests.conftest import api_as, token_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _login(email, password=PASSWORD, ip="10.0.0.1"):
    return api_as().post("/auth/token", {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


# --- login ----------------------------------------------------------------------------------------------------------


def test_it_issues_tokens_that_carry_the_id_and_role(make_user):
    user = make_user(email="alice@example.test", role="reader")

    response = _login("ALICE@example.test")

    assert response.status_code == 200
    access = AccessToken(response.json()["access"])
    assert (access["user_id"], access["role"]) == (str(user.pk), "reader")
    assert access["exp"] - access["iat"] <= 15 * 60
    me = api_as().get("/me", HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert me.json()["id"] == user.pk


@pytest.mark.parametrize(
    ("email", "password"), [("alice@example.test", "wrong-password"), ("nobody@example.test", PASSWORD)]
)
def test_it_refuses_bad_credentials_with_one_message(make_user, email, password):
    make_user(email="alice@example.test")

    response = _login(email, password)

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "authentication_failed",
        "message": "No active account matches these credentials.",
        "request_id": response["X-Request-ID"],
    }


@pytest.mark.parametrize("payload", [{}, {"email": "not-an-email", "password": "x"}, {"email": "a@b.test"}])
def test_it_rejects_malformed_login_input(db, payload):
    response = api_as().post("/auth/token", payload, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_it_refuses_a_blocked_account(make_user):
    make_user(email="alice@example.test", blocked_at=timezone.now())

    # The right password for a blocked account says so (issue 16: the user may appeal); no token.
    response = _login("alice@example.test")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "account_blocked")
    assert "access" not in response.json()


def test_it_lets_an_account_back_in_when_its_block_expires(make_user):
    make_user(
        email="alice@example.test",
        blocked_at=timezone.now() - dt.timedelta(days=2),
        blocked_until=timezone.now() - dt.timedelta(days=1),
    )

    assert _login("alice@example.test").status_code == 200


@override_settings(LOGIN_RATE_LIMITS={"account": (3, 900), "ip": (100, 900)})
def test_it_limits_failed_logins_per_account(make_user):
    make_user(email="alice@example.test")

    failures = [_login("alice@example.test", "nope", ip=f"10.0.0.{i}").status_code for i in range(3)]
    blocked = _login("alice@example.test", ip="10.0.0.9")

    assert failures == [401, 401, 401]
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "rate_limited"
    assert 0 < int(blocked["Retry-After"]) <= 900
    # another account from the same addresses is unaffected
    make_user(email="bob@example.test")
    assert _login("bob@example.test", ip="10.0.0.1").status_code == 200


@override_settings(LOGIN_RATE_LIMITS={"account": (100, 900), "ip": (3, 900)})
def test_it_limits_failed_logins_per_ip(make_user):
    make_user(email="alice@example.test")

    for n in range(3):
        _login(f"guess{n}@example.test", "nope", ip="10.9.9.9")

    assert _login("alice@example.test", ip="10.9.9.9").status_code == 429
    assert _login("alice@example.test", ip="10.9.9.8").status_code == 200


# --- tokens ---------------------------------------------------------------------------------------------------------


def test_it_refuses_a_token_whose_role_no_longer_matches(make_user):
    user = make_user(role="reader")
    token = token_for(user)
    User.objects.filter(pk=user.pk).update(role="client")

    response = api_as().get("/me", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_it_stops_a_token_at_once_when_the_account_is_blocked(make_user):
    user = make_user()
    api = api_as(user)
    assert api.get("/me").status_code == 200

    User.objects.filter(pk=user.pk).update(blocked_at=timezone.now())

    assert api.get("/me").status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Basic abc", "Bearer not.a.token", "Token x"])
def test_it_refuses_malformed_authorization(db, header):
    response = api_as().get("/me", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert "Bearer" in response["WWW-Authenticate"]


def test_it_refuses_an_expired_token(make_user):
    user = make_user()
    token = AccessToken.for_user(user)
    token["role"] = user.role
    token.set_exp(lifetime=-dt.timedelta(seconds=1))

    assert api_as().get("/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_it_refuses_a_refresh_token_used_as_access(make_user):
    user = make_user()
    refresh = RefreshToken.for_user(user)
    refresh["role"] = user.role

    assert api_as().get("/me", HTTP_AUTHORIZATION=f"Bearer {refresh}").status_code == 401


def test_it_refreshes_an_access_token(make_user):
    make_user(email="alice@example.test")
    refresh = _login("alice@example.test").json()["refresh"]

    response = api_as().post("/auth/token/refresh", {"refresh": refresh}, format="json")

    assert response.status_code == 200
    assert api_as().get("/me", HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}").status_code == 200


def test_it_refuses_to_refresh_for_a_blocked_account(make_user):
    user = make_user(email="alice@example.test")
    refresh = _login("alice@example.test").json()["refresh"]
    User.objects.filter(pk=user.pk).update(blocked_at=timezone.now())

    response = api_as().post("/auth/token/refresh", {"refresh": refresh}, format="json")

    assert response.status_code == 401


@pytest.mark.parametrize("payload", [{}, {"refresh": "garbage"}])
def test_it_rejects_bad_refresh_input(db, payload):
    response = api_as().post("/auth/token/refresh", payload, format="json")

    assert response.status_code in (400, 401)
    assert "error" in response.json()


# --- /me ------------------------------------------------------------------------------------------------------------


def test_it_updates_the_own_profile_and_derives_the_sign(make_user):
    user = make_user()

    response = api_as(user).patch(
        "/me",
        {"timezone": "America/New_York", "country": "US", "phone": "+14155550100", "date_of_birth": "1990-08-01"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["zodiac_sign"] == "leo"
    user.refresh_from_db()
    assert (user.timezone, user.country, user.phone, user.zodiac_sign) == (
        "America/New_York",
        "US",
        "+14155550100",
        "leo",
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"role": "admin"}, "role"),
        ({"email": "new@example.test"}, "email"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"country": "XX"}, "country"),
        ({"phone": "0555 123"}, "phone"),
        ({"language": "fr"}, "language"),
        ({"is_active": False}, "is_active"),
    ],
)
def test_it_rejects_bad_or_forbidden_profile_changes(make_user, payload, field):
    user = make_user()
    before = User.objects.values().get(pk=user.pk)

    response = api_as(user).patch("/me", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert User.objects.values().get(pk=user.pk) == before


def test_it_answers_401_on_me_without_a_token(db):
    assert api_as().get("/me").status_code == 401


def test_it_stops_a_user_changing_their_own_role_even_in_raw_sql(make_user):
    user = make_user(role="client")

    with pytest.raises(DatabaseError), bound(Identity(user.pk, "client")), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET role = 'admin' WHERE id = %s", [user.pk])

    user.refresh_from_db()
    assert user.role == "client"


def test_it_lets_only_a_superadmin_grant_admin(make_user):
    admin, superadmin, target = make_user(role="admin"), make_user(role="superadmin"), make_user(role="reader")

    with pytest.raises(DatabaseError), bound(Identity(admin.pk, "admin")), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET role = 'admin' WHERE id = %s", [target.pk])
    with bound(Identity(superadmin.pk, "superadmin")), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET role = 'admin' WHERE id = %s", [target.pk])

    target.refresh_from_db()
    assert target.role == "admin"
