"""POST /monitor/appeals/<id>/open and /resolve: decisions that keep the restriction, bad input, 404, 409."""

import pytest

from moderation import appeals, services
from moderation.models import Appeal
from samia.accounts.models import User
from tests.conftest import api_as
from tests.moderation.conftest import identity, state

pytestmark = pytest.mark.django_db


# A modify now changes the restriction and takes the change (here: a 30-day block instead of an
# indefinite one, still in force); test_appeal_modify.py covers what each modify does.
@pytest.mark.parametrize("decision,change", [("uphold", {}), ("modify", {"duration": "P30D"})])
def test_an_upheld_or_modified_appeal_keeps_the_restriction(personas, blocked, decision, change):
    appeal = appeals.appeal_open(identity=identity(personas["client"]), action_id=blocked.pk)

    response = api_as(personas["admin"]).post(
        f"/monitor/appeals/{appeal.pk}/resolve", {"decision": decision, "rationale": "Stays.", **change}, format="json"
    )

    assert response.status_code == 200
    assert User.objects.get(pk=personas["client"].pk).is_blocked


@pytest.mark.parametrize(
    "payload",
    [{}, {"decision": "forgive", "rationale": "x"}, {"decision": "uphold"}, {"decision": "uphold", "rationale": ""}],
)
def test_it_rejects_a_bad_decision(personas, blocked, payload):
    appeal = appeals.appeal_open(identity=identity(personas["client"]), action_id=blocked.pk)
    before = state()

    response = api_as(personas["monitor"]).post(f"/monitor/appeals/{appeal.pk}/resolve", payload, format="json")

    assert response.status_code == 400
    assert state() == before


def test_it_answers_404_for_unknown_appeals_and_actions(personas):
    monitor = api_as(personas["monitor"])

    resolve = monitor.post("/monitor/appeals/999999/resolve", {"decision": "uphold", "rationale": "x"}, format="json")
    opened = monitor.post("/monitor/appeals/999999/open", {}, format="json")

    assert (resolve.status_code, opened.status_code) == (404, 404)


def test_it_refuses_an_appeal_on_a_lifted_or_unappealable_action(personas, blocked):
    unblock = services.user_unblock(
        identity=identity(personas["admin"]), user_id=personas["client"].pk, reason_code="other", evidence=[]
    )
    client = api_as(personas["client"])

    lifted = client.post(f"/monitor/appeals/{blocked.pk}/open", {}, format="json")
    unappealable = client.post(f"/monitor/appeals/{unblock.pk}/open", {}, format="json")

    assert (lifted.status_code, unappealable.status_code) == (409, 409)
    assert Appeal.objects.count() == 0
