"""POST /monitor/community/{comment_id}/moderate: staff approve, hide, remove or escalate, on the thread's case."""

import pytest

from community.models import Comment
from moderation.models import Case, ModerationAction
from tests.community.conftest import audited, events, state
from tests.conftest import api_as

pytestmark = pytest.mark.django_db


def _url(comment) -> str:
    return f"/monitor/community/{comment.pk}/moderate"


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("client", 403),
        ("reader", 403),
        ("monitor", 201),
        ("admin", 201),
        ("superadmin", 201),
        (None, 401),
    ],
)
def test_it_lets_exactly_staff_moderate(personas, thread, community_on, persona, expected):
    user = personas[persona] if persona else None
    target = thread["comments"]["client_pending"]
    before = state()

    response = api_as(user).post(_url(target), {"action": "approve", "reason": "other"}, format="json")

    assert response.status_code == expected, response.content
    if expected == 201:
        action = ModerationAction.objects.get()
        assert response.json() == {
            "comment_id": target.pk,
            "comment_status": "approved",
            "action_id": action.pk,
            "action": "approve_comment",
            "case_id": action.case_id,
        }
        assert (action.target_type, action.target_id, action.subject_id, action.actor_id) == (
            "comment",
            target.pk,
            personas["client"].pk,
            user.pk,
        )
        target.refresh_from_db()
        assert (target.status, target.decided_by_id) == ("approved", user.pk)
        assert Case.objects.get(pk=action.case_id).source == "community"
        [entry] = audited("moderation.community.approve")
        assert entry.details == {
            "action_id": action.pk,
            "case_id": action.case_id,
            "comment_id": target.pk,
            "reason": "other",
            "from": "pending",
            "to": "approved",
            "evidence": [],
        }
        [event] = events("community.comment_decided")
        assert event.properties == {
            "comment_id": target.pk,
            "order_id": thread["mine"].pk,
            "decision": "approve",
            "status": "approved",
            "action_id": action.pk,
        }
    else:
        assert state() == before


def test_it_escalates_the_case_and_leaves_the_comment_as_it_is(personas, thread, community_on):
    target = thread["comments"]["client_pending"]

    response = api_as(personas["monitor"]).post(_url(target), {"action": "escalate", "reason": "abuse"}, format="json")

    assert response.status_code == 201
    case = Case.objects.get(pk=response.json()["case_id"])
    assert (case.status, case.team) == ("escalated", "admins")
    assert Comment.objects.get(pk=target.pk).status == "pending"
    assert len(audited("moderation.community.escalate")) == 1


def test_it_supersedes_the_earlier_decision(personas, thread, community_on):
    target = thread["comments"]["client_pending"]
    monitor = api_as(personas["monitor"])
    hidden = monitor.post(_url(target), {"action": "hide", "reason": "spam"}, format="json").json()

    removed = monitor.post(_url(target), {"action": "remove", "reason": "spam"}, format="json")

    assert removed.status_code == 201
    assert ModerationAction.objects.get(pk=hidden["action_id"]).lift_reason == "superseded"
    assert Comment.objects.get(pk=target.pk).status == "removed"


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"action": "delete", "reason": "spam"}, 400, "action"),
        ({"action": "hide", "reason": "no_such_reason"}, 400, "reason"),
        ({"action": "hide"}, 400, "reason"),
        ({"action": "hide", "reason": "spam", "evidence": ["free text here"]}, 400, "evidence"),
        ({"action": "approve", "reason": "spam"}, 409, None),  # already approved
    ],
)
def test_it_refuses_bad_input_and_a_decision_already_taken(personas, thread, community_on, payload, status, field):
    target = thread["comments"]["client_approved"]
    before = state()

    response = api_as(personas["monitor"]).post(_url(target), payload, format="json")

    assert response.status_code == status, response.content
    if field:
        assert field in response.json()["error"]["details"]
    assert state() == before


def test_it_answers_404_for_an_unknown_comment(personas, community_on):
    response = api_as(personas["monitor"]).post(
        "/monitor/community/999999/moderate", {"action": "hide", "reason": "spam"}, format="json"
    )

    assert response.status_code == 404
