"""POST /monitor/moderate/call/<id>: end (through the calls provider, or marked for ending), flag, escalate."""

import pytest
from django.conf import settings

from moderation.models import Case, ModerationAction
from samia.events.models import EventRaw
from samia.marketplace.calls import END_REQUESTED
from samia.marketplace.models import Call
from samia.providers import registry
from tests import factories
from tests.conftest import api_as
from tests.moderation.conftest import audited, state

pytestmark = pytest.mark.django_db


def _moderate(user, call, action, reason="call_abuse", **extra):
    return api_as(user).post(
        f"/monitor/moderate/call/{call.pk}", {"action": action, "reason": reason, **extra}, format="json"
    )


def _call(personas, status="answered"):
    order = factories.OrderFactory(client=personas["client"], reader=personas["reader"], status="in_progress")
    return factories.CallFactory(order=order, client=personas["client"], reader=personas["reader"], status=status)


def _calls_state():
    return list(Call.objects.order_by("id").values()), state()


@pytest.fixture
def calls_provider(settings):
    """A calls provider configured: the sandbox adapter, which accepts every request and sends nothing."""
    registry.get.cache_clear()
    settings.PROVIDERS = {**settings.PROVIDERS, "calls": "samia.providers.sandbox.SandboxProvider"}
    yield
    registry.get.cache_clear()


def test_without_a_calls_provider_ending_marks_the_live_call_for_ending(personas):
    assert "calls" not in settings.PROVIDERS
    call = _call(personas)

    response = _moderate(personas["admin"], call, "end", evidence=["rec:9"])

    call.refresh_from_db()
    case = Case.objects.get(call=call)
    action = ModerationAction.objects.get(target_type="call", target_id=call.pk)
    assert response.status_code == 201
    assert (call.status, call.end_reason, call.ended_at) == ("answered", END_REQUESTED, None)
    assert (action.action, action.subject_id, action.case_id, action.evidence) == (
        "end_call",
        personas["client"].pk,
        case.pk,
        ["rec:9"],
    )
    assert (case.subject_id, case.reason.code, case.status, case.assignee_id) == (
        personas["client"].pk,
        "call_abuse",
        "in_review",
        personas["admin"].pk,
    )
    body = response.json()
    assert (
        body["call_id"],
        body["call_status"],
        body["end_reason"],
        body["case"]["call_id"],
        body["action"]["id"],
    ) == (
        call.pk,
        "answered",
        END_REQUESTED,
        call.pk,
        action.pk,
    )
    [entry] = audited("moderation.call.end")
    assert entry.details == {
        "action_id": action.pk,
        "case_id": case.pk,
        "reason": "call_abuse",
        "from": "answered",
        "to": "answered",
        "end_reason": END_REQUESTED,
        "evidence": ["rec:9"],
    }
    assert [e.details for e in audited("call.end_request")] == [{"status": "answered"}]


def test_a_call_marked_for_ending_is_not_marked_twice(personas):
    call = _call(personas)
    _moderate(personas["admin"], call, "end")
    before = _calls_state()

    response = _moderate(personas["admin"], call, "end")

    assert (response.status_code, response.json()["error"]["code"]) == (409, "conflict")
    assert _calls_state() == before


@pytest.mark.parametrize(("status", "ended_as", "event"), [("answered", "ended", 1), ("ringing", "failed", 0)])
def test_with_a_calls_provider_ending_ends_the_call(personas, calls_provider, status, ended_as, event):
    call = _call(personas, status=status)

    response = _moderate(personas["superadmin"], call, "end", subject="reader")

    call.refresh_from_db()
    assert response.status_code == 201
    assert (call.status, call.end_reason, call.ended_at is not None) == (ended_as, "moderation", True)
    assert response.json()["call_status"] == ended_as
    assert ModerationAction.objects.get(target_id=call.pk, target_type="call").subject_id == personas["reader"].pk
    assert EventRaw.objects.filter(name="call.ended", subject_id=call.pk).count() == event
    assert [e.details for e in audited("call.end")] == [{"from": status, "to": ended_as}]


def test_a_call_that_is_over_cannot_be_ended(personas):
    call = _call(personas, status="ended")
    before = _calls_state()

    response = _moderate(personas["admin"], call, "end")

    assert (response.status_code, response.json()["error"]["details"]["status"]) == (409, "ended")
    assert _calls_state() == before


def test_a_monitor_flags_a_call_and_joins_its_case(personas):
    call = _call(personas)

    first = _moderate(personas["monitor"], call, "flag")
    second = _moderate(personas["monitor"], call, "flag", reason="harassment")

    call.refresh_from_db()
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["case"]["id"] == second.json()["case"]["id"]
    assert (call.status, call.end_reason) == ("answered", "")
    assert ModerationAction.objects.filter(action="flag", target_id=call.pk).count() == 2


def test_escalating_raises_the_calls_case(personas):
    call = _call(personas)
    _moderate(personas["monitor"], call, "flag")

    response = _moderate(personas["monitor"], call, "escalate")
    again = _moderate(personas["monitor"], call, "escalate")

    case = Case.objects.get(call=call)
    assert response.status_code == 201
    assert (case.status, case.team, case.priority, case.assignee_id) == ("escalated", "admins", "high", None)
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("persona", "action", "expected"),
    [
        ("monitor", "end", 403),
        ("client", "flag", 403),
        ("reader", "flag", 403),
        ("client", "end", 403),
        (None, "flag", 401),
    ],
)
def test_who_may_not_moderate_a_call_changes_nothing(personas, persona, action, expected):
    call = _call(personas)
    before = _calls_state()

    response = _moderate(personas.get(persona), call, action)

    assert response.status_code == expected
    assert _calls_state() == before


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"action": "mute", "reason": "call_abuse"},
        {"action": "end"},
        {"action": "flag", "reason": "call_abuse", "evidence": ["free text with spaces"]},
        {"action": "flag", "reason": "call_abuse", "subject": "monitor"},
        {"action": "flag", "reason": "no-such-reason"},
    ],
)
def test_it_refuses_malformed_requests(personas, payload):
    call = _call(personas)
    before = _calls_state()

    response = api_as(personas["admin"]).post(f"/monitor/moderate/call/{call.pk}", payload, format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid")
    assert _calls_state() == before


def test_an_unknown_call_is_404(personas):
    before = _calls_state()

    response = api_as(personas["admin"]).post(
        "/monitor/moderate/call/999999", {"action": "flag", "reason": "call_abuse"}, format="json"
    )

    assert response.status_code == 404
    assert _calls_state() == before
