"""POST /monitor/block-user: durations, malformed input, unknown users, the rank rules."""

import pytest

from samia.accounts.models import User
from tests.conftest import api_as
from tests.moderation.conftest import state

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("duration", "seconds"), [(3600, 3600), ("90", 90), ("PT2H", 7200), (None, None)])
def test_it_takes_durations_in_seconds_or_iso_8601_or_none(personas, duration, seconds):
    response = api_as(personas["admin"]).post(
        "/monitor/block-user",
        {"user_id": personas["reader"].pk, "reason": "spam", "duration": duration},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["duration"] == seconds
    assert (response.json()["expires_at"] is None) == (seconds is None)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"reason": "spam"}, "user_id"),
        ({"user_id": "me", "reason": "spam"}, "user_id"),
        ({"user_id": 1}, "reason"),
        ({"reason": "sadness"}, "reason"),
        ({"reason": "spam", "duration": -60}, "duration"),
        ({"reason": "spam", "duration": "-P1D"}, "duration"),
        ({"reason": "spam", "duration": 0}, "duration"),
        ({"reason": "spam", "duration": "P3651D"}, "duration"),
        ({"reason": "spam", "duration": 10**30}, "duration"),
        ({"reason": "spam", "duration": "soon"}, "duration"),
        ({"reason": "spam", "duration": True}, "duration"),
        ({"reason": "spam", "evidence": ["called her a name"]}, "evidence"),
        ({"reason": "spam", "evidence": "msg:1"}, "evidence"),
    ],
)
def test_it_rejects_bad_block_input_and_changes_nothing(personas, payload, field):
    if field != "user_id":
        payload = {"user_id": personas["client"].pk, **payload}
    before = state()

    response = api_as(personas["monitor"]).post("/monitor/block-user", payload, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
    assert state() == before


def test_it_answers_404_for_an_unknown_user(personas):
    before = state()

    response = api_as(personas["admin"]).post(
        "/monitor/block-user", {"user_id": 999999, "reason": "spam"}, format="json"
    )

    assert response.status_code == 404
    assert state() == before


RANK_MATRIX = [
    (actor, target, actor in ("monitor", "admin", "superadmin") and rank[actor] > rank[target])
    for rank in [{"client": 0, "reader": 0, "monitor": 1, "admin": 2, "superadmin": 3}]
    for actor in ("monitor", "admin", "superadmin")
    for target in ("client", "reader", "monitor", "admin", "superadmin")
]


@pytest.mark.parametrize(("actor", "target", "allowed"), RANK_MATRIX)
def test_it_lets_staff_block_only_lower_ranks(make_user, actor, target, allowed):
    actor_user, target_user = make_user(role=actor), make_user(role=target)
    before = state()

    response = api_as(actor_user).post(
        "/monitor/block-user", {"user_id": target_user.pk, "reason": "abuse"}, format="json"
    )

    assert response.status_code == (201 if allowed else 403), response.content
    target_user.refresh_from_db()
    assert target_user.is_blocked == allowed
    if not allowed:
        assert state() == before


@pytest.mark.parametrize("role", ["monitor", "admin", "superadmin"])
def test_it_lets_nobody_block_themselves(make_user, role):
    user = make_user(role=role)

    response = api_as(user).post("/monitor/block-user", {"user_id": user.pk, "reason": "other"}, format="json")

    assert response.status_code == 403
    assert not User.objects.get(pk=user.pk).is_blocked
