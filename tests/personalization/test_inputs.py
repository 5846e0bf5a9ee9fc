"""The nightly inputs read from other apps' tables in SQL, and the notification_candidates surface."""

import datetime as dt

import pytest
from django.utils import timezone

from notifications.models import Audience, Campaign, DeviceToken, Send
from personalization.models import Interaction, Popularity, UserCohort
from personalization.nightly import inputs_refresh
from personalization.selectors import ranked
from samia.events.services import emit
from tests import factories

pytestmark = pytest.mark.django_db


def _campaign(admin, *, status="draft", countries=(), segment="everyone"):
    audience = Audience.objects.create(name="a", countries=list(countries), segment=segment, created_by=admin)
    return Campaign.objects.create(
        name="c",
        channel="push",
        audience=audience,
        templates={"en": {"title": "t", "body": "b"}},
        send_on=dt.date(2026, 12, 24),
        local_time=dt.time(10),
        status=status,
        created_by=admin,
    )


def test_it_ranks_the_draft_and_scheduled_campaigns_whose_audience_includes_the_user(personas):
    admin, client = personas["admin"], personas["client"]  # client: SA
    draft = _campaign(admin, countries=["SA"])
    scheduled = _campaign(admin, status="scheduled")
    _campaign(admin, countries=["AE"])  # another country
    _campaign(admin, status="completed")  # over
    _campaign(admin, segment="ordered_90d")  # the client ordered nothing

    ranking = ranked(user_id=client.pk, surface="notification_candidates", k=10)

    assert ranking.items == [f"campaign:{draft.pk}", f"campaign:{scheduled.pk}"]
    assert ranking.reason == "no_model"


def test_it_turns_clicks_into_campaign_interactions_of_the_send_user(personas):
    admin, client = personas["admin"], personas["client"]
    campaign = _campaign(admin)
    now = timezone.now()
    send = Send.objects.create(
        campaign=campaign,
        user=client,
        channel="push",
        purpose="marketing",
        kind="campaign",
        dedupe_key=f"campaign:{campaign.pk}:{client.pk}",
        due_at=now,
        expires_at=now + dt.timedelta(hours=6),
    )
    for name in ("notification.opened", "notification.clicked"):
        emit(
            name, 1, subject=("notifications.send", send.pk), properties={"channel": "push", "campaign_id": campaign.pk}
        )
    DeviceToken.objects.create(user=client, platform="apns", token="t" * 64)

    inputs_refresh()

    assert list(Interaction.objects.values_list("user_id", "item", "count")) == [
        (client.pk, f"campaign:{campaign.pk}", 2)
    ]
    assert UserCohort.objects.get(user_id=client.pk).cohort == f"{client.timezone}|SA|{client.language}|apns"
    assert set(Popularity.objects.filter(item=f"campaign:{campaign.pk}").values_list("scope", "users")) == {
        ("all", 1),
        ("country:SA", 1),
        (f"cohort:{client.timezone}|SA|{client.language}|apns", 1),
    }


def test_it_leaves_undelivered_orders_out(personas):
    service = factories.ServiceFactory(code="tarot", name="Tarot")
    factories.OrderFactory(client=personas["client"], reader=personas["reader"], service=service, status="approved")

    inputs_refresh()

    assert not Interaction.objects.exists()
