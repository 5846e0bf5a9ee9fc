"""/me/devices: register, list and remove push tokens."""

import pytest

from tests.conftest import api_as

pytestmark = pytest.mark.django_db


def test_a_token_registered_again_moves_to_its_newest_owner_and_revives(personas):
    first, second = personas["client"], personas["other_client"]
    api_as(first).post("/me/devices", {"platform": "fcm", "token": "shared-token"}, format="json")
    answer = api_as(second).post("/me/devices", {"platform": "fcm", "token": "shared-token"}, format="json")

    assert answer.status_code == 201 and "token" not in answer.json()
    assert api_as(first).get("/me/devices").json() == []
    assert [d["platform"] for d in api_as(second).get("/me/devices").json()] == ["fcm"]
    assert api_as(second).post("/me/devices", {"platform": "gcm", "token": "x"}, format="json").status_code == 400
    device_id = answer.json()["id"]
    assert api_as(first).delete(f"/me/devices/{device_id}").status_code == 404
    assert api_as(second).delete(f"/me/devices/{device_id}").status_code == 204
