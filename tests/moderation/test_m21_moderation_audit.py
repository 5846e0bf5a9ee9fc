"""M21 moderation: RLS of the new tables, the role matrix of every route, blocks, appeals, order actions, audit."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction

from moderation import appeals, services
from moderation.models import Appeal, Case, ModerationAction
from samia.accounts.models import User
from samia.rls.binding import bound
from samia.rls.registry import Identity
from tests.conftest import api_as, rows_as
from tests.moderation.conftest import audited, identity, moderate, state

pytestmark = pytest.mark.django_db

NOBODY = Identity(None, None)
MODERATION_TABLES = ["moderation_case", "moderation_moderationaction", "moderation_appeal", "moderation_reasoncode"]


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
    appeal = appeals.appeal_open(identity=identity(personas["client"]), action_id=blocked.pk)

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
    appeal = appeals.appeal_open(identity=identity(world["personas"]["client"]), action_id=held[1][0].pk)
    url, payload = _route_request(route, world, blocked_user, appeal)
    user = world["personas"][persona] if persona else None
    before = state()

    response = api_as(user).post(url, payload, format="json")

    expected = 401 if persona is None else ROUTE_MATRIX[route].get(persona, 403)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert state() == before


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
        assert len(audited("moderation.appeal.open")) == 1
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
    [entry] = audited("moderation.user.block")
    assert (entry.actor_id, entry.target_id, entry.outcome) == (personas["monitor"].pk, str(user.pk), "success")
    assert entry.details == {
        "action_id": body["id"],
        "case_id": case.pk,
        "reason": "harassment",
        "duration_seconds": 7 * 86400,
        "evidence": ["a" * 64],
    }


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
    assert [e.details for e in audited("moderation.appeal.resolve")] == [
        {"action_id": action_id, "decision": "overturn", "lifted": True}
    ]
    assert [e.details for e in audited("moderation.user.unblock")] == [{"action_id": action_id, "appeal_id": appeal_id}]


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
    assert len(audited("moderation.order.release")) == 1
    assert len(audited("marketplace.order.release")) == 1


# --- moderating orders -----------------------------------------------------------------------------------------------


def test_a_hold_stops_the_parties_through_the_state_machine(world):
    p, order = world["personas"], world["orders"]["assigned"]

    response = moderate(p["monitor"], order, "hold", evidence=["order:1"])

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
    [entry] = audited("moderation.order.hold")
    assert (entry.details["from"], entry.details["to"]) == ("assigned", "on_hold")
    assert len(audited("marketplace.order.hold")) == 1


def test_unlisting_hides_the_order_from_its_reader_but_not_its_client(world):
    p, order = world["personas"], world["orders"]["awaiting"]

    response = moderate(p["admin"], order, "unlist", reason="copyright")

    assert response.status_code == 201
    assert api_as(p["reader"]).get(f"/orders/{order.pk}").status_code == 404
    assert order.pk not in [o["id"] for o in api_as(p["reader"]).get("/orders").json()["results"]]
    assert api_as(p["other_client"]).get(f"/orders/{order.pk}").json()["status"] == "unlisted"


def test_remove_media_deletes_the_stored_bytes_and_keeps_the_lineage(world, django_capture_on_commit_callbacks):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    p, order = world["personas"], world["orders"]["awaiting"]
    asset = world["media"][1]
    default_storage.save(asset.storage_key, ContentFile(b"RIFF-bytes"))

    with django_capture_on_commit_callbacks(execute=True):
        response = moderate(p["monitor"], order, "remove_media", reason="copyright")

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
    [entry] = audited("moderation.order.remove_media")
    assert entry.details["media"] == ["0" * 64]


def test_postgres_lets_a_monitor_set_only_removed_at_on_media(world):
    asset = world["media"][0]
    monitor = world["personas"]["monitor"]

    assert (
        _update_user_as(monitor, "UPDATE marketplace_mediaasset SET removed_at = now() WHERE id = %s", [asset.pk]) == 1
    )
    assert _update_user_as(monitor, "UPDATE marketplace_mediaasset SET sha256 = 'x' WHERE id = %s", [asset.pk]) == -1


# --- the queue -------------------------------------------------------------------------------------------------------


def test_the_queue_lists_exactly_the_rows_postgres_shows(personas, blocked):
    for persona in ("monitor", "admin", "superadmin"):
        user = personas[persona]
        api_ids = [c["id"] for c in api_as(user).get("/monitor/cases").json()["results"]]
        db_ids = [r[0] for r in rows_as(identity(user), "SELECT id FROM moderation_case WHERE status <> 'resolved'")]
        assert sorted(api_ids) == sorted(db_ids)
