"""/metrics/<family>: who reaches which route, and the query inputs refused."""

import pytest

from tests.conftest import api_as

pytestmark = pytest.mark.django_db


ROUTES = ["overview", "fulfillment", "moderation", "payments", "calls", "engagement", "content", "notifications"]
ALLOWED = {
    "client": set(),
    "reader": {"fulfillment", "moderation", "calls"},
    "monitor": {"moderation"},
    "admin": set(ROUTES),
    "superadmin": set(ROUTES),
}


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_each_role_reaches_exactly_its_metrics(personas, role):
    user = personas[role]
    for route in ROUTES:
        status = api_as(user).get(f"/metrics/{route}").status_code
        assert status == (200 if route in ALLOWED[role] else 403), (role, route, status)
    assert api_as(None).get("/metrics/fulfillment").status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-11-10", "to": "2026-11-09"}, "to"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "to"),  # 367 days
        ({"group_by": "client"}, "group_by"),
        ({"group_by": "day,day"}, "group_by"),
    ],
)
def test_bad_query_input_is_a_400(personas, query, field):
    response = api_as(personas["admin"]).get("/metrics/fulfillment", query)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["details"]


def test_a_full_year_is_accepted(personas):
    response = api_as(personas["admin"]).get("/metrics/payments", {"from": "2025-01-02", "to": "2026-01-02"})
    assert response.status_code == 200
