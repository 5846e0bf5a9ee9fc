"""A large campaign is planned in ranges of users on several connections at once (issue 23).

The split plan must be the plan of one connection, send for send; a range that fails leaves nothing
planned; a draft that an interrupted schedule left with sends is planned afresh; and a campaign the
caller's own transaction created (which another connection cannot see) is planned by the caller alone.
The tests that split for real commit (another connection cannot see a test's open transaction).
"""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.test import override_settings

from notifications import planning
from notifications import ranges as ranges_module
from notifications.models import Campaign, Send
from samia.accounts.models import User
from samia.rls.binding import bound
from tests import factories
from tests.conftest import in_own_connection
from tests.notifications.helpers import identity
from tests.notifications.test_schedule_audience import _campaign, _mixed_world, _reference

COMPANION = "notifications-schedule-companion"
SPLIT = {"NOTIFICATIONS_SCHEDULE_CONNECTIONS": 2, "NOTIFICATIONS_SCHEDULE_SPLIT_USERS": 0}
ONE = {"NOTIFICATIONS_SCHEDULE_CONNECTIONS": 1}
PLAN = ("user_id", "language", "due_at", "expires_at", "state", "encoding", "segments", "kind", "held")


def _ranges_by_thread(monkeypatch) -> list[tuple[str, tuple]]:
    seen = []
    plan = ranges_module.plan_range

    def recording(cursor, campaign, params, bounds, **options):
        seen.append((threading.current_thread().name, bounds))
        return plan(cursor, campaign, params, bounds, **options)

    monkeypatch.setattr(ranges_module, "plan_range", recording)
    return seen


def _fail_range(monkeypatch, where) -> None:
    """Make the range planning fail (after its statement ran) where `where(bounds)` says."""
    plan = ranges_module.plan_range

    def failing(cursor, campaign, params, bounds, **options):
        created = plan(cursor, campaign, params, bounds, **options)
        if where(bounds):
            cursor.execute("SELECT 1 / 0")
        return created

    monkeypatch.setattr(ranges_module, "plan_range", failing)


def _schedule(admin, campaign, **settings):
    with override_settings(**settings), bound(identity(admin)):
        return planning.campaign_schedule(identity=identity(admin), campaign_id=campaign.pk)


def _plan(campaign) -> list[tuple]:
    return sorted(Send.objects.filter(campaign=campaign).values_list(*PLAN))


@pytest.mark.usefixtures("committed")
@pytest.mark.parametrize("channel", ["sms", "push"])
def test_a_split_schedule_plans_what_one_connection_plans(channel, monkeypatch):
    admin = factories.UserFactory(role="admin")
    _mixed_world(channel)
    expected = _reference(channel)
    split, whole = _campaign(admin, channel), _campaign(admin, channel)
    ranges = _ranges_by_thread(monkeypatch)

    split, created = _schedule(admin, split, **SPLIT)

    threads = [name for name, _ in ranges]
    assert sorted(threads) == sorted([COMPANION, threading.current_thread().name])
    (first, cut), (cut_again, last) = sorted((bounds for _, bounds in ranges), key=lambda b: b[0] or 0)
    assert first is None and last is None and cut == cut_again  # every user id falls in one range
    assert created == len(expected) == split.planned_count
    assert split.status == Campaign.Status.SCHEDULED
    by_user = {user for user, *_ in _plan(split)}
    assert by_user == expected
    assert {user for user in expected if user < cut} and {user for user in expected if user >= cut}

    _, created_whole = _schedule(admin, whole, **ONE)
    assert created_whole == created
    assert [row[1:] for row in _plan(split)] == [row[1:] for row in _plan(whole)]
    # And a second schedule of either adds nothing.
    assert _schedule(admin, split, **SPLIT)[1] == 0


@pytest.mark.usefixtures("committed")
@pytest.mark.parametrize("failing", [COMPANION, "caller"])
def test_when_either_range_fails_nothing_is_planned_and_the_campaign_stays_a_draft(failing, monkeypatch):
    admin = factories.UserFactory(role="admin")
    _mixed_world("sms")
    campaign = _campaign(admin, "sms")
    _fail_range(monkeypatch, lambda bounds: (threading.current_thread().name == COMPANION) == (failing == COMPANION))

    with pytest.raises(Exception, match="division by zero"):
        _schedule(admin, campaign, **SPLIT)

    assert not Send.objects.filter(campaign=campaign).exists()
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT


@pytest.mark.usefixtures("committed")
def test_a_draft_left_with_sends_by_an_interrupted_schedule_is_planned_afresh():
    admin = factories.UserFactory(role="admin")
    _mixed_world("sms")
    expected = _reference("sms")
    campaign = _campaign(admin, "sms")
    _schedule(admin, campaign, **SPLIT)
    # What a schedule interrupted between its two commits leaves: sends of a campaign still a draft,
    # planned before staff moved the draft two days on and before one recipient left the audience.
    gone = min(expected)
    moved = campaign.send_on + dt.timedelta(days=2)
    with transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DRAFT, send_on=moved)
        User.objects.filter(pk=gone).update(role="reader")

    campaign, created = _schedule(admin, campaign, **SPLIT)

    plan = _plan(campaign)
    assert created == len(expected) - 1 == campaign.planned_count
    assert {row[0] for row in plan} == expected - {gone}
    assert min(row[2] for row in plan).date() >= moved - dt.timedelta(days=1)  # 10:00 local, east of UTC too


@pytest.mark.django_db
def test_a_campaign_of_the_callers_own_transaction_is_planned_by_the_caller(monkeypatch):
    """Here everything is in the test's open transaction: the other connection sees no campaign."""
    admin = factories.UserFactory(role="admin")
    _mixed_world("sms")
    expected = _reference("sms")
    campaign = _campaign(admin, "sms")
    ranges = _ranges_by_thread(monkeypatch)

    campaign, created = _schedule(admin, campaign, **SPLIT)

    assert created == len(expected)
    assert {row[0] for row in _plan(campaign)} == expected
    assert [name for name, _ in ranges] == [threading.current_thread().name] * 2  # both ranges here


@pytest.mark.django_db
def test_an_admin_may_delete_the_sends_of_a_draft_only():
    admin = factories.UserFactory(role="admin")
    _mixed_world("sms")
    draft, live = _campaign(admin, "sms"), _campaign(admin, "sms")
    left = _schedule(admin, draft, **ONE)[1]
    live = _schedule(admin, live, **ONE)[0]
    Campaign.objects.filter(pk=draft.pk).update(status=Campaign.Status.DRAFT)

    with bound(identity(admin)), connection.cursor() as cursor:
        cursor.execute("DELETE FROM notifications_send WHERE campaign_id IN (%s, %s)", [draft.pk, live.pk])
        deleted = cursor.rowcount

    assert deleted == left > 0
    assert not Send.objects.filter(campaign=draft).exists()
    assert Send.objects.filter(campaign=live).count() == live.planned_count > 0
    client = factories.UserFactory(role="client")
    with bound(identity(client)), connection.cursor() as cursor:
        cursor.execute("DELETE FROM notifications_send WHERE campaign_id = %s", [live.pk])
        assert cursor.rowcount == 0


@pytest.mark.usefixtures("committed")
def test_with_three_connections_a_failing_range_leaves_every_range_uncommitted(monkeypatch):
    admin = factories.UserFactory(role="admin")
    _mixed_world("sms")
    campaign = _campaign(admin, "sms")
    _fail_range(monkeypatch, lambda bounds: bounds[1] is None)  # the last range, on the second companion

    with pytest.raises(Exception, match="division by zero"):
        _schedule(admin, campaign, **{**SPLIT, "NOTIFICATIONS_SCHEDULE_CONNECTIONS": 3})

    assert not Send.objects.filter(campaign=campaign).exists()


@pytest.mark.usefixtures("committed")
def test_a_split_schedule_waiting_on_a_locked_user_gives_up_and_plans_nothing():
    """A transaction holding a recipient's row FOR UPDATE (a user being deleted): the range waiting on it
    stops after the lock timeout instead of waiting unseen, and every range rolls back."""
    admin = factories.UserFactory(role="admin")
    _mixed_world("sms")
    campaign = _campaign(admin, "sms")
    locked, release = threading.Event(), threading.Event()

    def holder():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id FROM accounts_user WHERE id = %s FOR UPDATE", [max(_reference("sms"))])
            locked.set()
            release.wait(30)

    failures = []
    thread = threading.Thread(target=lambda: failures.extend(in_own_connection(holder)))
    thread.start()
    locked.wait(10)
    try:
        with pytest.raises(Exception, match="lock timeout"):
            _schedule(admin, campaign, **SPLIT, NOTIFICATIONS_SCHEDULE_LOCK_TIMEOUT_SECONDS=1)
    finally:
        release.set()
        thread.join(30)

    assert failures == []
    assert not Send.objects.filter(campaign=campaign).exists()
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT


@pytest.mark.django_db
def test_a_send_that_left_cannot_be_deleted_even_in_a_draft():
    admin = factories.UserFactory(role="admin")
    _mixed_world("sms")
    draft = _campaign(admin, "sms")
    planned = _schedule(admin, draft, **ONE)[1]
    Campaign.objects.filter(pk=draft.pk).update(status=Campaign.Status.DRAFT)
    claimed, gone = Send.objects.filter(campaign=draft).order_by("id")[:2]
    Send.objects.filter(pk=claimed.pk).update(state="queued", attempts=1)
    Send.objects.filter(pk=gone.pk).update(state="queued", attempts=1)
    Send.objects.filter(pk=gone.pk).update(state="sent")

    with bound(identity(admin)), connection.cursor() as cursor:
        cursor.execute("DELETE FROM notifications_send WHERE campaign_id = %s", [draft.pk])
        deleted = cursor.rowcount

    assert deleted == planned - 2
    assert set(Send.objects.filter(campaign=draft).values_list("pk", flat=True)) == {claimed.pk, gone.pk}
