"""The notifications demo data is seeded once and plans, never fakes, sends."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from notifications import dispatch as dispatcher
from notifications.models import Campaign, Consent, DeviceToken, Send

pytestmark = pytest.mark.django_db


def test_seeding_twice_adds_nothing_and_the_planned_pushes_wait_for_a_provider(unconfigured):
    call_command("seed_demo", scale=1, seed=7, today=dt.date(2026, 11, 20), stdout=io.StringIO(), stderr=io.StringIO())
    call_command("seed_notifications", stdout=io.StringIO())
    counts = (Consent.objects.count(), DeviceToken.objects.count(), Campaign.objects.count(), Send.objects.count())
    call_command("seed_notifications", stdout=io.StringIO())

    assert counts == (
        Consent.objects.count(),
        DeviceToken.objects.count(),
        Campaign.objects.count(),
        Send.objects.count(),
    )
    assert counts[0] > 0 and counts[1] > 0 and counts[2] == 2
    welcome = Send.objects.filter(campaign__isnull=True)
    assert welcome.count() == 3
    # The paused campaign's sends are held: the dispatcher leaves them planned.
    paused = Send.objects.filter(campaign__status="paused")
    assert counts[3] == 3 + paused.count() and paused.count() > 0
    Send.objects.update(due_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    dispatcher.dispatch(budget_seconds=5)
    assert set(welcome.values_list("state", "last_error")) <= {
        ("queued", "provider_unavailable"),
        ("queued", "quiet_hours"),
    }
    assert set(paused.values_list("state", "held")) == {("planned", True)}
