"""POST /horoscopes/{id}/listen: one event per actor, horoscope and day each time the highest percent rises."""

import pytest

from samia.events.services import actor_key
from tests import factories
from tests.conftest import api_as
from tests.events.conftest import engagement_events

pytestmark = pytest.mark.django_db

DEVICE = "browser-5b1d0c77"
ROLES = ["client", "reader", "monitor", "admin", "superadmin"]


def listen(user, horoscope_id, body, **headers):
    return api_as(user).post(f"/horoscopes/{horoscope_id}/listen", body, format="json", **headers)


@pytest.fixture
def today():
    return factories.HoroscopeFactory(sign="leo")


def percents() -> list[int]:
    return [event[4]["percent"] for event in engagement_events("horoscope.listened")]


@pytest.mark.parametrize("persona", ROLES)
def test_it_records_a_listen_for_every_role(personas, today, persona):
    user = personas[persona]

    response = listen(user, today.pk, {"percent": 40, "seconds": 12})

    assert (response.status_code, response.json()) == (201, {"counted": True})
    assert engagement_events("horoscope.listened") == [
        (
            user.pk,
            "",
            "marketplace.horoscope",
            today.pk,
            {"sign": "leo", "percent": 40, "horoscope_id": today.pk, "seconds": 12},
            2,
        )
    ]


@pytest.mark.parametrize(
    ("horoscope", "admitted"),
    [
        # a pending horoscope: staff only
        ({"approval_status": "pending"}, {"monitor", "admin", "superadmin"}),
        # approved a month ago: readers keep 60 days, staff everything, clients and anonymous today only
        ({"date": factories.days_ago(30)}, {"reader", "monitor", "admin", "superadmin"}),
    ],
    ids=["pending", "a-month-old"],
)
def test_it_answers_404_for_a_horoscope_the_caller_may_not_see(personas, horoscope, admitted):
    hidden = factories.HoroscopeFactory(**horoscope)

    statuses = {p: listen(personas[p], hidden.pk, {"percent": 50}).status_code for p in ROLES}
    anonymous = listen(None, hidden.pk, {"percent": 50}, HTTP_X_DEVICE_ID=DEVICE)

    assert statuses == {p: 201 if p in admitted else 404 for p in ROLES}
    assert anonymous.status_code == 404
    assert anonymous.json()["error"] == {
        "code": "not_found",
        "message": "No such horoscope.",
        "request_id": anonymous.json()["error"]["request_id"],
    }
    assert sorted(e[0] for e in engagement_events("horoscope.listened")) == sorted(personas[p].pk for p in admitted)


def test_it_answers_404_for_a_horoscope_that_does_not_exist(personas, today):
    response = listen(personas["admin"], today.pk + 1000, {"percent": 50})

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No such horoscope."
    assert engagement_events("horoscope.listened") == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "percent"),
        ({"percent": -1}, "percent"),
        ({"percent": 101}, "percent"),
        ({"percent": "most"}, "percent"),
        ({"percent": 50, "seconds": -5}, "seconds"),
        ({"percent": 50, "seconds": "long"}, "seconds"),
    ],
)
def test_it_refuses_malformed_input(personas, today, body, field):
    response = listen(personas["client"], today.pk, body)

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == [field]
    assert engagement_events("horoscope.listened") == []


def test_it_writes_only_when_the_days_highest_percent_rises(personas, today):
    client = personas["client"]
    other_sign = factories.HoroscopeFactory(sign="virgo")

    statuses = [listen(client, today.pk, {"percent": p}).status_code for p in (30, 20, 30, 80, 100, 100, 60)]
    elsewhere = listen(client, other_sign.pk, {"percent": 10})
    someone_else = listen(personas["other_client"], today.pk, {"percent": 10})

    assert statuses == [201, 200, 200, 201, 201, 200, 200]
    assert (elsewhere.status_code, someone_else.status_code) == (201, 201)
    assert percents() == [30, 80, 100, 10, 10]


def test_a_new_business_day_starts_a_new_listen(personas, today, settings):
    client = personas["client"]
    # These two zones are 26 hours apart, so their dates differ at every instant.
    settings.ANALYTICS_TIMEZONE = "Etc/GMT+12"
    first = listen(client, today.pk, {"percent": 100})
    settings.ANALYTICS_TIMEZONE = "Etc/GMT-14"
    next_day = listen(client, today.pk, {"percent": 50})

    assert (first.status_code, next_day.status_code) == (201, 201)
    assert percents() == [100, 50]


def test_an_anonymous_listen_counts_under_the_devices_keyed_hash(today):
    first = listen(None, today.pk, {"percent": 70}, HTTP_X_DEVICE_ID=DEVICE)
    lower = listen(None, today.pk, {"percent": 60}, HTTP_X_DEVICE_ID=DEVICE)
    another_device = listen(None, today.pk, {"percent": 60}, HTTP_X_DEVICE_ID="browser-0000aaaa")

    assert [r.status_code for r in (first, lower, another_device)] == [201, 200, 201]
    events = engagement_events("horoscope.listened")
    assert [(e[0], e[1], e[4]["percent"]) for e in events] == [
        (None, actor_key(DEVICE), 70),
        (None, actor_key("browser-0000aaaa"), 60),
    ]
    assert DEVICE not in str(events)


def test_an_anonymous_listen_needs_a_device_id(today):
    for headers in ({}, {"HTTP_X_DEVICE_ID": "x"}, {"HTTP_X_DEVICE_ID": "semi;colon;device"}):
        response = listen(None, today.pk, {"percent": 70}, **headers)

        assert response.status_code == 400
        assert list(response.json()["error"]["details"]) == ["X-Device-Id"]
    assert engagement_events("horoscope.listened") == []


def test_it_refuses_a_caller_whose_token_is_invalid(today):
    response = listen(None, today.pk, {"percent": 70}, HTTP_AUTHORIZATION="Bearer nonsense")

    assert response.status_code == 401
    assert engagement_events("horoscope.listened") == []


def test_it_answers_429_past_the_rate_limit(personas, today, settings):
    settings.EVENTS_REQUESTS_PER_MINUTE = 2

    statuses = [listen(personas["client"], today.pk, {"percent": p}).status_code for p in (10, 20, 30)]
    anonymous = [listen(None, today.pk, {"percent": p}, HTTP_X_DEVICE_ID=DEVICE).status_code for p in (10, 20, 30)]
    # A caller without an account is limited by address: a new device id does not reset the count.
    rotated = listen(None, today.pk, {"percent": 90}, HTTP_X_DEVICE_ID="browser-rotated-1")

    assert statuses == [201, 201, 429]
    assert anonymous == [201, 201, 429]
    assert rotated.status_code == 429
    assert int(rotated["Retry-After"]) >= 1
    assert percents() == [10, 20, 10, 20]
