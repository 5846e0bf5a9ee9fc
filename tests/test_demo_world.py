"""The whole demo `make seed` builds: seed_demo, seed_moderation, seed_notifications, analytics_backfill.

What it holds, that seeding again changes nothing (also after the demo was used through the API), and
that `seed_demo --reset`/`--delete` leave no demo row behind in any table they touch.
"""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from moderation import services as moderation_services
from moderation.models import Appeal, Case, LineageEdge, ModerationAction
from notifications.models import Audience, Bounce, Campaign, Consent, DeviceToken, Notification, Send, Suppression
from samia.accounts.models import User
from samia.audit.models import AuditEntry
from samia.marketplace.models import Call, Horoscope, MediaAsset, Order, OrderIdempotencyKey, Payment
from samia.rls.binding import bound
from samia.rls.registry import Identity
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 10)
DEMO = "@demo.samia.test"
# Every table a demo seeding writes or a reset deletes from (the audit trail is append-only and stays).
TABLES = [
    User,
    Order,
    Payment,
    Call,
    MediaAsset,
    OrderIdempotencyKey,
    Case,
    ModerationAction,
    Appeal,
    LineageEdge,
    Consent,
    DeviceToken,
    Suppression,
    Audience,
    Campaign,
    Notification,
    Send,
    Bounce,
]


def _seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", scale=1, seed=7, today=TODAY, stdout=out, stderr=io.StringIO(), **options)
    if not options.get("delete"):
        call_command("seed_moderation", today=TODAY, stdout=out)
        call_command("seed_notifications", stdout=out)
    return out.getvalue()


def _rows() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events_raw")
        events = cursor.fetchone()[0]
    return {model.__name__: model.objects.count() for model in TABLES} | {"events": events}


def _user(name: str) -> User:
    return User.objects.get(email=f"{name}{DEMO}")


def _fingerprint() -> dict:
    return {
        "cases": sorted(
            Case.objects.values_list(
                "subject__email", "order__question", "reason__code", "source", "status", "priority"
            )
        ),
        "appeals": list(Appeal.objects.values_list("subject__email", "statement", "status")),
        "suppressions": list(Suppression.objects.values_list("user__email", "channel", "reason")),
        "campaigns": sorted(Campaign.objects.values_list("name", "status", "planned_count")),
    }


def _use_the_demo() -> None:
    """Do what people do with the demo: order, block, resolve, appeal, schedule, lift."""
    client, monitor, admin = _user("client1"), _user("monitor"), _user("admin")
    for question in ("Will I move this year?", "What about my career?"):
        response = api_as(client).post("/orders", {"service": "tarot", "question": question}, format="json")
        assert response.status_code == 201
    response = api_as(monitor).post(
        "/monitor/block-user", {"user_id": _user("client5").pk, "reason": "spam", "duration": "P1D"}, format="json"
    )
    assert response.status_code == 201
    admin_identity = Identity.of(admin)
    with bound(admin_identity):
        moderation_services.case_resolve(
            identity=admin_identity, case_id=Case.objects.get(status="escalated").pk, note="Checked the source."
        )
    draft = Campaign.objects.get(status="draft")
    assert api_as(admin).post(f"/admin/campaigns/{draft.pk}/schedule").status_code == 200
    suppression = Suppression.objects.get()
    assert api_as(admin).post(f"/admin/suppressions/{suppression.pk}/lift", {}, format="json").status_code == 200


def test_the_demo_has_cases_of_every_priority_one_overdue_an_appeal_a_suppression_a_paused_campaign():
    _seed()

    unresolved = Case.objects.exclude(status="resolved")
    assert {c.priority for c in unresolved} == {"low", "medium", "high", "critical"}
    manual = sorted(unresolved.filter(source="manual").values_list("reason__code", "priority", "status", "team"))
    assert manual == [
        ("call_abuse", "medium", "in_review", "monitors"),
        ("copyright", "high", "escalated", "admins"),
        ("fraud", "critical", "in_review", "monitors"),
        ("harassment", "high", "in_review", "monitors"),
    ]
    spam = unresolved.get(source="sweep", reason__code="spam")
    assert (spam.status, spam.priority, spam.subject.email.endswith(DEMO)) == ("open", "low", True)
    assert all(c.status == "open" for c in unresolved.filter(source="sweep"))
    overdue = unresolved.filter(sla_due_at__lt=timezone.now())
    assert [(c.reason.code, c.order.status) for c in overdue] == [("fraud", "on_hold")]
    appeal = Appeal.objects.get()
    assert (appeal.status, appeal.action.action, appeal.action.reason.code) == ("open", "block", "harassment")
    assert appeal.subject.is_blocked and appeal.subject.email.endswith(DEMO)
    suppression = Suppression.objects.get()
    assert (suppression.lifted_at, suppression.channel, suppression.user.email.endswith(DEMO)) == (None, "sms", True)
    assert sorted(Campaign.objects.values_list("status", flat=True)) == ["draft", "paused"]
    paused = Campaign.objects.get(status="paused")
    assert paused.planned_count == Send.objects.filter(campaign=paused).count() > 0
    assert set(Send.objects.filter(campaign=paused).values_list("state", "held")) == {("planned", True)}


def test_the_demo_has_a_month_of_metrics():
    _seed()
    call_command("analytics_backfill", first=str(TODAY - dt.timedelta(days=40)), last=str(TODAY), stdout=io.StringIO())
    admin = api_as(_user("admin"))

    days = [TODAY - dt.timedelta(days=n) for n in range(1, 31)]
    overviews = [admin.get("/metrics/overview", {"date": day.isoformat()}).json() for day in days]

    assert all(o["engagement"]["dau"] > 0 and o["engagement"]["mau"] > 0 for o in overviews)
    assert sum(o["fulfillment"]["created"] for o in overviews) > 30
    assert sum(o["payments"]["attempts"] for o in overviews) > 30


def test_seeding_twice_changes_nothing():
    _seed()
    rows, fingerprint = _rows(), _fingerprint()

    output = _seed()

    assert output.count("already seeded") == 3
    assert (_rows(), _fingerprint()) == (rows, fingerprint)


def test_seeding_after_the_demo_was_used_succeeds_and_keeps_what_people_did():
    _seed()
    _use_the_demo()
    rows = _rows()

    output = _seed()
    call_command("analytics_backfill", first=str(TODAY - dt.timedelta(days=3)), last=str(TODAY), stdout=io.StringIO())

    assert output.count("already seeded") == 3
    assert _rows() == rows
    assert Case.objects.filter(status="resolved").count() == 1
    assert Suppression.objects.get().lifted_at is not None


def test_the_same_seed_builds_the_same_demo():
    _seed()
    fingerprint = _fingerprint()

    _seed(reset=True)

    assert _fingerprint() == fingerprint


def test_delete_leaves_no_demo_row_in_any_table_it_touched_and_keeps_the_audit_trail():
    _seed()
    _use_the_demo()
    audit_entries = AuditEntry.objects.count()

    output = _seed(delete=True)

    assert "Removed the moderation demo" in output and "Removed the notifications demo" in output
    assert {name: n for name, n in _rows().items() if n} == {}
    assert Horoscope.objects.filter(approved_by__isnull=False).count() == 0
    assert AuditEntry.objects.count() >= audit_entries


def test_reset_after_use_rebuilds_the_world_as_it_was_seeded():
    _seed()
    rows, fingerprint = _rows(), _fingerprint()
    _use_the_demo()

    _seed(reset=True)

    assert (_rows(), _fingerprint()) == (rows, fingerprint)


def test_reset_refuses_and_keeps_everything_while_another_users_case_names_demo_staff(make_user):
    _seed()
    outsider = make_user(email="outsider@example.test")
    monitor = Identity.of(_user("monitor"))
    with bound(monitor):
        moderation_services.user_block(
            identity=monitor, user_id=outsider.pk, reason_code="spam", duration=dt.timedelta(days=1), evidence=[]
        )
    rows = _rows()

    with pytest.raises(CommandError, match="Rows outside the demo world still refer to it"):
        _seed(reset=True)

    assert _rows() == rows
