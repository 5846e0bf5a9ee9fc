"""The feature switches in the back office: admins turn them with a reason (audited), others only read."""

import pytest
from django.test import Client

from samia.features import selectors
from tests.community.conftest import audited
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
URL = "/backoffice/waffle/switch/"


def _logged_in(user) -> Client:
    client = Client()
    assert client.post("/backoffice/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def _turn(client, enabled: bool, reason: str):
    from waffle.models import Switch

    ids = [str(Switch.objects.get(name="community").pk)]
    action = "switch_on" if enabled else "switch_off"
    return client.post(URL, {"action": action, "_selected_action": ids, "reason": reason})


@pytest.mark.parametrize("role", ["admin", "superadmin"])
def test_it_lets_admins_turn_a_switch_with_a_reason(personas, role):
    client = _logged_in(personas[role])

    assert "switch_on" in client.get(URL).content.decode()
    assert _turn(client, True, "launch").status_code == 302
    assert selectors.feature_on("community") is True
    assert [e.details for e in audited("features.switch.on")] == [
        {"name": "community", "reason": "launch", "was_on": False}
    ]
    assert _turn(client, False, "incident-9").status_code == 302
    assert selectors.feature_on("community") is False


def test_it_wants_a_reason_code(personas):
    client = _logged_in(personas["admin"])

    response = _turn(client, True, "because I said so")

    assert response.status_code == 302
    assert selectors.feature_on("community") is False
    assert "Give the reason as a short code first." in client.get(URL).content.decode()


def test_it_shows_a_monitor_the_switches_without_the_actions(personas):
    client = _logged_in(personas["monitor"])

    page = client.get(URL)
    _turn(client, True, "launch")

    assert page.status_code == 200 and "switch_on" not in page.content.decode()
    assert selectors.feature_on("community") is False
