"""POST /admin/notifications: one transactional message to one user (admin)."""

import pytest

from notifications.models import Send
from tests.conftest import api_as

pytestmark = pytest.mark.django_db


def test_an_admin_notifies_one_user_and_bad_input_changes_nothing(personas):
    admin = api_as(personas["admin"])
    good = {"user_id": personas["client"].pk, "kind": "account.notice", "title": "Hello", "body": "A notice"}

    created = admin.post("/admin/notifications", {**good, "channels": ["push", "sms"]}, format="json")

    assert created.status_code == 201
    assert sorted(s["channel"] for s in created.json()["sends"]) == ["push", "sms"]
    for bad, status in (
        ({**good, "kind": "Not A Code"}, 400),
        ({**good, "channels": ["fax"]}, 400),
        ({**good, "title": "x" * 121}, 400),
        ({**good, "user_id": 10**9}, 404),
    ):
        answer = admin.post("/admin/notifications", bad, format="json")
        assert answer.status_code == status, bad
        assert answer.json()["error"]["code"] in ("invalid", "not_found")
    assert Send.objects.count() == 2
    assert api_as(personas["monitor"]).post("/admin/notifications", good, format="json").status_code == 403
    assert api_as(personas["admin"]).post("/admin/campaigns/999999/pause").status_code == 404
