"""The appeal page (issue 15, item 3): a decision (uphold, overturn, modify) offered to the roles the guard admits,
taken through moderation.appeals; staff open an appeal on the subject's behalf; refusals are messages."""

import datetime as dt
import re

import pytest

from moderation import apis, services
from moderation.models import Appeal
from samia.rls.registry import Identity
from tests.backoffice.test_moderation_admin import STAFF, _audited, _logged_in, _messages, _offered

pytestmark = pytest.mark.django_db

APPEALS = "/backoffice/moderation/appeal/"


@pytest.fixture
def appeal(personas):
    """The client's appeal against a week's block by the monitor."""
    action = services.user_block(
        identity=Identity.of(personas["monitor"]),
        user_id=personas["client"].pk,
        reason_code="harassment",
        duration=dt.timedelta(days=7),
        evidence=[],
    )
    return Appeal.objects.create(
        action=action, subject=personas["client"], opened_by=personas["client"], statement="لم أفعل ذلك"
    )


def _decide(user, appeal, **fields):
    data = {f"decide-{key}": value for key, value in fields.items()}
    return _logged_in(user).post(f"{APPEALS}{appeal.pk}/decide/", {"do": "decide", **data}, follow=True)


@pytest.mark.parametrize("role", STAFF)
def test_the_appeal_page_offers_a_decision_to_the_roles_the_guard_admits(personas, appeal, role):
    html = _logged_in(personas[role]).get(f"{APPEALS}{appeal.pk}/change/").content.decode()

    admitted = role in apis.AppealResolveView.access["POST"].roles()
    assert _offered(html) == ({"decide"} if admitted else set())
    assert set(re.findall(r'name="decide-decision" value="(\w+)"', html)) == {"uphold", "overturn", "modify"}
    assert '<div dir="auto">لم أفعل ذلك</div>' in html


@pytest.mark.parametrize("role", STAFF)
def test_overturn_lifts_the_block(personas, appeal, role):
    response = _decide(personas[role], appeal, decision="overturn", rationale="No evidence.")

    appeal.refresh_from_db()
    personas["client"].refresh_from_db()
    assert (appeal.status, appeal.decision, appeal.decided_by_id) == ("decided", "overturn", personas[role].pk)
    assert not personas["client"].is_blocked
    assert _audited("moderation.appeal.resolve") == 1
    assert _messages(response) == [("success", "The appeal is decided: Overturn.")]


def test_uphold_keeps_the_block(personas, appeal):
    _decide(personas["admin"], appeal, decision="uphold", rationale="The messages are clear.")

    appeal.refresh_from_db()
    personas["client"].refresh_from_db()
    assert (appeal.decision, appeal.notes) == ("uphold", "The messages are clear.")
    assert personas["client"].is_blocked


def test_modify_shortens_the_block(personas, appeal):
    _decide(personas["admin"], appeal, decision="modify", rationale="A first offence.", days="1")

    appeal.refresh_from_db()
    appeal.action.refresh_from_db()
    assert appeal.decision == "modify"
    assert appeal.action.duration == dt.timedelta(days=1)


def test_a_decided_appeal_offers_no_decision_and_refuses_a_second(personas, appeal):
    _decide(personas["admin"], appeal, decision="uphold", rationale="Clear.")

    html = _logged_in(personas["admin"]).get(f"{APPEALS}{appeal.pk}/change/").content.decode()
    again = _decide(personas["admin"], appeal, decision="overturn", rationale="Changed my mind.")

    assert _offered(html) == set()
    assert _messages(again) == [("error", "This appeal is not open to your decision.")]
    appeal.refresh_from_db()
    assert appeal.decision == "uphold"


def test_a_decision_without_a_rationale_is_a_message(personas, appeal):
    response = _decide(personas["admin"], appeal, decision="overturn", rationale="")

    appeal.refresh_from_db()
    assert appeal.status == "open"
    assert _messages(response)[0][0] == "error"


def test_staff_open_an_appeal_for_the_subject_through_the_service(personas):
    action = services.user_block(
        identity=Identity.of(personas["monitor"]), user_id=personas["client"].pk, reason_code="fraud", duration=None,
        evidence=[],
    )  # fmt: skip

    response = _logged_in(personas["monitor"]).post(
        f"{APPEALS}add/", {"action": action.pk, "statement": "Called us."}, follow=True
    )

    appeal = Appeal.objects.get()
    assert (appeal.action_id, appeal.opened_by_id, appeal.statement) == (
        action.pk,
        personas["monitor"].pk,
        "Called us.",
    )
    assert _audited("moderation.appeal.open") == 1
    assert response.status_code == 200
    assert _messages(response)[0][0] == "success"


def test_an_appeal_the_service_refuses_is_a_message(personas, appeal):
    unblock = services.user_unblock(
        identity=Identity.of(personas["admin"]), user_id=personas["client"].pk, reason_code="other", evidence=[]
    )
    client = _logged_in(personas["monitor"])

    twice = client.post(f"{APPEALS}add/", {"action": appeal.action_id, "statement": "Again."}, follow=True)
    refused = client.post(f"{APPEALS}add/", {"action": unblock.pk, "statement": "?"}, follow=True)

    assert (twice.status_code, refused.status_code) == (200, 200)
    assert "Appeal with this Action already exists." in twice.content.decode()
    assert _messages(refused) == [("error", "This action cannot be appealed.")]
    assert Appeal.objects.count() == 1
