"""POST /me/sessions: one app session per actor per 30 minutes, in events_raw."""

import pytest
from django.conf import settings

from samia.events.services import actor_key
from samia.redis import get_redis
from tests.conftest import api_as
from tests.events.conftest import engagement_events

pytestmark = pytest.mark.django_db

DEVICE = "install-7f3a9c2e"


def start(user=None, body=None, **headers):
    return api_as(user).post(
        "/me/sessions", body if body is not None else {"platform": "ios"}, format="json", **headers
    )


@pytest.mark.parametrize("persona", ["client", "reader", "monitor", "admin", "superadmin"])
def test_it_records_a_session_for_every_role(personas, persona):
    user = personas[persona]

    response = start(user, {"platform": "android", "app_version": "3.4.1"})

    assert (response.status_code, response.json()) == (201, {"counted": True})
    assert engagement_events("app.session") == [
        (
            user.pk,
            "",
            "",
            None,
            {"platform": "android", "app_version": "3.4.1", "country": user.country, "language": user.language},
            2,
        )
    ]


def test_it_records_an_anonymous_session_under_the_devices_keyed_hash(db):
    response = start(body={"platform": "web"}, HTTP_X_DEVICE_ID=DEVICE)

    assert response.status_code == 201
    assert engagement_events("app.session") == [
        (None, actor_key(DEVICE), "", None, {"platform": "web", "app_version": ""}, 2)
    ]


def test_it_refuses_an_anonymous_session_without_a_device_id(db):
    for headers in ({}, {"HTTP_X_DEVICE_ID": "short"}, {"HTTP_X_DEVICE_ID": "has spaces in it"}):
        response = start(**headers)

        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid"
        assert list(response.json()["error"]["details"]) == ["X-Device-Id"]
    assert engagement_events("app.session") == []


def test_it_refuses_a_caller_whose_token_is_invalid(db):
    response = api_as().post("/me/sessions", {"platform": "ios"}, format="json", HTTP_AUTHORIZATION="Bearer nonsense")

    assert response.status_code == 401
    assert engagement_events("app.session") == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "platform"),
        ({"platform": "windows"}, "platform"),
        ({"platform": "ios", "app_version": "my phone's app"}, "app_version"),
        ({"platform": "ios", "app_version": "v3"}, "app_version"),
        ({"platform": "ios", "app_version": "3." + "1" * 40}, "app_version"),
    ],
)
def test_it_refuses_malformed_input(personas, body, field):
    response = start(personas["client"], body)

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == [field]
    assert engagement_events("app.session") == []


def test_it_counts_at_most_one_session_per_30_minutes(personas):
    client, other = personas["client"], personas["other_client"]

    first, again, theirs = start(client), start(client, {"platform": "web"}), start(other)

    assert [r.status_code for r in (first, again, theirs)] == [201, 200, 201]
    assert again.json() == {"counted": False}
    assert [e[0] for e in engagement_events("app.session")] == [client.pk, other.pk]
    key = f"{settings.CACHES['default']['KEY_PREFIX']}:events:session:u:{client.pk}"
    assert 30 * 60 - 5 <= get_redis().ttl(key) <= 30 * 60

    # when the 30 minutes have run out, the next start counts again
    get_redis().delete(key)
    later = start(client)

    assert later.status_code == 201
    assert [e[0] for e in engagement_events("app.session")] == [client.pk, other.pk, client.pk]


def test_it_answers_429_past_the_rate_limit(personas, settings):
    settings.EVENTS_REQUESTS_PER_MINUTE = 3
    client = personas["client"]

    statuses = [start(client).status_code for _ in range(3)]
    refused = start(client)

    assert statuses == [201, 200, 200]
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert start(personas["other_client"]).status_code == 201  # the limit is per caller
    assert len(engagement_events("app.session")) == 2
