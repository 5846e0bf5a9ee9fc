"""M21 moderation: RLS of the new tables, the role matrix of every route, blocks, appeals, order actions, audit."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from moderation import services
from moderation.models import Appeal, Case, ModerationAction
from samia.accounts.models import User
from samia.audit.models import AuditEntry
from samia.rls.binding import bound
from samia.rls.registry import Identity
from tests import factories
from tests.conftest import api_as, rows_as
from tests.moderation.conftest import identity

pytestmark = pytest.mark.django_db

NOBODY = Identity(None, None)
MODERATION_TABLES = ["moderation_case", "moderation_moderationaction", "moderation_appeal", "moderation_reasoncode"]


def _audited(action):
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def _state():
    """Everything a refused request must leave as it was."""
    return (
        list(User.objects.order_by("id").values("id", "blocked_at", "blocked_until")),
        list(ModerationAction.objects.order_by("id").values()),
        list(Case.objects.order_by("id").values()),
        list(Appeal.objects.order_by("id").values()),
        AuditEntry.objects.filter(family="moderation").count(),
    )


# --- RLS isolation ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", MODERATION_TABLES)
def test_it_shows_no_moderation_row_without_an_identity(blocked, table):
    assert rows_as(NOBODY, f"SELECT count(*) FROM {table}") == [(0,)]


def test_it_shows_a_user_only_their_own_restrictions_and_appeals(personas, blocked):
    # given Alice's block and appeal, and Bob's block
    other = services.user_block(
        identity=identity(personas["monitor"]),
        user_id=personas["other_client"].pk,
        reason_code="spam",
        duration=None,
        evidence=[],
    )
    appeal = services.appeal_open(identity=identity(personas["client"]), action_id=blocked.pk)

    def seen(persona, table):
        user = personas[persona]
        return {r[0] for r in rows_as(identity(user), f"SELECT id FROM {table}")}

    # then each sees their own, Charlie nothing, staff everything
    assert seen("client", "moderation_moderationaction") == {blocked.pk}
    assert seen("client", "moderation_appeal") == {appeal.pk}
    assert seen("other_client", "moderation_moderationaction") == {other.pk}
    assert seen("other_client", "moderation_appeal") == set()
    assert seen("reader", "moderation_moderationaction") == set()
    assert seen("client", "moderation_case") == set()
    for staff in ("monitor", "admin", "superadmin"):
        assert seen(staff, "moderation_moderationaction") == {blocked.pk, other.pk}
        assert seen(staff, "moderation_appeal") == {appeal.pk}
        assert seen(staff, "moderation_case") == {blocked.case_id, other.case_id}


def test_it_refuses_a_client_appealing_someone_elses_action_in_postgres(personas, blocked):
    bob = personas["other_client"]
    with pytest.raises(DatabaseError), bound(identity(bob)), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO moderation_appeal (action_id, subject_id, opened_by_id, statement, status, opened_at,"
            " decision, notes) VALUES (%s, %s, %s, '', 'open', now(), '', '')",
            [blocked.pk, bob.pk, bob.pk],
        )


def test_it_refuses_clients_writing_actions_and_cases_in_postgres(personas, blocked):
    client = personas["client"]
    with bound(identity(client)), connection.cursor() as cursor:
        cursor.execute("UPDATE moderation_moderationaction SET lifted_at = now() WHERE id = %s", [blocked.pk])
        assert cursor.rowcount == 0
    with bound(identity(client)), connection.cursor() as cursor:
        cursor.execute("UPDATE moderation_case SET status = 'resolved', resolved_at = now()")
        assert cursor.rowcount == 0
    with pytest.raises(DatabaseError), bound(identity(client)), connection.cursor() as cursor:
        cursor.execute("DELETE FROM moderation_case")  # not even granted


# --- the role matrix of every route ----------------------------------------------------------------------------------

ROLES = ["client", "reader", "monitor", "admin", "superadmin"]


def _route_request(name, world, blocked_user, appeal):
    p = world["personas"]
    return {
        "block": ("/monitor/block-user", {"user_id": p["other_reader"].pk, "reason": "abuse"}),
        "unblock": ("/monitor/unblock-user", {"user_id": blocked_user.pk, "reason": "other"}),
        "moderate": (f"/monitor/moderate/order/{world['orders']['new'].pk}", {"action": "hold", "reason": "fraud"}),
        "resolve": (f"/monitor/appeals/{appeal.pk}/resolve", {"decision": "uphold", "rationale": "Confirmed."}),
    }[name]


ROUTE_MATRIX = {
    "block": {"monitor": 201, "admin": 201, "superadmin": 201},
    "unblock": {"admin": 201, "superadmin": 201},
    "moderate": {"monitor": 201, "admin": 201, "superadmin": 201},
    "resolve": {"monitor": 200, "admin": 200, "superadmin": 200},
}


@pytest.mark.parametrize("route", sorted(ROUTE_MATRIX))
@pytest.mark.parametrize("persona", [*ROLES, None])
def test_it_lets_exactly_the_declared_roles_use_each_route(world, held, make_user, route, persona):
    blocked_user = make_user(role="client")
    services.user_block(
        identity=identity(world["personas"]["admin"]),
        user_id=blocked_user.pk,
        reason_code="spam",
        duration=None,
        evidence=[],
    )
    appeal = services.appeal_open(identity=identity(world["personas"]["client"]), action_id=held[1][0].pk)
    url, payload = _route_request(route, world, blocked_user, appeal)
    user = world["personas"][persona] if persona else None
    before = _state()

    response = api_as(user).post(url, payload, format="json")

    expected = 401 if persona is None else ROUTE_MATRIX[route].get(persona, 403)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert _state() == before


@pytest.mark.parametrize("persona", [*ROLES, None])
def test_it_shows_the_queue_only_to_staff(world, held, persona):
    user = world["personas"][persona] if persona else None

    response = api_as(user).get("/monitor/cases")

    expected = {None: 401, "client": 403, "reader": 403}.get(persona, 200)
    assert response.status_code == expected
    if expected == 200:
        assert [row["id"] for row in response.json()["results"]] == [held[0].pk]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("client", 201), ("other_client", 404), ("reader", 404), ("monitor", 201), ("admin", 201), (None, 401)],
)
def test_it_lets_the_subject_and_staff_open_an_appeal_and_hides_it_from_others(world, held, persona, expected):
    personas = world["personas"]
    user = personas[persona] if persona else None

    response = api_as(user).post(f"/monitor/appeals/{held[1][0].pk}/open", {"statement": "Not fraud."}, format="json")

    assert response.status_code == expected, response.content
    if expected == 201:
        appeal = Appeal.objects.get()
        assert (appeal.subject_id, appeal.opened_by_id, appeal.status) == (personas["client"].pk, user.pk, "open")
        assert len(_audited("moderation.appeal.open")) == 1
    else:
        assert Appeal.objects.count() == 0


# --- blocking --------------------------------------------------------------------------------------------------------


def test_it_blocks_a_user_and_their_token_stops_working_at_once(personas):
    client = api_as(personas["client"])
    assert client.get("/me").status_code == 200

    response = api_as(personas["monitor"]).post(
        "/monitor/block-user",
        {"user_id": personas["client"].pk, "reason": "harassment", "duration": "P7D", "evidence": ["a" * 64]},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["action"], body["target_type"], body["target_id"], body["reason"], body["duration"]) == (
        "block",
        "user",
        personas["client"].pk,
        "harassment",
        7 * 86400,
    )
    assert client.get("/me").status_code == 401
    user = User.objects.get(pk=personas["client"].pk)
    assert user.is_blocked
    assert user.blocked_until - user.blocked_at == dt.timedelta(days=7)
    case = Case.objects.get()
    assert (case.subject_id, case.priority, case.status, case.source) == (user.pk, "high", "in_review", "manual")
    assert case.sla_due_at - case.opened_at == dt.timedelta(hours=8)
    [entry] = _audited("moderation.user.block")
    assert (entry.actor_id, entry.target_id, entry.outcome) == (personas["monitor"].pk, str(user.pk), "success")
    assert entry.details == {
        "action_id": body["id"],
        "case_id": case.pk,
        "reason": "harassment",
        "duration_seconds": 7 * 86400,
        "evidence": ["a" * 64],
    }


@pytest.mark.parametrize(("duration", "seconds"), [(3600, 3600), ("90", 90), ("PT2H", 7200), (None, None)])
def test_it_takes_durations_in_seconds_or_iso_8601_or_none(personas, duration, seconds):
    response = api_as(personas["admin"]).post(
        "/monitor/block-user",
        {"user_id": personas["reader"].pk, "reason": "spam", "duration": duration},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["duration"] == seconds
    assert (response.json()["expires_at"] is None) == (seconds is None)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"reason": "spam"}, "user_id"),
        ({"user_id": "me", "reason": "spam"}, "user_id"),
        ({"user_id": 1}, "reason"),
        ({"reason": "sadness"}, "reason"),
        ({"reason": "spam", "duration": -60}, "duration"),
        ({"reason": "spam", "duration": "-P1D"}, "duration"),
        ({"reason": "spam", "duration": 0}, "duration"),
        ({"reason": "spam", "duration": "P3651D"}, "duration"),
        ({"reason": "spam", "duration": 10**30}, "duration"),
        ({"reason": "spam", "duration": "soon"}, "duration"),
        ({"reason": "spam", "duration": True}, "duration"),
        ({"reason": "spam", "evidence": ["called her a name"]}, "evidence"),
        ({"reason": "spam", "evidence": "msg:1"}, "evidence"),
    ],
)
def test_it_rejects_bad_block_input_and_changes_nothing(personas, payload, field):
    if field != "user_id":
        payload = {"user_id": personas["client"].pk, **payload}
    before = _state()

    response = api_as(personas["monitor"]).post("/monitor/block-user", payload, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
    assert _state() == before


def test_it_answers_404_for_an_unknown_user(personas):
    before = _state()

    response = api_as(personas["admin"]).post(
        "/monitor/block-user", {"user_id": 999999, "reason": "spam"}, format="json"
    )

    assert response.status_code == 404
    assert _state() == before


RANK_MATRIX = [
    (actor, target, actor in ("monitor", "admin", "superadmin") and rank[actor] > rank[target])
    for rank in [{"client": 0, "reader": 0, "monitor": 1, "admin": 2, "superadmin": 3}]
    for actor in ("monitor", "admin", "superadmin")
    for target in ("client", "reader", "monitor", "admin", "superadmin")
]


@pytest.mark.parametrize(("actor", "target", "allowed"), RANK_MATRIX)
def test_it_lets_staff_block_only_lower_ranks(make_user, actor, target, allowed):
    actor_user, target_user = make_user(role=actor), make_user(role=target)
    before = _state()

    response = api_as(actor_user).post(
        "/monitor/block-user", {"user_id": target_user.pk, "reason": "abuse"}, format="json"
    )

    assert response.status_code == (201 if allowed else 403), response.content
    target_user.refresh_from_db()
    assert target_user.is_blocked == allowed
    if not allowed:
        assert _state() == before


@pytest.mark.parametrize("role", ["monitor", "admin", "superadmin"])
def test_it_lets_nobody_block_themselves(make_user, role):
    user = make_user(role=role)

    response = api_as(user).post("/monitor/block-user", {"user_id": user.pk, "reason": "other"}, format="json")

    assert response.status_code == 403
    assert not User.objects.get(pk=user.pk).is_blocked


def test_it_unblocks_and_lifts_the_block(personas, blocked):
    response = api_as(personas["admin"]).post(
        "/monitor/unblock-user", {"user_id": personas["client"].pk, "reason": "other"}, format="json"
    )

    assert response.status_code == 201
    assert api_as(personas["client"]).get("/me").status_code == 200
    blocked.refresh_from_db()
    assert (blocked.lift_reason, blocked.lifted_by_id) == ("unblocked", personas["admin"].pk)
    [entry] = _audited("moderation.user.unblock")
    assert entry.details["lifted"] == [blocked.pk]


def test_it_answers_409_when_unblocking_someone_who_is_not_blocked(personas):
    before = _state()

    response = api_as(personas["admin"]).post(
        "/monitor/unblock-user", {"user_id": personas["reader"].pk, "reason": "other"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"status": "active"}
    assert _state() == before


def test_a_block_with_a_duration_expires_by_itself_and_the_sweep_records_it(personas):
    # given a one-hour block
    action = services.user_block(
        identity=identity(personas["monitor"]),
        user_id=personas["client"].pk,
        reason_code="spam",
        duration=dt.timedelta(hours=1),
        evidence=[],
    )
    client = api_as(personas["client"])
    assert client.get("/me").status_code == 401

    # when the hour is over (moved back in time as the service role)
    User.objects.filter(pk=personas["client"].pk).update(blocked_until=timezone.now() - dt.timedelta(seconds=1))

    # then the token works again before any job runs, and the job clears and records the expiry once
    assert client.get("/me").status_code == 200
    assert services.blocks_expire() == [personas["client"].pk]
    assert services.blocks_expire() == []
    user = User.objects.get(pk=personas["client"].pk)
    assert (user.blocked_at, user.blocked_until) == (None, None)
    action.refresh_from_db()
    assert action.lift_reason == "expired"
    [entry] = _audited("moderation.user.block_expire")
    assert (entry.actor_role, entry.actor_id, entry.details) == (
        "system:moderation.expire_blocks",
        None,
        {"lifted": [action.pk]},
    )


def test_the_expiry_task_is_scheduled_every_five_minutes(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="moderation.expire_blocks")

    assert (task.task, task.enabled, task.interval.every, task.interval.period) == (
        "moderation.expire_blocks",
        True,
        5,
        "minutes",
    )


def _update_user_as(actor, sql, params) -> int:
    try:
        with transaction.atomic(), bound(identity(actor)), connection.cursor() as cursor:
            cursor.execute(sql, params)
            transaction.set_rollback(True)
            return cursor.rowcount
    except DatabaseError:
        return -1


@pytest.mark.parametrize(
    ("target", "sql", "expected"),
    [
        ("client", "UPDATE accounts_user SET blocked_at = now() WHERE id = %s", 1),
        ("reader", "UPDATE accounts_user SET blocked_at = NULL, blocked_until = NULL WHERE id = %s", 1),
        ("client", "UPDATE accounts_user SET last_name = 'x' WHERE id = %s", -1),
        ("client", "UPDATE accounts_user SET is_active = false WHERE id = %s", -1),
        ("client", "UPDATE accounts_user SET role = 'monitor' WHERE id = %s", -1),
        ("other_monitor", "UPDATE accounts_user SET blocked_at = now() WHERE id = %s", 0),
        ("admin", "UPDATE accounts_user SET blocked_at = now() WHERE id = %s", 0),
    ],
)
def test_postgres_lets_a_monitor_change_only_the_block_of_clients_and_readers(
    personas, make_user, target, sql, expected
):
    target_user = make_user(role="monitor") if target == "other_monitor" else personas[target]

    assert _update_user_as(personas["monitor"], sql, [target_user.pk]) == expected


@pytest.mark.parametrize(
    ("actor", "target", "expected"),
    [("admin", "admin", -1), ("superadmin", "admin", 1), ("superadmin", "superadmin", -1), ("admin", "monitor", 1)],
)
def test_postgres_keeps_the_rank_rules_for_restrictions(make_user, actor, target, expected):
    actor_user, target_user = make_user(role=actor), make_user(role=target)

    changed = _update_user_as(actor_user, "UPDATE accounts_user SET blocked_at = now() WHERE id = %s", [target_user.pk])

    assert changed == expected


# --- appeals ---------------------------------------------------------------------------------------------------------


def test_an_overturned_appeal_lifts_the_block_end_to_end(personas):
    # given a client blocked by a monitor
    blocked = api_as(personas["monitor"]).post(
        "/monitor/block-user", {"user_id": personas["client"].pk, "reason": "abuse"}, format="json"
    )
    action_id = blocked.json()["id"]

    # when the client, who cannot use the API, appeals through staff, and a monitor overturns it
    opened = api_as(personas["admin"]).post(f"/monitor/appeals/{action_id}/open", {}, format="json")
    appeal_id = opened.json()["id"]
    first = api_as(personas["monitor"]).post(
        f"/monitor/appeals/{appeal_id}/resolve", {"decision": "overturn", "rationale": "Misread."}, format="json"
    )
    again = api_as(personas["admin"]).post(
        f"/monitor/appeals/{appeal_id}/resolve", {"decision": "uphold", "rationale": "No."}, format="json"
    )

    # then the block is gone, the second decision is refused, and each step is audited once
    assert (opened.status_code, first.status_code, again.status_code) == (201, 200, 409)
    assert again.json()["error"]["details"] == {"status": "decided", "decision": "overturn"}
    assert (first.json()["status"], first.json()["decision"], first.json()["notes"]) == (
        "decided",
        "overturn",
        "Misread.",
    )
    assert api_as(personas["client"]).get("/me").status_code == 200
    assert ModerationAction.objects.get(pk=action_id).lift_reason == "overturned"
    assert [e.details for e in _audited("moderation.appeal.resolve")] == [
        {"action_id": action_id, "decision": "overturn", "lifted": True}
    ]
    assert [e.details for e in _audited("moderation.user.unblock")] == [
        {"action_id": action_id, "appeal_id": appeal_id}
    ]


def test_the_subject_appeals_a_hold_and_an_overturn_releases_the_order(world, held):
    _case, [action] = held
    order = world["orders"]["in_progress"]
    client = api_as(world["personas"]["client"])

    opened = client.post(f"/monitor/appeals/{action.pk}/open", {"statement": "Please."}, format="json")
    twice = client.post(f"/monitor/appeals/{action.pk}/open", {}, format="json")
    resolved = api_as(world["personas"]["admin"]).post(
        f"/monitor/appeals/{opened.json()['id']}/resolve", {"decision": "overturn", "rationale": "Fine."}, format="json"
    )

    assert (opened.status_code, twice.status_code, resolved.status_code) == (201, 409, 200)
    order.refresh_from_db()
    assert (order.status, order.held_from) == ("in_progress", "")
    assert len(_audited("moderation.order.release")) == 1
    assert len(_audited("marketplace.order.release")) == 1


@pytest.mark.parametrize("decision", ["uphold", "modify"])
def test_an_upheld_or_modified_appeal_keeps_the_restriction(personas, blocked, decision):
    appeal = services.appeal_open(identity=identity(personas["client"]), action_id=blocked.pk)

    response = api_as(personas["admin"]).post(
        f"/monitor/appeals/{appeal.pk}/resolve", {"decision": decision, "rationale": "Stays."}, format="json"
    )

    assert response.status_code == 200
    assert User.objects.get(pk=personas["client"].pk).is_blocked


@pytest.mark.parametrize(
    "payload",
    [{}, {"decision": "forgive", "rationale": "x"}, {"decision": "uphold"}, {"decision": "uphold", "rationale": ""}],
)
def test_it_rejects_a_bad_decision(personas, blocked, payload):
    appeal = services.appeal_open(identity=identity(personas["client"]), action_id=blocked.pk)
    before = _state()

    response = api_as(personas["monitor"]).post(f"/monitor/appeals/{appeal.pk}/resolve", payload, format="json")

    assert response.status_code == 400
    assert _state() == before


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


# --- moderating orders -----------------------------------------------------------------------------------------------


def _moderate(user, order, action, reason="fraud", **extra):
    return api_as(user).post(
        f"/monitor/moderate/order/{order.pk}", {"action": action, "reason": reason, **extra}, format="json"
    )


def test_a_hold_stops_the_parties_through_the_state_machine(world):
    p, order = world["personas"], world["orders"]["assigned"]

    response = _moderate(p["monitor"], order, "hold", evidence=["order:1"])

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["order_status"], body["case"]["priority"], [a["action"] for a in body["actions"]]) == (
        "on_hold",
        "critical",
        ["hold"],
    )
    order.refresh_from_db()
    assert (order.status, order.held_from) == ("on_hold", "assigned")
    assert order.held_at is not None
    # the reader can no longer start it, the client can no longer cancel it; both still see it
    assert api_as(p["reader"]).post(f"/orders/{order.pk}/start").status_code == 409
    assert api_as(p["client"]).post(f"/orders/{order.pk}/cancel").status_code == 409
    assert api_as(p["reader"]).get(f"/orders/{order.pk}").json()["status"] == "on_hold"
    [entry] = _audited("moderation.order.hold")
    assert (entry.details["from"], entry.details["to"]) == ("assigned", "on_hold")
    assert len(_audited("marketplace.order.hold")) == 1


def test_unlisting_hides_the_order_from_its_reader_but_not_its_client(world):
    p, order = world["personas"], world["orders"]["awaiting"]

    response = _moderate(p["admin"], order, "unlist", reason="copyright")

    assert response.status_code == 201
    assert api_as(p["reader"]).get(f"/orders/{order.pk}").status_code == 404
    assert order.pk not in [o["id"] for o in api_as(p["reader"]).get("/orders").json()["results"]]
    assert api_as(p["other_client"]).get(f"/orders/{order.pk}").json()["status"] == "unlisted"


def test_release_puts_the_order_back_where_it_was(world, held):
    p, order = world["personas"], world["orders"]["in_progress"]
    case, [hold] = held

    unlisted = _moderate(p["monitor"], order, "unlist")
    released = _moderate(p["monitor"], order, "release")

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
    before = _state()

    response = _moderate(personas["admin"], order, action)

    assert response.status_code == 409
    assert response.json()["error"]["details"]["status"] == status
    assert _state() == before
    assert Case.objects.count() == 0


def test_remove_media_deletes_the_stored_bytes_and_keeps_the_lineage(world, django_capture_on_commit_callbacks):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    p, order = world["personas"], world["orders"]["awaiting"]
    asset = world["media"][1]
    default_storage.save(asset.storage_key, ContentFile(b"RIFF-bytes"))

    with django_capture_on_commit_callbacks(execute=True):
        response = _moderate(p["monitor"], order, "remove_media", reason="copyright")

    assert response.status_code == 201, response.content
    assert [(a["target_type"], a["target_id"]) for a in response.json()["actions"]] == [("media", asset.pk)]
    assert not default_storage.exists(asset.storage_key)
    asset.refresh_from_db()
    assert asset.removed_at is not None
    assert (asset.sha256, asset.bytes) == ("0" * 64, 1024)
    # the parties no longer see it; staff still see the lineage row
    assert rows_as(identity(p["reader"]), "SELECT id FROM marketplace_mediaasset WHERE id = %s", [asset.pk]) == []
    assert rows_as(identity(p["admin"]), "SELECT id FROM marketplace_mediaasset WHERE id = %s", [asset.pk]) == [
        (asset.pk,)
    ]
    [entry] = _audited("moderation.order.remove_media")
    assert entry.details["media"] == ["0" * 64]


def test_remove_media_answers_409_when_there_is_none(world):
    before = _state()

    response = _moderate(world["personas"]["monitor"], world["orders"]["new"], "remove_media")

    assert response.status_code == 409
    assert _state() == before


def test_postgres_lets_a_monitor_set_only_removed_at_on_media(world):
    asset = world["media"][0]
    monitor = world["personas"]["monitor"]

    assert (
        _update_user_as(monitor, "UPDATE marketplace_mediaasset SET removed_at = now() WHERE id = %s", [asset.pk]) == 1
    )
    assert _update_user_as(monitor, "UPDATE marketplace_mediaasset SET sha256 = 'x' WHERE id = %s", [asset.pk]) == -1


def test_escalate_raises_priority_and_hands_the_case_to_admins(world, held):
    case, _ = held
    case.priority = "medium"
    case.save(update_fields=["priority"])

    response = _moderate(world["personas"]["monitor"], world["orders"]["in_progress"], "escalate")
    again = _moderate(world["personas"]["monitor"], world["orders"]["in_progress"], "escalate")

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
    before = _state()

    response = api_as(world["personas"]["monitor"]).post(
        f"/monitor/moderate/order/{world['orders']['new'].pk}", payload, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert _state() == before


def test_it_answers_404_for_an_unknown_order(personas):
    assert _moderate(personas["monitor"], factories.OrderFactory.build(pk=999999), "hold").status_code == 404


# --- the queue -------------------------------------------------------------------------------------------------------


def test_the_queue_is_oldest_due_first_filterable_and_paginated(personas, make_user):
    monitor = identity(personas["monitor"])
    targets = [make_user(role="client") for _ in range(3)]
    codes = ["spam", "fraud", "copyright"]  # low 72h, critical 2h, medium 24h
    actions = [
        services.user_block(identity=monitor, user_id=u.pk, reason_code=c, duration=None, evidence=[])
        for u, c in zip(targets, codes, strict=True)
    ]
    case_ids = [a.case_id for a in actions]
    services.case_resolve(identity=Identity(personas["admin"].pk, "admin"), case_id=case_ids[2], note="Done.")
    api = api_as(personas["monitor"])

    everything = api.get("/monitor/cases").json()["results"]
    spam = api.get("/monitor/cases?reason=spam").json()["results"]
    first_page = api.get("/monitor/cases?page_size=1").json()
    second_page = api.get(first_page["next"]).json()
    bad = api.get("/monitor/cases?status=resolved")

    assert [c["id"] for c in everything] == [case_ids[1], case_ids[0]]
    assert [c["id"] for c in spam] == [case_ids[0]]
    assert [c["id"] for c in first_page["results"] + second_page["results"]] == [case_ids[1], case_ids[0]]
    assert api.get(f"/monitor/cases?subject={targets[1].pk}").json()["results"][0]["id"] == case_ids[1]
    assert api.get(f"/monitor/cases?assignee={personas['admin'].pk}").json()["results"] == []
    assert bad.status_code == 400


def test_the_queue_lists_exactly_the_rows_postgres_shows(personas, blocked):
    for persona in ("monitor", "admin", "superadmin"):
        user = personas[persona]
        api_ids = [c["id"] for c in api_as(user).get("/monitor/cases").json()["results"]]
        db_ids = [r[0] for r in rows_as(identity(user), "SELECT id FROM moderation_case WHERE status <> 'resolved'")]
        assert sorted(api_ids) == sorted(db_ids)
