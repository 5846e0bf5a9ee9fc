"""M24 community: off means absent at both enforcers; the RLS matrix; the moderation flow; privacy."""

import json

import pytest
from django.db import DatabaseError, connection

from community import jobs
from community.handles import handle
from community.models import Comment
from moderation.models import Appeal, Case
from samia.rls.binding import bound
from tests.community.conftest import audited, comment, events, identity, state, switch
from tests.conftest import api_as, rows_as

pytestmark = pytest.mark.django_db

PERSONAS = ["client", "other_client", "reader", "other_reader", "monitor", "admin", "superadmin", None]
TABLES = ["community_comment", "community_reaction", "community_communityflag"]


def _user(personas, persona):
    return personas[persona] if persona else None


def _requests(thread):
    mine, first = thread["mine"], thread["comments"]["reader_approved"]
    return [
        ("post", "/community/comments", {"order_id": mine.pk, "body": "Thank you."}),
        ("post", "/community/reactions", {"order_id": mine.pk, "kind": "like"}),
        ("post", "/community/flags", {"comment_id": first.pk, "reason": "spam"}),
        ("get", f"/community/threads?order_id={mine.pk}", None),
        ("post", f"/monitor/community/{first.pk}/moderate", {"action": "hide", "reason": "spam"}),
    ]


# --- the switch --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_answers_404_on_every_route_to_every_persona_while_the_switch_is_off(personas, thread, persona):
    user = _user(personas, persona)
    before = state()

    for method, url, payload in _requests(thread):
        response = getattr(api_as(user), method)(url, payload, format="json")
        assert response.status_code == 404, (url, response.content)
        assert response.json()["error"]["code"] == "not_found"

    assert state() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_shows_no_row_and_refuses_every_insert_in_postgres_while_the_switch_is_off(personas, thread, persona):
    who = identity(_user(personas, persona))
    switch("community_public", True)  # even with the public switch on: community itself is off

    for table in TABLES:
        assert rows_as(who, f"SELECT count(*) FROM {table}") == [(0,)]
    client, mine = personas["client"], thread["mine"]
    inserts = [
        "INSERT INTO community_comment (order_id, author_id, author_role, body, body_sha256, status, created_at) "
        f"VALUES ({mine.pk}, {client.pk}, 'client', 'x', '{'0' * 64}', 'pending', now())",
        f"INSERT INTO community_reaction (order_id, user_id, kind, created_at) VALUES ({mine.pk}, {client.pk}, "
        "'like', now())",
    ]
    for sql in inserts:
        with pytest.raises(DatabaseError), bound(identity(client)), connection.cursor() as cursor:
            cursor.execute(sql)


def test_it_turns_on_and_off_again_without_a_restart(personas, thread):
    admin, client = api_as(personas["admin"]), api_as(personas["client"])
    url = f"/community/threads?order_id={thread['mine'].pk}"
    assert client.get(url).status_code == 404

    on = admin.post("/admin/features", {"name": "community", "enabled": True, "reason": "launch"}, format="json")
    assert on.status_code == 200, on.content
    assert client.get(url).status_code == 200
    assert rows_as(identity(personas["client"]), "SELECT count(*) FROM community_comment") == [(3,)]

    off = admin.post("/admin/features", {"name": "community", "enabled": False, "reason": "incident-7"}, format="json")
    assert off.status_code == 200
    assert client.get(url).status_code == 404
    assert rows_as(identity(personas["client"]), "SELECT count(*) FROM community_comment") == [(0,)]
    assert [e.details for e in audited("features.switch.on")] == [
        {"name": "community", "reason": "launch", "was_on": False}
    ]
    assert [e.details for e in audited("features.switch.off")] == [
        {"name": "community", "reason": "incident-7", "was_on": True}
    ]


# --- RLS: what each persona sees and may write ------------------------------------------------------------------------


def _seen(personas, persona, table):
    return {row[0] for row in rows_as(identity(_user(personas, persona)), f"SELECT id FROM {table}")}


@pytest.mark.parametrize("public", [False, True])
def test_it_shows_each_persona_the_comments_the_declaration_says(personas, thread, community_on, public):
    switch("community_public", public)
    c = {name: row.pk for name, row in thread["comments"].items()}
    approved = {c["client_approved"], c["reader_approved"], c["theirs_approved"]} if public else set()

    assert _seen(personas, "client", "community_comment") == approved | {
        c["client_pending"],
        c["client_approved"],
        c["reader_approved"],
    }
    assert _seen(personas, "reader", "community_comment") == approved | {
        c["client_approved"],
        c["reader_approved"],
        c["reader_hidden"],
    }
    assert _seen(personas, "other_client", "community_comment") == approved | {c["theirs_approved"]}
    assert _seen(personas, "other_reader", "community_comment") == approved | {
        c["theirs_approved"],
        c["theirs_pending"],
    }
    assert _seen(personas, None, "community_comment") == approved
    for staff in ("monitor", "admin", "superadmin"):
        assert _seen(personas, staff, "community_comment") == set(c.values())


def test_it_shows_reactions_to_the_parties_and_staff_only(personas, thread, community_on):
    mine, theirs = [r.pk for r in thread["reactions"][:2]], thread["reactions"][2].pk

    assert _seen(personas, "client", "community_reaction") == set(mine)
    assert _seen(personas, "reader", "community_reaction") == set(mine)
    assert _seen(personas, "other_client", "community_reaction") == {theirs}
    assert _seen(personas, None, "community_reaction") == set()
    assert _seen(personas, "monitor", "community_reaction") == {*mine, theirs}


def test_it_shows_a_flag_to_its_reporter_and_staff_only(personas, thread, community_on):
    reported = thread["comments"]["client_approved"]
    response = api_as(personas["reader"]).post(
        "/community/flags", {"comment_id": reported.pk, "reason": "harassment"}, format="json"
    )
    assert response.status_code == 201, response.content
    flag = response.json()["id"]

    assert _seen(personas, "reader", "community_communityflag") == {flag}
    assert _seen(personas, "client", "community_communityflag") == set()
    assert _seen(personas, None, "community_communityflag") == set()
    for staff in ("monitor", "admin", "superadmin"):
        assert _seen(personas, staff, "community_communityflag") == {flag}


def _insert_as(user, sql, params) -> bool:
    from django.db import transaction

    try:
        with transaction.atomic(), bound(identity(user)), connection.cursor() as cursor:
            cursor.execute(sql, params)
            transaction.set_rollback(True)
            return True
    except DatabaseError:
        return False


COMMENT_INSERT = (
    "INSERT INTO community_comment (order_id, author_id, author_role, body, body_sha256, status, created_at) "
    "VALUES (%s, %s, %s, 'x', %s, %s, now())"
)


@pytest.mark.parametrize(
    ("persona", "order", "role", "status", "allowed"),
    [
        ("client", "mine", "client", "pending", True),
        ("reader", "mine", "reader", "pending", True),
        ("client", "mine", "client", "approved", False),  # only pending
        ("client", "mine", "reader", "pending", False),  # in one's own role
        ("client", "undelivered", "client", "pending", False),  # delivered orders only
        ("other_client", "mine", "client", "pending", False),  # parties only
        ("monitor", "mine", "client", "pending", False),
        ("admin", "mine", "client", "pending", False),
    ],
)
def test_it_lets_postgres_admit_only_pending_comments_by_a_party_of_a_delivered_order(
    personas, thread, community_on, persona, order, role, status, allowed
):
    user = personas[persona]
    params = [thread[order].pk, user.pk, role, "0" * 64, status]

    assert _insert_as(user, COMMENT_INSERT, params) is allowed


def test_it_lets_staff_change_a_comments_decision_and_nothing_else(personas, thread, community_on):
    target = thread["comments"]["client_pending"]
    monitor = personas["monitor"]

    assert _insert_as(
        monitor, "UPDATE community_comment SET status = 'approved', decided_at = now() WHERE id = %s", [target.pk]
    )
    assert not _insert_as(monitor, "UPDATE community_comment SET body = 'rewritten' WHERE id = %s", [target.pk])
    with bound(identity(personas["client"])), connection.cursor() as cursor:
        cursor.execute("UPDATE community_comment SET status = 'approved' WHERE id = %s", [target.pk])
        assert cursor.rowcount == 0
    assert not _insert_as(personas["admin"], "DELETE FROM community_comment WHERE id = %s", [target.pk])


# --- the moderation flow ----------------------------------------------------------------------------------------------


def test_it_moderates_a_comment_from_post_to_appeal(personas, thread, community_on):
    p, mine = personas, thread["mine"]
    monitor, admin = api_as(p["monitor"]), api_as(p["admin"])

    # given the client posts: the comment waits, the filing job opens the thread's case
    posted = api_as(p["client"]).post("/community/comments", {"order_id": mine.pk, "body": "Spot on."}, format="json")
    assert posted.status_code == 201, posted.content
    comment_id = posted.json()["id"]
    assert jobs.cases_file() == {"comments": 3, "flags": 0}  # both threads' pending comments and this one
    case = Case.objects.get(order=mine, source="community")
    assert (case.status, case.priority, case.reason.code, case.subject_id) == (
        "open",
        "low",
        "community_review",
        p["client"].pk,
    )
    queue = monitor.get("/monitor/cases?source=community").json()["results"]
    assert case.pk in [row["id"] for row in queue]
    reader_thread = f"/community/threads?order_id={mine.pk}"
    assert comment_id not in [c["id"] for c in api_as(p["reader"]).get(reader_thread).json()["results"]]

    # when a monitor approves it, the other party sees it
    approved = monitor.post(
        f"/monitor/community/{comment_id}/moderate", {"action": "approve", "reason": "other"}, format="json"
    )
    assert approved.status_code == 201, approved.content
    assert approved.json()["case_id"] == case.pk
    assert comment_id in [c["id"] for c in api_as(p["reader"]).get(reader_thread).json()["results"]]

    # a flag joins the case and raises its priority to the flag reason's severity
    flagged = api_as(p["reader"]).post(
        "/community/flags", {"comment_id": comment_id, "reason": "harassment"}, format="json"
    )
    assert flagged.status_code == 201
    assert jobs.cases_file() == {"comments": 0, "flags": 1}
    case.refresh_from_db()
    assert (case.priority, Case.objects.filter(source="community", order=mine).count()) == ("high", 1)

    # hidden, appealed by its author, overturned: the comment is back
    hidden = monitor.post(
        f"/monitor/community/{comment_id}/moderate", {"action": "hide", "reason": "harassment"}, format="json"
    )
    assert hidden.status_code == 201
    assert comment_id not in [c["id"] for c in api_as(p["reader"]).get(reader_thread).json()["results"]]
    action_id = hidden.json()["action_id"]
    appeal = api_as(p["client"]).post(f"/monitor/appeals/{action_id}/open", {"statement": "Kind words."}, format="json")
    assert appeal.status_code == 201, appeal.content
    resolved = admin.post(
        f"/monitor/appeals/{appeal.json()['id']}/resolve", {"decision": "overturn", "rationale": "Fine."}, format="json"
    )
    assert resolved.status_code == 200, resolved.content
    assert Comment.objects.get(pk=comment_id).status == "approved"
    assert Appeal.objects.get().decision == "overturn"
    assert comment_id in [c["id"] for c in api_as(p["reader"]).get(reader_thread).json()["results"]]

    # and every step is in the audit trail, with ids and codes only
    assert [e.details["comment_id"] for e in audited("community.comment.post")] == [comment_id]
    assert case.pk in [e.details["case_id"] for e in audited("moderation.case.open")]
    assert [e.details["to"] for e in audited("moderation.case.raise")] == ["high"]
    assert [(e.details["from"], e.details["to"]) for e in audited("moderation.community.approve")] == [
        ("pending", "approved")
    ]
    assert [e.details["reason"] for e in audited("community.flag.raise")] == ["harassment"]
    assert [(e.details["from"], e.details["to"]) for e in audited("moderation.community.hide")] == [
        ("approved", "hidden")
    ]
    assert len(audited("moderation.appeal.open")) == 1
    assert [(e.details["from"], e.details["to"]) for e in audited("moderation.community.restore")] == [
        ("hidden", "approved")
    ]
    assert audited("moderation.appeal.resolve")[0].details["lifted"] is True


def test_it_refuses_to_moderate_a_removed_comment(personas, thread, community_on):
    removed = comment(thread["mine"], personas["client"], status="removed")

    response = api_as(personas["monitor"]).post(
        f"/monitor/community/{removed.pk}/moderate", {"action": "approve", "reason": "other"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"status": "removed"}


# --- privacy ----------------------------------------------------------------------------------------------------------


def test_it_never_answers_with_a_user_id_email_or_phone(personas, thread, community_on):
    p, mine = personas, thread["mine"]
    bodies = [
        api_as(p["client"]).post("/community/comments", {"order_id": mine.pk, "body": "Call +966501234567"}, format="json"),
        api_as(p["client"]).post("/community/reactions", {"order_id": mine.pk, "kind": "like"}, format="json"),
        api_as(p["reader"]).post("/community/flags", {"comment_id": thread["comments"]["client_approved"].pk,
                                                       "reason": "spam"}, format="json"),
        api_as(p["client"]).get(f"/community/threads?order_id={mine.pk}"),
        api_as(p["monitor"]).get(f"/community/threads?order_id={mine.pk}"),
    ]  # fmt: skip
    for response in bodies:
        assert response.status_code in (200, 201), response.content
        text = json.dumps(response.json())
        for user in p.values():
            assert user.email not in text
            assert f'"{user.pk}"' not in text and f": {user.pk}," not in text.replace('"id": ', "x")
        assert "author_id" not in text and "user_id" not in text and "reporter_id" not in text
        assert "+966" not in text
    handles = {c["handle"] for c in bodies[4].json()["results"]}
    assert handles == {handle(p["client"].pk), handle(p["reader"].pk)}


def test_it_emits_events_of_ids_and_codes_that_validate(personas, thread, community_on):
    from samia.events.registry import schema_for

    mine = thread["mine"]
    api_as(personas["client"]).post("/community/comments", {"order_id": mine.pk, "body": "Lovely."}, format="json")
    api_as(personas["client"]).post("/community/reactions", {"order_id": mine.pk, "kind": "insightful"}, format="json")

    for name in ("community.comment_posted", "community.reaction_added"):
        [event] = events(name)
        assert schema_for(name, 1).validate(event.properties) == event.properties
        assert not {"body", "comment", "text"} & set(event.properties)
    with pytest.raises(ValueError):
        from samia.events.registry import register

        register("community.bad_event", 1, body=str)


def test_route_parity_covers_the_community_routes_and_the_feature_switches():
    from tests.rls.test_route_parity import CASES

    covered = {f"{method} /{route}" for route, method, _ in CASES}

    assert {
        "POST /community/comments",
        "POST /community/reactions",
        "POST /community/flags",
        "GET /community/threads",
        "POST /monitor/community/<int:comment_id>/moderate",
        "GET /admin/features",
        "POST /admin/features",
    } <= covered
