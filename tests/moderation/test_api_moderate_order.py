"""POST /monitor/moderate/order/<id>: release, 409 on finished orders or no media, escalation, bad input, 404."""

import datetime as dt

import pytest
from django.utils import timezone

from moderation.models import Case
from tests import factories
from tests.conftest import api_as
from tests.moderation.conftest import moderate, state

pytestmark = pytest.mark.django_db


def test_release_puts_the_order_back_where_it_was(world, held):
    p, order = world["personas"], world["orders"]["in_progress"]
    case, [hold] = held

    unlisted = moderate(p["monitor"], order, "unlist")
    released = moderate(p["monitor"], order, "release")

    assert (unlisted.status_code, released.status_code) == (201, 201)
    order.refresh_from_db()
    assert (order.status, order.held_from) == ("in_progress", "")
    assert released.json()["case"]["id"] == case.pk  # the order's open case
    hold.refresh_from_db()
    assert hold.lift_reason == "released"


@pytest.mark.parametrize("action", ["hold", "unlist", "release"])
@pytest.mark.parametrize("status", ["delivered", "cancelled"])
def test_it_answers_409_for_a_state_change_on_a_finished_order(personas, action, status):
    order = factories.OrderFactory(client=personas["client"], reader=personas["reader"], status=status)
    before = state()

    response = moderate(personas["admin"], order, action)

    assert response.status_code == 409
    assert response.json()["error"]["details"]["status"] == status
    assert state() == before
    assert Case.objects.count() == 0


def test_remove_media_answers_409_when_there_is_none(world):
    before = state()

    response = moderate(world["personas"]["monitor"], world["orders"]["new"], "remove_media")

    assert response.status_code == 409
    assert state() == before


def test_escalate_raises_priority_and_hands_the_case_to_admins(world, held):
    case, _ = held
    case.priority = "medium"
    case.save(update_fields=["priority"])

    response = moderate(world["personas"]["monitor"], world["orders"]["in_progress"], "escalate")
    again = moderate(world["personas"]["monitor"], world["orders"]["in_progress"], "escalate")

    assert (response.status_code, again.status_code) == (201, 409)
    case.refresh_from_db()
    assert (case.status, case.priority, case.team, case.assignee_id) == ("escalated", "high", "admins", None)
    assert case.sla_due_at <= timezone.now() + dt.timedelta(hours=8)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"action": "delete", "reason": "fraud"}, "action"),
        ({"reason": "fraud"}, "action"),
        ({"action": "hold"}, "reason"),
        ({"action": "hold", "reason": "boredom"}, "reason"),
        ({"action": "hold", "reason": "fraud", "evidence": ["<script>"]}, "evidence"),
        ({"action": "hold", "reason": "fraud", "subject": "neighbour"}, "subject"),
    ],
)
def test_it_rejects_bad_order_moderation_input(world, payload, field):
    before = state()

    response = api_as(world["personas"]["monitor"]).post(
        f"/monitor/moderate/order/{world['orders']['new'].pk}", payload, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert state() == before


def test_it_answers_404_for_an_unknown_order(personas):
    assert moderate(personas["monitor"], factories.OrderFactory.build(pk=999999), "hold").status_code == 404
