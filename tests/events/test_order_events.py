import json

import pytest
from django.db import connection

from tests.conftest import api_as

pytestmark = pytest.mark.django_db


def _order_events():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, actor_id, subject_id, properties FROM events_raw ORDER BY id")
        return [(name, actor, subject, json.loads(props)) for name, actor, subject, props in cursor.fetchall()]


def test_every_order_transition_emits_its_event_in_the_same_transaction(world):
    order = world["orders"]["awaiting"]
    monitor = world["personas"]["monitor"]

    api_as(monitor).post(f"/orders/{order.pk}/approve", {}, format="json")

    assert _order_events() == [
        (
            "order.approved",
            monitor.pk,
            order.pk,
            {
                "service": "tarot",
                "gold": False,
                "from_status": "awaiting_approval",
                "to_status": "approved",
                "reader_id": world["personas"]["reader"].pk,
            },
        )
    ]


def test_a_refused_transition_emits_nothing(world):
    api_as(world["personas"]["monitor"]).post(f"/orders/{world['orders']['approved'].pk}/approve", {}, format="json")

    assert _order_events() == []


def test_creating_an_order_emits_order_created(personas):
    from tests.factories import ServiceFactory

    ServiceFactory(code="coffee", name="Coffee")
    response = api_as(personas["client"]).post("/orders", {"service": "coffee", "question": "Why?"}, format="json")

    [(name, actor, subject, properties)] = _order_events()
    assert (name, actor, subject) == ("order.created", personas["client"].pk, response.json()["id"])
    assert properties == {
        "service": "coffee",
        "gold": False,
        "from_status": None,
        "to_status": "new",
        "reader_id": None,
    }
