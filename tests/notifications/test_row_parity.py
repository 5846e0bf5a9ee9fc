"""Row parity for the notifications list routes: the API lists exactly what Postgres shows the caller."""

import pytest

from notifications import services
from samia.rls.binding import bound
from samia.rls.registry import Identity
from tests.conftest import api_as, rows_as
from tests.notifications.helpers import identity, notify

pytestmark = pytest.mark.django_db

PERSONAS = ["client", "other_client", "reader", "monitor", "admin", "superadmin"]
CAMPAIGN = {
    "name": "Parity",
    "channel": "push",
    "audience": {},
    "templates": {"en": {"title": "Hi", "body": "Hello"}},
    "send_on": "2026-12-01",
    "local_time": "10:00",
}


@pytest.fixture
def data(personas):
    for persona in ("client", "other_client", "reader"):
        user = personas[persona]
        notify(user)
        services.suppression_add(channel="sms", reason="stop", actor="system:tests", user_id=user.pk)
        with bound(identity(user)):
            services.device_register(user=user, platform="fcm", token=f"parity-{persona}")
    services.suppression_add(channel="sms", reason="manual", actor="system:tests", address="+447700900888")
    for _ in range(2):
        api_as(personas["admin"]).post("/admin/campaigns", CAMPAIGN, format="json")
    return personas


def _paged_ids(user, route) -> list[int]:
    ids, url = [], route + "?page_size=100"
    while url:
        response = api_as(user).get(url)
        if response.status_code == 403:
            return []
        assert response.status_code == 200, response.content
        ids += [row["id"] for row in response.json()["results"]]
        url = response.json()["next"]
    return sorted(ids)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    "route, table",
    [("/admin/suppressions", "notifications_suppression"), ("/admin/campaigns", "notifications_campaign")],
)
def test_admin_lists_match_the_database(data, persona, route, table):
    user = data[persona]

    db_ids = sorted(r[0] for r in rows_as(Identity(user.pk, user.role), f"SELECT id FROM {table}"))

    assert _paged_ids(user, route) == db_ids


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    "route, table", [("/me/notifications", "notifications_send"), ("/me/devices", "notifications_devicetoken")]
)
def test_my_lists_are_my_rows_as_the_database_sees_them(data, persona, route, table):
    user = data[persona]

    api_ids = sorted(row["id"] for row in api_as(user).get(route).json())
    db_ids = sorted(
        r[0] for r in rows_as(Identity(user.pk, user.role), f"SELECT id FROM {table} WHERE user_id = %s", [user.pk])
    )

    assert api_ids == db_ids
