"""GET and POST /admin/features: admins read and turn the switches, with a reason, audited."""

import pytest
from waffle.models import Switch

from samia.features import selectors
from tests.community.conftest import audited
from tests.conftest import api_as

pytestmark = pytest.mark.django_db
URL = "/admin/features"


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("client", 403), ("reader", 403), ("monitor", 403), ("admin", 200), ("superadmin", 200), (None, 401)],
)
def test_it_lists_the_switches_to_admins_only(personas, persona, expected):
    user = personas[persona] if persona else None

    response = api_as(user).get(URL)

    assert response.status_code == expected
    if expected == 200:
        assert [(row["name"], row["enabled"]) for row in response.json()] == [
            ("community", False),
            ("community_public", False),
        ]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("client", 403), ("reader", 403), ("monitor", 403), ("admin", 200), ("superadmin", 200), (None, 401)],
)
def test_it_lets_admins_turn_a_switch_and_audits_it(personas, persona, expected):
    user = personas[persona] if persona else None

    response = api_as(user).post(URL, {"name": "community_public", "enabled": True, "reason": "launch"}, format="json")

    assert response.status_code == expected, response.content
    assert selectors.feature_on("community_public") is (expected == 200)
    if expected == 200:
        assert response.json()["enabled"] is True
        [entry] = audited("features.switch.on")
        assert (entry.actor_id, entry.target_type, entry.target_id) == (user.pk, "waffle.switch", "community_public")
        assert entry.details == {"name": "community_public", "reason": "launch", "was_on": False}
    else:
        assert audited("features.switch.on") == []


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"name": "teleport", "enabled": True, "reason": "launch"}, 404, None),
        ({"name": "community", "enabled": True}, 400, "reason"),
        ({"name": "community", "enabled": True, "reason": "because I said so"}, 400, "reason"),
        ({"name": "community", "reason": "launch"}, 400, "enabled"),
        ({"enabled": True, "reason": "launch"}, 400, "name"),
    ],
)
def test_it_refuses_an_unknown_name_or_a_missing_reason(personas, payload, status, field):
    response = api_as(personas["admin"]).post(URL, payload, format="json")

    assert response.status_code == status, response.content
    if field:
        assert field in response.json()["error"]["details"]
    assert not Switch.objects.filter(name__in=selectors.KNOWN, active=True).exists()


def test_it_starts_with_both_switches_off():
    assert sorted(Switch.objects.filter(name__in=selectors.KNOWN).values_list("name", "active")) == [
        ("community", False),
        ("community_public", False),
    ]
