"""POST /monitor/unblock-user: lifts the block; 409 when there is none."""

import pytest

from tests.conftest import api_as
from tests.moderation.conftest import audited, state

pytestmark = pytest.mark.django_db


def test_it_unblocks_and_lifts_the_block(personas, blocked):
    response = api_as(personas["admin"]).post(
        "/monitor/unblock-user", {"user_id": personas["client"].pk, "reason": "other"}, format="json"
    )

    assert response.status_code == 201
    assert api_as(personas["client"]).get("/me").status_code == 200
    blocked.refresh_from_db()
    assert (blocked.lift_reason, blocked.lifted_by_id) == ("unblocked", personas["admin"].pk)
    [entry] = audited("moderation.user.unblock")
    assert entry.details["lifted"] == [blocked.pk]


def test_it_answers_409_when_unblocking_someone_who_is_not_blocked(personas):
    before = state()

    response = api_as(personas["admin"]).post(
        "/monitor/unblock-user", {"user_id": personas["reader"].pk, "reason": "other"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"status": "active"}
    assert state() == before
