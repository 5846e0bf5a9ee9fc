"""Campaign scheduling reaches exactly the reachable audience (issue 23: the set-based statement).

A mixed fixture of every reason to be left out, and of the cases that look like one but are not,
is scheduled as an admin (the API's path) and as the service role (a job's), and the recipients
are compared with a reference computed here one user at a time from the ORM: the latest consent
row (ties on recorded_at broken by id), active suppressions of the user on the channel, an active
account, an address on the channel, a known zone.
"""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.utils import timezone

from notifications import planning, services
from notifications.models import Consent, DeviceToken, Send, Suppression
from samia.accounts.models import User
from samia.rls.binding import bound
from tests import factories
from tests.notifications.helpers import identity, opted_in, recipient

pytestmark = pytest.mark.django_db

ZONES = ("Asia/Tokyo", "Europe/Berlin", "America/Chicago")


def _consent(user, channel: str, granted: bool, *, at: dt.datetime | None = None):
    row = services.consent_record(
        user_id=user.pk,
        channel=channel,
        purpose="marketing",
        granted=granted,
        source="import",
        actor="system:tests",
    )
    if at is not None:  # a backdated or tied row, as an import may leave
        Consent.objects.filter(pk=row.pk).update(recorded_at=at)
    return row


def _mixed_world(channel: str) -> None:
    """Users with every reason to be left out on `channel`, and lookalikes that must be reached."""
    phone = iter(f"+4477009{n:05d}" for n in range(100, 200))
    device = iter(f"device-{n}" for n in range(100))

    def person(zone_index: int = 0, **fields):
        return recipient(
            zone=ZONES[zone_index % len(ZONES)],
            phone=next(phone),
            channels=(channel,),
            device=next(device) if channel == "push" else None,
            **fields,
        )

    for index in range(6):  # plainly reachable, in every zone, both languages
        person(index, language=("en", "ar")[index % 2])
    _consent(person(1), channel, False)  # opted out after opting in
    returned = person(2)
    _consent(returned, channel, False)
    _consent(returned, channel, True)  # out, then in again: reached
    tied = person(0)
    same_instant = timezone.now() - dt.timedelta(hours=1)
    Consent.objects.filter(user=tied, channel=channel).update(recorded_at=same_instant)
    _consent(tied, channel, False, at=same_instant)  # same instant, later row: the revocation wins
    backdated = person(1)
    _consent(backdated, channel, False, at=timezone.now() - dt.timedelta(days=30))  # an older "no": still in
    other_channel = person(2)
    _consent(other_channel, "sms" if channel == "push" else "push", False)  # a "no" elsewhere changes nothing
    suppressed = person(0)
    services.suppression_add(channel=channel, reason="manual", actor="system:tests", user_id=suppressed.pk)
    lifted = person(1)
    suppression = services.suppression_add(channel=channel, reason="manual", actor="system:tests", user_id=lifted.pk)
    Suppression.objects.filter(pk=suppression.pk).update(lifted_at=timezone.now())  # lifted: reached again
    elsewhere = person(2)
    other = "sms" if channel == "push" else "push"
    services.suppression_add(channel=other, reason="manual", actor="system:tests", user_id=elsewhere.pk)
    person(0, is_active=False)
    person(1, blocked_at=timezone.now())
    person(2, role="reader")  # the audience is clients
    person(0, role="monitor")
    unknown_zone = person(1)
    type(unknown_zone).objects.filter(pk=unknown_zone.pk).update(timezone="Mars/Olympus_Mons")
    factories.UserFactory(timezone=ZONES[0], phone=next(phone))  # never opted in
    if channel == "sms":
        opted_in(factories.UserFactory(timezone=ZONES[1], phone=""), "sms")  # no number
    else:
        gone = person(2)
        DeviceToken.objects.filter(user=gone).update(active=False)  # no active device
        opted_in(factories.UserFactory(timezone=ZONES[1], phone=next(phone)), "push")  # never had one


def _reference(channel: str) -> set[int]:
    """Who may be reached, one user at a time, from the ORM (the rules, not the statement)."""
    reached = set()
    for user in User.objects.filter(role="client"):
        latest = (
            Consent.objects.filter(user=user, channel=channel, purpose="marketing")
            .order_by("-recorded_at", "-id")
            .first()
        )
        if latest is None or latest.status != "granted":
            continue
        if not user.is_active or user.blocked_at is not None or user.timezone not in ZONES:
            continue
        if Suppression.objects.filter(channel=channel, user=user, lifted_at__isnull=True).exists():
            continue
        if channel == "sms" and not user.phone:
            continue
        if channel == "push" and not DeviceToken.objects.filter(user=user, active=True).exists():
            continue
        reached.add(user.pk)
    return reached


def _campaign(admin, channel: str):
    data = {
        "name": f"Mixed {channel}",
        "channel": channel,
        "purpose": "marketing",
        "audience": {"roles": ["client"]},
        "templates": {"en": {"title": "Offer", "body": "Offer"}, "ar": {"title": "عرض", "body": "عرض"}},
        "send_on": timezone.now().date() + dt.timedelta(days=3),
        "local_time": dt.time(10, 0),
        "window_hours": 6,
    }
    with bound(identity(admin)):
        return planning.campaign_create(identity=identity(admin), data=data)


@pytest.mark.parametrize("channel", ["sms", "push"])
def test_a_schedule_reaches_exactly_the_reachable_users_as_admin_and_as_service_role(channel):
    admin = factories.UserFactory(role="admin")
    _mixed_world(channel)
    expected = _reference(channel)
    # Six plain, back in, an older "no", a "no" on the other channel, lifted, suppressed on the other.
    assert len(expected) == 11

    as_admin = _campaign(admin, channel)
    with bound(identity(admin)):
        _, created = planning.campaign_schedule(identity=identity(admin), campaign_id=as_admin.pk)
    as_service = _campaign(admin, channel)
    with transaction.atomic():
        planning.campaign_schedule(identity="system:tests", campaign_id=as_service.pk)

    assert created == len(expected)
    for campaign in (as_admin, as_service):
        sends = Send.objects.filter(campaign=campaign)
        assert set(sends.values_list("user_id", flat=True)) == expected
        assert sends.count() == len(expected)  # one each
    languages = dict(Send.objects.filter(campaign=as_admin).values_list("user_id", "language"))
    assert languages == dict(User.objects.filter(pk__in=expected).values_list("pk", "language"))


def test_an_opted_out_or_suppressed_user_is_never_scheduled_and_a_second_schedule_adds_only_newcomers():
    admin = factories.UserFactory(role="admin")
    stays = recipient(zone=ZONES[0], phone="+447700900301")
    leaves = recipient(zone=ZONES[1], phone="+447700900302")
    campaign = _campaign(admin, "sms")
    with bound(identity(admin)):
        planning.campaign_schedule(identity=identity(admin), campaign_id=campaign.pk)
    _consent(stays, "sms", False)
    services.suppression_add(channel="sms", reason="manual", actor="system:tests", user_id=leaves.pk)
    newcomer = recipient(zone=ZONES[2], phone="+447700900303")
    opted_out = recipient(zone=ZONES[2], phone="+447700900304")
    _consent(opted_out, "sms", False)
    suppressed = recipient(zone=ZONES[0], phone="+447700900305")
    services.suppression_add(channel="sms", reason="stop", actor="system:tests", user_id=suppressed.pk)

    with bound(identity(admin)):
        campaign, created = planning.campaign_schedule(identity=identity(admin), campaign_id=campaign.pk)

    assert created == 1
    assert set(Send.objects.filter(campaign=campaign).values_list("user_id", flat=True)) == {
        stays.pk,
        leaves.pk,
        newcomer.pk,
    }  # planned earlier: the dispatcher's checks stop those two at send time
    assert campaign.planned_count == 3


def test_the_planner_settings_of_a_schedule_end_with_its_statement():
    admin = factories.UserFactory(role="admin")
    recipient(zone=ZONES[0], phone="+447700900401")
    campaign = _campaign(admin, "sms")
    with bound(identity(admin)), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_nestloop'), current_setting('work_mem')")
        before = cursor.fetchone()
        planning.campaign_schedule(identity=identity(admin), campaign_id=campaign.pk)
        cursor.execute("SELECT current_setting('enable_nestloop'), current_setting('work_mem')")
        after = cursor.fetchone()

    assert after == before and after[0] == "on"
