"""M22: consent first, quiet hours per timezone, idempotent planning and dispatch, RLS parity."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from notifications import dispatch as dispatcher
from notifications import planning, services
from notifications.models import Campaign, Consent, Send, Suppression
from samia.rls.binding import bound
from samia.rls.registry import Identity
from tests import factories
from tests.conftest import api_as
from tests.notifications.helpers import (
    CAMPAIGN,
    due_now,
    identity,
    notify,
    opted_in,
    recipient,
    utc,
    zone_at_local_hour,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------
# Consent


def test_opt_in_and_out_are_recorded_append_only_and_shown(personas):
    client = api_as(personas["client"])

    assert (
        client.post("/me/notifications/opt-in", {"channel": "sms", "purpose": "marketing"}, format="json").status_code
        == 201
    )
    answer = client.post("/me/notifications/opt-out", {"channel": "sms", "purpose": "marketing"}, format="json")

    assert answer.status_code == 201 and answer.json()["granted"] is False
    rows = list(Consent.objects.filter(user=personas["client"]).order_by("id").values_list("status", "source"))
    assert rows == [("granted", "api"), ("revoked", "api")]
    states = {(c["channel"], c["purpose"]): c for c in client.get("/me/notifications/consents").json()}
    assert states[("sms", "marketing")]["granted"] is False
    assert states[("push", "transactional")] == {
        "channel": "push",
        "purpose": "transactional",
        "granted": True,
        "source": "default",
        "recorded_at": None,
    }
    assert states[("push", "marketing")]["granted"] is False  # marketing needs an explicit opt-in


def test_bad_consent_input_is_a_400_and_changes_nothing(personas):
    answer = api_as(personas["client"]).post(
        "/me/notifications/opt-in", {"channel": "fax", "purpose": "x"}, format="json"
    )

    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid"
    assert not Consent.objects.exists()


def test_consent_rows_cannot_be_edited_or_deleted_by_anyone_through_the_app_role(personas):
    opted_in(personas["client"], "sms")
    for persona in ("client", "admin", "superadmin"):
        with (
            pytest.raises(DatabaseError),
            transaction.atomic(),
            bound(identity(personas[persona])),
            connection.cursor() as cursor,
        ):
            cursor.execute("UPDATE notifications_consent SET status = 'revoked'")


def test_a_user_cannot_record_consent_for_someone_else(personas):
    with pytest.raises(DatabaseError), transaction.atomic(), bound(identity(personas["client"])):
        services.consent_record(
            user_id=personas["other_client"].pk,
            channel="sms",
            purpose="marketing",
            granted=True,
            source="api",
            actor=identity(personas["client"]),
        )


# ---------------------------------------------------------------------------------------------
# Quiet hours


def test_a_critical_transactional_message_goes_out_in_quiet_hours(twilio):
    now = timezone.now()
    zone = zone_at_local_hour(2, now)  # 02:00-02:59 local
    user = recipient(zone=zone)
    (normal,) = notify(user)
    (critical,) = notify(user, critical=True)

    dispatcher.dispatch(budget_seconds=5)

    normal.refresh_from_db()
    critical.refresh_from_db()
    assert critical.state == "sent"
    assert normal.state == "queued" and normal.last_error == "quiet_hours"


# ---------------------------------------------------------------------------------------------
# Campaigns: per-timezone planning, idempotent


def _campaign_users():
    new_york = recipient(zone="America/New_York", phone="+12025550101")
    london = recipient(zone="Europe/London", phone="+447700900201", language="ar")
    tokyo = recipient(zone="Asia/Tokyo", phone="+819012345678")
    not_opted = factories.UserFactory(timezone="Europe/London", phone="+447700900202")
    reader = recipient(zone="Europe/London", phone="+447700900203", role="reader")
    blocked = recipient(zone="Europe/London", phone="+447700900204")
    blocked.blocked_at = timezone.now()
    blocked.save(update_fields=["blocked_at"])
    suppressed = recipient(zone="Europe/London", phone="+447700900205")
    services.suppression_add(channel="sms", reason="manual", actor="system:tests", user_id=suppressed.pk)
    return {"new_york": new_york, "london": london, "tokyo": tokyo, "others": [not_opted, reader, blocked, suppressed]}


def test_scheduling_plans_one_send_per_recipient_at_their_local_time_across_dst(personas):
    users = _campaign_users()
    admin = api_as(personas["admin"])

    created = admin.post("/admin/campaigns", CAMPAIGN, format="json")
    assert created.status_code == 201, created.json()
    campaign_id = created.json()["id"]
    answer = admin.post(f"/admin/campaigns/{campaign_id}/schedule")

    assert answer.status_code == 200 and answer.json()["created"] == 3
    due = {s.user_id: s for s in Send.objects.filter(campaign_id=campaign_id)}
    assert set(due) == {users["new_york"].pk, users["london"].pk, users["tokyo"].pk}
    # 10:00 on 2026-11-01: New York is back on EST (UTC-5) after 02:00; London is on GMT; Tokyo UTC+9.
    assert due[users["new_york"].pk].due_at == utc("2026-11-01T15:00")
    assert due[users["london"].pk].due_at == utc("2026-11-01T10:00")
    assert due[users["tokyo"].pk].due_at == utc("2026-11-01T01:00")
    # The window closes at the latest when quiet hours begin there (21:00 local for SMS marketing).
    assert due[users["london"].pk].expires_at == utc("2026-11-01T16:00")
    assert due[users["london"].pk].language == "ar"
    assert {s.state for s in due.values()} == {"planned"}


def test_scheduling_again_creates_nothing(personas):
    _campaign_users()
    admin = api_as(personas["admin"])
    campaign_id = admin.post("/admin/campaigns", CAMPAIGN, format="json").json()["id"]

    first = admin.post(f"/admin/campaigns/{campaign_id}/schedule").json()
    second = admin.post(f"/admin/campaigns/{campaign_id}/schedule").json()

    assert (first["created"], second["created"]) == (3, 0)
    assert Send.objects.filter(campaign_id=campaign_id).count() == 3
    assert second["campaign"]["planned_count"] == 3


def test_campaign_routes_are_for_admins_only(personas):
    campaign_id = api_as(personas["admin"]).post("/admin/campaigns", CAMPAIGN, format="json").json()["id"]
    for persona in ("client", "reader", "monitor"):
        client = api_as(personas[persona])
        assert client.post("/admin/campaigns", CAMPAIGN, format="json").status_code == 403
        assert client.post(f"/admin/campaigns/{campaign_id}/schedule").status_code == 403
        assert client.get(f"/admin/campaigns/{campaign_id}/stats").status_code == 403
    assert api_as().get(f"/admin/campaigns/{campaign_id}/stats").status_code == 401
    assert api_as(personas["admin"]).get("/admin/campaigns/999999/stats").status_code == 404


def test_pause_stops_dispatch_and_resume_continues(twilio, personas):
    users = _campaign_users()
    admin = api_as(personas["admin"])
    campaign_id = admin.post(
        "/admin/campaigns", {**CAMPAIGN, "send_on": str(timezone.now().date())}, format="json"
    ).json()["id"]
    admin.post(f"/admin/campaigns/{campaign_id}/schedule")
    sends = list(Send.objects.filter(campaign_id=campaign_id))
    due_now(*sends)
    Send.objects.filter(campaign_id=campaign_id).update(expires_at=timezone.now() + dt.timedelta(days=1))
    Campaign.objects.filter(pk=campaign_id).update(local_time=dt.time(10, 0))
    for user in users.values():
        if not isinstance(user, list):
            user.timezone = zone_at_local_hour(12)
            user.save(update_fields=["timezone"])

    assert admin.post(f"/admin/campaigns/{campaign_id}/pause").status_code == 200
    assert set(Send.objects.filter(campaign_id=campaign_id).values_list("held", flat=True)) == {True}
    dispatcher.dispatch(budget_seconds=5)
    assert twilio.messages_posted() == []
    assert admin.post(f"/admin/campaigns/{campaign_id}/pause").status_code == 409
    assert admin.post(f"/admin/campaigns/{campaign_id}/resume").status_code == 200
    assert set(Send.objects.filter(campaign_id=campaign_id).values_list("held", flat=True)) == {False}
    dispatcher.dispatch(budget_seconds=5)

    assert len(twilio.messages_posted()) == 3
    stats = admin.get(f"/admin/campaigns/{campaign_id}/stats").json()
    assert stats["planned"] == 3 and stats["sent"] == 3 and stats["pending"] == 0
    bodies = sorted(m["Body"] for m in twilio.messages_posted())
    # Every marketing text ends with the brand and the opt-out instruction in its language.
    english, arabic = (
        "A full moon reading, 20% off\nSAMIA: Reply STOP to opt out",
        "قراءة البدر بخصم\nSAMIA: أرسل STOP لإيقاف الرسائل",
    )
    assert bodies == sorted([english, english, arabic])


def test_campaign_preview_per_language(personas):
    admin = api_as(personas["admin"])
    campaign_id = admin.post("/admin/campaigns", CAMPAIGN, format="json").json()["id"]

    recipient(phone="+447700900701")
    recipient(phone="+447700900702")
    factories.UserFactory(phone="+447700900703")  # not opted in

    preview = admin.get(f"/admin/campaigns/{campaign_id}/preview?language=ar").json()

    assert preview["body"] == "قراءة البدر بخصم" and preview["recipients"] == 2
    assert admin.get(f"/admin/campaigns/{campaign_id}/preview?language=xx").status_code == 400


# ---------------------------------------------------------------------------------------------
# The daily zodiac push


def test_the_zodiac_push_waits_for_an_approved_horoscope_and_each_users_morning(fcm, settings):
    settings.NOTIFICATIONS_ZODIAC_LOCAL_TIME = "09:00"
    now = utc("2026-11-25T06:30")  # 09:30 in Riyadh (UTC+3), 15:30 in Tokyo, 01:30 in New York
    riyadh = recipient(
        zone="Asia/Riyadh", channels=("push",), purpose="zodiac", device="tok-r", date_of_birth=dt.date(1990, 4, 1)
    )  # aries
    recipient(
        zone="America/New_York", channels=("push",), purpose="zodiac", device="tok-n", date_of_birth=dt.date(1990, 4, 2)
    )
    recipient(
        zone="Asia/Riyadh", channels=("push",), purpose="marketing", device="tok-x", date_of_birth=dt.date(1990, 4, 3)
    )  # no zodiac consent
    horoscope = factories.HoroscopeFactory(sign="aries", date=dt.date(2026, 11, 25), approval_status="pending")

    assert planning.zodiac_plan(now=now) == 0
    horoscope.approval_status = "approved"
    horoscope.save(update_fields=["approval_status"])
    assert planning.zodiac_plan(now=now) == 1
    assert planning.zodiac_plan(now=now) == 0  # idempotent

    (send,) = Send.objects.filter(kind="zodiac.daily")
    assert send.user_id == riyadh.pk and send.due_at == utc("2026-11-25T06:00")
    assert send.subject_id == horoscope.pk


# ---------------------------------------------------------------------------------------------
# Suppressions


def test_admins_add_and_lift_suppressions_and_every_action_is_audited(personas):
    admin = api_as(personas["admin"])
    user = personas["client"]

    added = admin.post("/admin/suppressions", {"channel": "sms", "user_id": user.pk, "reason": "manual"}, format="json")
    assert added.status_code == 201
    assert admin.post("/admin/suppressions", {"channel": "sms", "user_id": user.pk}, format="json").status_code == 409
    by_number = admin.post("/admin/suppressions", {"channel": "sms", "address": "+447700900999"}, format="json")
    assert by_number.status_code == 201 and by_number.json()["by_address"] is True
    assert "+447700900999" not in by_number.content.decode()
    lifted = admin.post(f"/admin/suppressions/{added.json()['id']}/lift", {}, format="json")

    assert lifted.status_code == 200 and lifted.json()["lifted_at"]
    assert admin.post(f"/admin/suppressions/{added.json()['id']}/lift", {}, format="json").status_code == 409
    from samia.audit.models import AuditEntry

    actions = list(AuditEntry.objects.filter(family="notifications").values_list("action", flat=True))
    assert actions.count("notifications.suppression.add") == 2 and "notifications.suppression.lift" in actions
    for bad in ({"channel": "sms"}, {"channel": "sms", "address": "07700"}, {"channel": "sms", "user_id": 10**9}):
        assert admin.post("/admin/suppressions", bad, format="json").status_code in (400, 404)
    assert (
        api_as(personas["monitor"])
        .post("/admin/suppressions", {"channel": "sms", "user_id": user.pk}, format="json")
        .status_code
        == 403
    )


def test_a_user_sees_only_their_own_suppressions(personas):
    services.suppression_add(channel="sms", reason="stop", actor="system:tests", user_id=personas["client"].pk)
    services.suppression_add(channel="sms", reason="stop", actor="system:tests", user_id=personas["other_client"].pk)

    rows = api_as(personas["client"]).get("/admin/suppressions").json()["results"]

    assert [r["user_id"] for r in rows] == [personas["client"].pk]


# ---------------------------------------------------------------------------------------------
# History, RLS parity, the state guard


def test_my_notifications_show_only_my_sends(personas, twilio):
    mine = recipient(phone="+447700900301")
    other = recipient(phone="+447700900302")
    notify(mine)
    notify(other)
    dispatcher.dispatch(budget_seconds=5)

    rows = api_as(mine).get("/me/notifications").json()

    assert len(rows) == 1 and rows[0]["state"] == "sent" and rows[0]["channel"] == "sms"
    assert "phone" not in rows[0] and "body" not in rows[0]
    assert api_as(mine).get("/me/notifications?limit=0").status_code == 400


def test_rows_each_persona_sees_match_the_database(personas):
    sends = {}
    for persona in ("client", "other_client", "reader"):
        (sends[persona],) = notify(personas[persona])
    Send.objects.filter(pk=sends["reader"].pk).update(escalated=True)
    expected = {
        "client": {sends["client"].pk},
        "other_client": {sends["other_client"].pk},
        "reader": {sends["reader"].pk},
        "monitor": {sends["reader"].pk},  # escalations only
        "admin": {s.pk for s in sends.values()},
        "superadmin": {s.pk for s in sends.values()},
    }
    for persona, ids in expected.items():
        with transaction.atomic(), bound(identity(personas[persona])), connection.cursor() as cursor:
            cursor.execute("SELECT id FROM notifications_send")
            assert {row[0] for row in cursor.fetchall()} == ids, persona
    with transaction.atomic(), bound(Identity(None, None)):
        assert not Send.objects.exists()


def test_a_delivery_state_only_moves_forward(personas):
    (send,) = notify(personas["client"])
    Send.objects.filter(pk=send.pk).update(state="queued")
    Send.objects.filter(pk=send.pk).update(state="sent")
    Send.objects.filter(pk=send.pk).update(state="delivered")

    for backwards in ("sent", "planned", "queued", "suppressed"):
        with pytest.raises(DatabaseError), transaction.atomic():
            Send.objects.filter(pk=send.pk).update(state=backwards)
    send.refresh_from_db()
    assert send.state == "delivered"


# ---------------------------------------------------------------------------------------------
# Send-time checks, completion, jobs


def test_suppressed_users_are_checked_again_at_send_time(twilio):
    user = recipient()
    (send,) = notify(user)
    services.suppression_add(channel="sms", reason="manual", actor="system:tests", address="+447700900123")

    dispatcher.dispatch(budget_seconds=5)

    send.refresh_from_db()
    assert send.state == "suppressed" and twilio.messages_posted() == []
    assert Suppression.objects.get().user_id is None


def test_a_campaign_completes_when_nothing_is_left_to_send_and_a_paused_one_is_resumed_not_rescheduled(
    twilio, personas
):
    recipient(phone="+447700900611")
    admin = api_as(personas["admin"])
    body = {**CAMPAIGN, "send_on": str(timezone.now().date()), "link_url": "https://samia.test/moon"}
    campaign_id = admin.post("/admin/campaigns", body, format="json").json()["id"]
    admin.post(f"/admin/campaigns/{campaign_id}/schedule")
    admin.post(f"/admin/campaigns/{campaign_id}/pause")
    paused = admin.post(f"/admin/campaigns/{campaign_id}/schedule")
    assert paused.status_code == 409 and paused.json()["error"]["details"]["status"] == "paused"
    admin.post(f"/admin/campaigns/{campaign_id}/resume")
    (send,) = Send.objects.filter(campaign_id=campaign_id)
    due_now(send)
    Send.objects.filter(pk=send.pk).update(expires_at=timezone.now() + dt.timedelta(hours=1))

    dispatcher.dispatch(budget_seconds=5)

    (posted,) = twilio.messages_posted()
    # The text carries its tracked link.
    assert posted["Body"].startswith("A full moon reading, 20% off\nhttps://api.samia.test/t/click/")
    assert Campaign.objects.get(pk=campaign_id).status == "completed"
    assert admin.post(f"/admin/campaigns/{campaign_id}/schedule").status_code == 409


def test_the_jobs_are_installed_by_migrations():
    from django_celery_beat.models import PeriodicTask

    tasks = {t.name: t for t in PeriodicTask.objects.filter(name__startswith="notifications.")}

    assert set(tasks) == {
        "notifications.dispatch",
        "notifications.process_inbox",
        "notifications.plan_zodiac",
        "notifications.plan_order_updates",
        "notifications.purge_inbox",
    }
    dispatch = tasks["notifications.dispatch"]
    assert (dispatch.interval.every, dispatch.interval.period, dispatch.expire_seconds) == (10, "seconds", 20)
    from celery import current_app

    import notifications.tasks  # noqa: F401  (registers the tasks)

    assert set(tasks) <= set(current_app.tasks)
