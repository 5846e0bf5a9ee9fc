"""Appeals decided as modify: a block's new length counted from its start, an unlisting replaced by a hold."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction

from moderation import appeals, services
from moderation.models import Appeal, ModerationAction
from samia.accounts.models import User
from samia.rls.binding import bound
from tests.conftest import api_as
from tests.moderation.conftest import audited, identity, state

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def _check_now() -> None:
    """Run the deferred block check now, as the commit would (the test's transaction never commits)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS moderation_user_block_explained IMMEDIATE")
        cursor.execute("SET CONSTRAINTS moderation_user_block_explained DEFERRED")


def _modify(user, appeal, **change):
    body = {"decision": "modify", "rationale": "Proportionate.", **change}
    return api_as(user).post(f"/monitor/appeals/{appeal.pk}/resolve", body, format="json")


def _appeal(personas, action) -> Appeal:
    return appeals.appeal_open(identity=identity(personas["client"]), action_id=action.pk, statement="Please.")


def _block(personas, days=None, started_days_ago=0) -> ModerationAction:
    action = services.user_block(
        identity=identity(personas["monitor"]),
        user_id=personas["client"].pk,
        reason_code="harassment",
        duration=days * DAY if days else None,
        evidence=[],
    )
    if started_days_ago:
        # An older block: moved back in time as the owner (no identity, so no deferred check).
        start = action.created_at - started_days_ago * DAY
        expires = start + days * DAY if days else None
        ModerationAction.objects.filter(pk=action.pk).update(created_at=start, expires_at=expires)
        User.objects.filter(pk=action.subject_id).update(blocked_at=start, blocked_until=expires)
        action.refresh_from_db()
    return action


@pytest.mark.parametrize(("days", "new"), [(None, "P2D"), (30, "P2D"), (2, "P30D"), (2, None)])
def test_it_changes_a_blocks_length_counted_from_its_start(personas, days, new):
    # given a block (indefinite, or of `days`) that started 1 day ago, appealed by the client
    action = _block(personas, days=days, started_days_ago=1)
    appeal = _appeal(personas, action)

    # when an admin modifies it to `new` (null: indefinite)
    response = _modify(personas["admin"], appeal, duration=new)

    # then the action and the user's block end `new` after the block's start, and the answer shows it
    action.refresh_from_db()
    client = User.objects.get(pk=personas["client"].pk)
    length = {None: None, "P2D": 2 * DAY, "P30D": 30 * DAY}[new]
    expected = action.created_at + length if length else None
    assert response.status_code == 200
    assert (action.duration, action.expires_at, action.lifted_at) == (length, expected, None)
    assert (client.blocked_until, client.is_blocked) == (expected, True)
    body = response.json()
    assert (body["decision"], body["status"], body["action"]["id"], body["replacement"]) == (
        "modify",
        "decided",
        action.pk,
        None,
    )
    assert body["action"]["duration"] == (int(length.total_seconds()) if length else None)
    [entry] = audited("moderation.appeal.resolve")
    assert entry.details == {
        "action_id": action.pk,
        "decision": "modify",
        "lifted": False,
        "previous_seconds": int(days * DAY.total_seconds()) if days else None,
        "duration_seconds": int(length.total_seconds()) if length else None,
    }


def test_a_length_already_served_ends_the_block_now(personas):
    # given an indefinite block that started 3 days ago
    action = _block(personas, started_days_ago=3)
    appeal = _appeal(personas, action)

    # when it is modified to 2 days
    response = _modify(personas["admin"], appeal, duration="P2D")

    # then the client is no longer blocked, and the expiry job lifts the action as expired
    assert response.status_code == 200
    assert not User.objects.get(pk=personas["client"].pk).is_blocked
    assert services.blocks_expire() == [personas["client"].pk]
    action.refresh_from_db()
    assert action.lift_reason == "expired"


def test_the_appellant_sees_the_modified_block(personas):
    # given a 10-day block, 3 days served, shortened to 2 days: the client's token works again
    action = _block(personas, days=10, started_days_ago=3)
    appeal = _appeal(personas, action)
    _modify(personas["monitor"], appeal, duration="P2D")

    body = api_as(personas["client"]).get(f"/monitor/appeals/{appeal.pk}").json()

    assert (body["id"], body["decision"], body["action"]["id"], body["action"]["duration"]) == (
        appeal.pk,
        "modify",
        action.pk,
        2 * 86400,
    )


def test_the_deferred_check_admits_a_block_changed_by_a_modify(personas, blocked):
    appeal = _appeal(personas, blocked)
    _check_now()  # the fixture's block, made with no identity, is checked now rather than as the admin

    with transaction.atomic(), bound(identity(personas["admin"])):
        appeals.appeal_resolve(
            identity=identity(personas["admin"]),
            appeal_id=appeal.pk,
            decision="modify",
            rationale="Shorter.",
            modify={"duration": 3 * DAY},
        )
        _check_now()

    assert User.objects.get(pk=personas["client"].pk).blocked_until == blocked.created_at + 3 * DAY


def test_the_deferred_check_refuses_an_expiry_the_modify_did_not_set(personas, blocked):
    appeal = _appeal(personas, blocked)
    _check_now()  # the fixture's block, made with no identity, is checked now rather than as the admin

    with pytest.raises(DatabaseError) as refused, transaction.atomic(), bound(identity(personas["admin"])):
        appeals.appeal_resolve(
            identity=identity(personas["admin"]),
            appeal_id=appeal.pk,
            decision="modify",
            rationale="Shorter.",
            modify={"duration": 3 * DAY},
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE accounts_user SET blocked_until = blocked_until + interval '1 day' WHERE id = %s",
                [personas["client"].pk],
            )
        _check_now()

    assert refused.value.__cause__.sqlstate == "42501"


def test_it_replaces_an_unlisting_by_a_hold(world):
    # given the client's in-progress order unlisted by the monitor, and the client's appeal
    personas, order = world["personas"], world["orders"]["in_progress"]
    _, [unlist] = services.order_moderate(
        identity=identity(personas["monitor"]), order_id=order.pk, action="unlist", reason_code="fraud", evidence=[]
    )
    appeal = _appeal(personas, unlist)

    # when an admin modifies it into a hold
    response = _modify(personas["admin"], appeal, action="hold")

    # then the order is held (and still released to where it was), the unlisting lifted and the hold recorded
    unlist.refresh_from_db()
    order.refresh_from_db()
    hold = ModerationAction.objects.get(action="hold", target_id=order.pk)
    assert response.status_code == 200
    assert (order.status, order.held_from) == ("on_hold", "in_progress")
    assert (unlist.lift_reason, unlist.lifted_by_id) == ("modified", personas["admin"].pk)
    assert (hold.actor_id, hold.subject_id, hold.case_id, hold.reason_id) == (
        personas["admin"].pk,
        personas["client"].pk,
        unlist.case_id,
        unlist.reason_id,
    )
    body = response.json()
    assert (body["replacement"]["id"], body["replacement"]["action"], body["action"]["lift_reason"]) == (
        hold.pk,
        "hold",
        "modified",
    )
    [entry] = audited("moderation.appeal.resolve")
    assert entry.details == {
        "action_id": unlist.pk,
        "decision": "modify",
        "lifted": False,
        "replacement_id": hold.pk,
        "from": "unlisted",
        "to": "on_hold",
    }
    # and the appellant reads the same through the API
    seen = api_as(personas["client"]).get(f"/monitor/appeals/{appeal.pk}").json()
    assert (seen["replacement"]["id"], seen["action"]["lift_reason"]) == (hold.pk, "modified")


@pytest.mark.parametrize(
    "payload",
    [
        {"decision": "modify", "rationale": "x"},
        {"decision": "modify", "rationale": "x", "duration": "P1D", "action": "hold"},
        {"decision": "modify", "rationale": "x", "action": "hold"},
        {"decision": "modify", "rationale": "x", "action": "unlist"},
        {"decision": "modify", "rationale": "x", "duration": "-P1D"},
        {"decision": "uphold", "rationale": "x", "duration": "P1D"},
        {"decision": "overturn", "rationale": "x", "action": "hold"},
    ],
)
def test_it_refuses_a_modify_that_does_not_fit_the_action(personas, blocked, payload):
    appeal = _appeal(personas, blocked)
    before = state()

    response = api_as(personas["admin"]).post(f"/monitor/appeals/{appeal.pk}/resolve", payload, format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid")
    assert state() == before


def test_it_refuses_to_modify_an_action_no_longer_in_force(personas, blocked):
    appeal = _appeal(personas, blocked)
    services.user_unblock(
        identity=identity(personas["admin"]), user_id=personas["client"].pk, reason_code="other", evidence=[]
    )
    before = state()

    response = _modify(personas["admin"], appeal, duration="P1D")

    assert (response.status_code, response.json()["error"]["details"]) == (409, {"lift_reason": "unblocked"})
    assert state() == before


def test_a_monitor_may_not_modify_the_block_of_someone_above_them(personas):
    action = services.user_block(
        identity=identity(personas["superadmin"]),
        user_id=personas["admin"].pk,
        reason_code="harassment",
        duration=None,
        evidence=[],
    )
    appeal = appeals.appeal_open(identity=identity(personas["superadmin"]), action_id=action.pk)
    before = state()

    response = _modify(personas["monitor"], appeal, duration="P1D")

    assert response.status_code == 403
    assert state() == before
