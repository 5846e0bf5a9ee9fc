"""A blocked user learns which block it is at login (right password only) and appeals it at POST /auth/appeal."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from moderation import appeals, services
from moderation.models import Appeal
from samia.accounts.models import User
from tests.conftest import api_as
from tests.factories import PASSWORD
from tests.moderation.conftest import audited, identity, state

pytestmark = pytest.mark.django_db
GENERIC_401 = "No active account matches these credentials."


def _login(user, password=PASSWORD):
    return api_as().post("/auth/token", {"email": user.email, "password": password}, format="json")


def _appeal(user, password=PASSWORD, statement="It was not me."):
    body = {"email": user.email, "password": password, "statement": statement}
    return api_as().post("/auth/appeal", body, format="json")


def test_a_right_password_for_a_blocked_account_names_the_block(personas, blocked):
    response = _login(personas["client"])

    error = response.json()["error"]
    assert (response.status_code, error["code"], error["message"]) == (
        403,
        "account_blocked",
        "This account is blocked.",
    )
    assert error["details"] == {"action_id": blocked.pk, "expires_at": None, "appealable": True, "appeal_id": None}
    assert "access" not in response.json()
    assert [e.details for e in audited("auth.login.failed")] == [{"reason": "blocked"}]


def test_a_wrong_password_for_a_blocked_account_is_the_generic_401(personas, blocked):
    blocked_answer = _login(personas["client"], password="wrong-password")
    unknown_answer = api_as().post("/auth/token", {"email": "nobody@example.test", "password": "x"}, format="json")

    assert (blocked_answer.status_code, unknown_answer.status_code) == (401, 401)
    assert blocked_answer.json()["error"]["message"] == unknown_answer.json()["error"]["message"] == GENERIC_401
    assert "details" not in blocked_answer.json()["error"]


def test_the_login_limiter_counts_a_blocked_accounts_logins_as_today(personas, blocked):
    limit, _window = settings.LOGIN_RATE_LIMITS["account"]

    answers = [_login(personas["client"]).status_code for _ in range(limit + 1)]

    assert answers == [403] * limit + [429]


def test_a_blocked_user_appeals_with_their_credentials(personas, blocked):
    response = _appeal(personas["client"])

    appeal = Appeal.objects.get()
    assert response.status_code == 201
    assert (appeal.action_id, appeal.subject_id, appeal.opened_by_id, appeal.statement, appeal.status) == (
        blocked.pk,
        personas["client"].pk,
        personas["client"].pk,
        "It was not me.",
        "open",
    )
    assert (response.json()["id"], response.json()["action"]["id"]) == (appeal.pk, blocked.pk)
    [opened] = audited("moderation.appeal.open")
    assert (opened.actor_id, opened.details) == (
        personas["client"].pk,
        {"action_id": blocked.pk, "case_id": blocked.case_id},
    )
    # and the next login says the block is appealed, no longer appealable
    details = _login(personas["client"]).json()["error"]["details"]
    assert (details["appealable"], details["appeal_id"]) == (False, appeal.pk)


def test_the_appellant_sees_a_modified_block_at_login(personas, blocked):
    _appeal(personas["client"])
    appeals.appeal_resolve(
        identity=identity(personas["admin"]),
        appeal_id=Appeal.objects.get().pk,
        decision="modify",
        rationale="A week.",
        modify={"duration": dt.timedelta(days=7)},
    )
    blocked.refresh_from_db()

    details = _login(personas["client"]).json()["error"]["details"]

    assert details["expires_at"] == blocked.expires_at.isoformat()


def test_a_second_appeal_of_the_same_block_is_a_conflict(personas, blocked):
    _appeal(personas["client"])
    before = state()

    response = _appeal(personas["client"])

    assert (response.status_code, response.json()["error"]["code"]) == (409, "conflict")
    assert state()[:4] == before[:4]


def test_a_wrong_password_opens_nothing_and_says_nothing(personas, blocked):
    before = state()

    response = _appeal(personas["client"], password="wrong-password")

    assert (response.status_code, response.json()["error"]["message"]) == (401, GENERIC_401)
    assert state()[:4] == before[:4]
    assert Appeal.objects.count() == 0


def test_an_account_that_is_not_blocked_has_nothing_to_appeal(personas):
    response = _appeal(personas["client"])

    assert (response.status_code, response.json()["error"]["details"]) == (409, {"status": "active"})
    assert Appeal.objects.count() == 0


def test_a_block_with_no_moderation_action_cannot_be_appealed(personas):
    # a block set by the owner (a command, no identity) has no action to appeal
    User.objects.filter(pk=personas["client"].pk).update(blocked_at=timezone.now())

    login = _login(personas["client"])
    response = _appeal(personas["client"])

    assert login.json()["error"]["details"] == {"action_id": None, "appealable": False}
    assert (response.status_code, Appeal.objects.count()) == (409, 0)


def test_the_appeal_route_is_limited_like_login(personas, blocked):
    limit, _window = settings.LOGIN_RATE_LIMITS["account"]
    for _ in range(limit):
        _appeal(personas["client"], password="wrong-password")

    response = _appeal(personas["client"])

    assert response.status_code == 429
    assert Appeal.objects.count() == 0


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"email": "not-an-email", "password": "x"},
        {"email": "a@example.test"},
        {"email": "a@example.test", "password": "x", "statement": "x" * 2001},
    ],
)
def test_it_refuses_malformed_appeals(personas, blocked, payload):
    before = state()

    response = api_as().post("/auth/appeal", payload, format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid")
    assert state() == before


def test_an_unblocked_users_token_still_opens_appeals_on_other_actions(world):
    # the token route is unchanged for actions that do not block (a hold on the client's order)
    personas = world["personas"]
    _, [hold] = services.order_moderate(
        identity=identity(personas["monitor"]),
        order_id=world["orders"]["in_progress"].pk,
        action="hold",
        reason_code="fraud",
        evidence=[],
    )

    response = api_as(personas["client"]).post(f"/monitor/appeals/{hold.pk}/open", {}, format="json")

    assert response.status_code == 201
