"""POST /community/reactions: one reaction of each kind per party and reading; a repeat is 200."""

import pytest

from community.models import Reaction
from tests.community.conftest import events, state
from tests.conftest import api_as

pytestmark = pytest.mark.django_db
URL = "/community/reactions"


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("client", 201), ("reader", 201), ("other_client", 404), ("monitor", 403), ("admin", 403), (None, 401)],
)
def test_it_lets_exactly_the_parties_react(personas, thread, community_on, persona, expected):
    user = personas[persona] if persona else None
    before = state()

    response = api_as(user).post(URL, {"order_id": thread["mine"].pk, "kind": "insightful"}, format="json")

    assert response.status_code == expected, response.content
    if expected == 201:
        reaction = Reaction.objects.get(pk=response.json()["id"])
        assert (reaction.user_id, reaction.kind) == (user.pk, "insightful")
        assert response.json() == {"id": reaction.pk, "order_id": thread["mine"].pk, "kind": "insightful"}
        assert [e.properties for e in events("community.reaction_added")] == [
            {"order_id": thread["mine"].pk, "kind": "insightful"}
        ]
    else:
        assert state() == before


def test_it_answers_200_with_the_same_reaction_when_it_exists(personas, thread, community_on):
    existing = thread["reactions"][0]  # the client's heart

    response = api_as(personas["client"]).post(URL, {"order_id": thread["mine"].pk, "kind": "heart"}, format="json")

    assert response.status_code == 200
    assert response.json()["id"] == existing.pk
    assert Reaction.objects.filter(order=thread["mine"], user=personas["client"]).count() == 1
    assert events("community.reaction_added") == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"order_id": 1, "kind": "angry"}, "kind"), ({"order_id": 1}, "kind"), ({"kind": "like"}, "order_id")],
)
def test_it_refuses_an_unknown_kind_or_missing_field(personas, thread, community_on, payload, field):
    response = api_as(personas["client"]).post(URL, payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_it_answers_409_on_an_order_not_delivered(personas, thread, community_on):
    response = api_as(personas["reader"]).post(
        URL, {"order_id": thread["undelivered"].pk, "kind": "like"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"status": "approved"}
