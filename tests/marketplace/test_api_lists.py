import datetime as dt

import pytest
from django.utils import timezone

from samia.marketplace import selectors
from tests import factories
from tests.conftest import api_as

pytestmark = pytest.mark.django_db


def _ids(response):
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


def test_it_lists_a_clients_own_calls_only(world):
    calls = world["calls"]

    assert _ids(api_as(world["personas"]["client"]).get("/calls")) == [calls[0].pk]
    assert _ids(api_as(world["personas"]["other_reader"]).get("/calls")) == [calls[1].pk]
    assert _ids(api_as(world["personas"]["monitor"]).get("/calls?status=dropped")) == [calls[1].pk]


def test_it_rejects_an_unknown_call_status(world):
    response = api_as(world["personas"]["admin"]).get("/calls?status=exploded")

    assert response.status_code == 400
    assert "status" in response.json()["error"]["details"]


def test_it_lists_payments_with_decimal_amounts_and_fallbacks(world):
    failed, fallback = world["payments"][1], world["payments"][2]

    rows = api_as(world["personas"]["other_client"]).get("/payments").json()["results"]

    assert [(r["id"], r["amount"], r["attempt"], r["fallback_of_id"]) for r in rows] == [
        (fallback.pk, "25.00", 2, failed.pk),
        (failed.pk, "25.00", 1, None),
    ]


@pytest.mark.parametrize("persona", ["reader", "other_reader"])
def test_it_refuses_payments_to_readers(world, persona):
    assert api_as(world["personas"][persona]).get("/payments").status_code == 403


def test_it_paginates_with_a_cursor(personas):
    orders = [factories.OrderFactory(client=personas["client"]) for _ in range(5)]
    api = api_as(personas["client"])

    first = api.get("/orders?page_size=2").json()
    second = api.get(first["next"]).json()

    assert [r["id"] for r in first["results"]] == [orders[4].pk, orders[3].pk]
    assert [r["id"] for r in second["results"]] == [orders[2].pk, orders[1].pk]


def test_it_rejects_a_forged_cursor(personas):
    response = api_as(personas["client"]).get("/orders?cursor=bz1hYmM%3D")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- horoscopes -----------------------------------------------------------------------------------------------------


def test_it_shows_anonymous_readers_only_todays_approved_horoscopes(world):
    today = timezone.now().date()

    todays = api_as().get(f"/horoscopes/daily?date={today}").json()["results"]
    older = api_as().get(f"/horoscopes/daily?date={today - dt.timedelta(days=10)}").json()["results"]

    assert [(h["sign"], h["text_en"], h["text_ar"]) for h in todays] == [("aries", "A good day.", "يوم جيد.")]
    assert older == []


def test_it_shows_readers_the_last_sixty_days(world):
    reader = api_as(world["personas"]["reader"])
    today = timezone.now().date()

    recent = reader.get(f"/horoscopes/daily?date={today - dt.timedelta(days=10)}").json()["results"]
    ancient = reader.get(f"/horoscopes/daily?date={today - dt.timedelta(days=90)}").json()["results"]
    pending = reader.get(f"/horoscopes/daily?date={today}&sign=leo").json()["results"]

    assert [h["sign"] for h in recent] == ["virgo"]
    assert ancient == []
    assert pending == []


def test_it_speaks_the_requested_language(world):
    response = api_as().get("/horoscopes/daily?sign=aries", HTTP_ACCEPT_LANGUAGE="ar")

    assert response.json()["results"][0]["text"] == "يوم جيد."


@pytest.mark.parametrize(
    ("query", "field"), [("sign=dragon", "sign"), ("date=2026-13-01", "date"), ("date=yesterday", "date")]
)
def test_it_rejects_bad_horoscope_queries(db, query, field):
    response = api_as().get(f"/horoscopes/daily?{query}")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_it_defaults_to_today_in_the_callers_zone(make_user, monkeypatch):
    # given 23:30 UTC, when it is already tomorrow in Riyadh (UTC+3)
    instant = dt.datetime(2026, 6, 1, 23, 30, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: instant)
    factories.HoroscopeFactory(sign="gemini", date=dt.date(2026, 6, 2))
    captured = {}
    original = selectors.horoscope_daily_list

    def spy(**kwargs):
        captured["date"] = kwargs["date"]
        return original(**kwargs)

    monkeypatch.setattr(selectors, "horoscope_daily_list", spy)

    api_as(make_user(timezone="Asia/Riyadh")).get("/horoscopes/daily")
    riyadh = captured["date"]
    api_as().get("/horoscopes/daily")

    assert (riyadh, captured["date"]) == (dt.date(2026, 6, 2), dt.date(2026, 6, 1))
