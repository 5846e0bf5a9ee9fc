"""Issue 14, item 15 (and the bigint token of item 9): implausible input is refused and changes nothing."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from samia.accounts.models import User
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

TOMORROW_EVERYWHERE = (timezone.now() + dt.timedelta(hours=14)).date() + dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"date_of_birth": TOMORROW_EVERYWHERE.isoformat()}, "date_of_birth"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"date_of_birth": "1899-12-31"}, "date_of_birth"),
        ({"date_of_birth": "0001-01-01"}, "date_of_birth"),
        ({"timezone": "localtime"}, "timezone"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
    ],
)
def test_it_refuses_an_implausible_birth_date_or_a_zone_that_is_not_iana(make_user, changes, field):
    alice = make_user(date_of_birth=dt.date(1990, 5, 1), timezone="Asia/Riyadh")

    response = api_as(alice).patch("/me", changes, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["details"]) == [field]
    alice_now = User.objects.get(pk=alice.pk)
    assert (alice_now.date_of_birth, alice_now.timezone, alice_now.zodiac_sign) == (
        dt.date(1990, 5, 1),
        "Asia/Riyadh",
        "taurus",
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"date_of_birth": "1900-01-01"},
        {"date_of_birth": timezone.localdate().isoformat()},
        {"timezone": "America/Argentina/Buenos_Aires"},
        {"timezone": "UTC"},
    ],
)
def test_it_accepts_plausible_dates_and_iana_zones(make_user, changes):
    alice = make_user()

    response = api_as(alice).patch("/me", changes, format="json")

    assert response.status_code == 200
    assert {name: response.json()[name] for name in changes} == changes


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("req-12345678", True),
        (str(uuid.UUID(int=0x5A3A)), True),
        (uuid.UUID(int=0x7A207).hex, True),
        ("abcdefgh\n", False),
        ("abcdefgh\r\nSet-Cookie: a=b", False),
        ("a" * 65, False),
        ("short", False),
        ("alice@example.test", False),
        ("ünïcödé-id", False),
    ],
)
def test_it_keeps_a_request_id_only_when_it_is_a_uuid_or_a_short_token(make_user, incoming, kept):
    response = api_as(make_user()).get("/me", HTTP_X_REQUEST_ID=incoming)

    assert response.status_code == 200
    assert (response["X-Request-ID"] == incoming) is kept
    assert len(response["X-Request-ID"]) <= 64 and response["X-Request-ID"].isascii()


@pytest.mark.parametrize("user_id", [2**63, -(2**63) - 1, 10**40])
def test_a_token_naming_an_id_beyond_bigint_answers_401(db, user_id):
    token = AccessToken()
    token["user_id"] = str(user_id)
    token["role"] = "client"

    response = api_as().get("/me", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_refresh_token_naming_an_id_beyond_bigint_answers_401(db):
    token = RefreshToken()
    token["user_id"] = str(2**63)
    token["role"] = "client"

    response = api_as().post("/auth/token/refresh", {"refresh": str(token)}, format="json")

    assert response.status_code == 401
