"""The back office: campaigns are previewed, scheduled, paused and counted; histories are read-only."""

import pytest

from notifications import selectors
from notifications.models import Campaign, Send, Suppression
from tests.conftest import api_as
from tests.notifications.helpers import recipient
from tests.test_admin import _logged_in

pytestmark = pytest.mark.django_db

CAMPAIGN = {
    "name": "New moon",
    "channel": "sms",
    "audience": {"roles": ["client"]},
    "templates": {"en": {"title": "", "body": "New moon reading"}, "ar": {"body": "قراءة المحاق"}},
    "send_on": "2026-12-20",
    "local_time": "11:00",
}


def test_an_admin_previews_schedules_pauses_and_counts_a_campaign(personas):
    recipient(zone="Europe/Paris", phone="+33612345678")
    campaign_id = api_as(personas["admin"]).post("/admin/campaigns", CAMPAIGN, format="json").json()["id"]
    client = _logged_in(personas["admin"])

    page = client.get(f"/backoffice/notifications/campaign/{campaign_id}/change/").content.decode()
    assert "قراءة المحاق" in page and "New moon reading" in page and "<th scope='row'>Planned</th><td>0</td>" in page

    for action in ("schedule", "schedule", "pause"):
        answer = client.post(
            "/backoffice/notifications/campaign/", {"action": action, "_selected_action": [campaign_id]}
        )
        assert answer.status_code == 302
    assert Send.objects.filter(campaign_id=campaign_id).count() == 1  # scheduling twice planned once
    assert Campaign.objects.get(pk=campaign_id).status == "paused"
    assert selectors.campaign_stats(campaign=Campaign.objects.get(pk=campaign_id))["planned"] == 1
    page = client.get(f"/backoffice/notifications/campaign/{campaign_id}/change/").content.decode()
    assert "<th scope='row'>Planned</th><td>1</td>" in page


def test_suppressions_are_added_through_the_service_and_lifted_by_action(personas):
    client = _logged_in(personas["admin"])
    user = personas["client"]

    client.post("/backoffice/notifications/suppression/add/", {"channel": "sms", "user": user.pk, "reason": "manual"})
    suppression = Suppression.objects.get()
    assert suppression.source == "manual" and suppression.created_by == personas["admin"]
    client.post(
        "/backoffice/notifications/suppression/",
        {"action": "lift_customer_request", "_selected_action": [suppression.pk]},
    )

    suppression.refresh_from_db()
    assert suppression.lifted_at is not None


def test_consents_and_sends_are_read_only_history(personas):
    recipient(phone="+447700900777")
    client = _logged_in(personas["admin"])

    assert client.get("/backoffice/notifications/consent/").status_code == 200
    assert client.get("/backoffice/notifications/consent/add/").status_code == 403
    assert client.get("/backoffice/notifications/send/?waiting=provider").status_code == 200
    monitor = _logged_in(personas["monitor"])
    assert monitor.get("/backoffice/notifications/campaign/").status_code == 403


def test_the_campaign_form_applies_the_api_checks_and_audits(personas):
    client = _logged_in(personas["admin"])
    audience = api_as(personas["admin"]).post("/admin/campaigns", CAMPAIGN, format="json").json()
    audience_id = Campaign.objects.get(pk=audience["id"]).audience_id
    form = {
        "name": "Back office offer",
        "purpose": "transactional",
        "channel": "sms",
        "audience": audience_id,
        "body_en": "Hello",
        "send_on": "2026-12-21",
        "local_time": "10:00",
        "window_hours": "6",
    }

    refused = client.post("/backoffice/notifications/campaign/add/", form)
    assert refused.status_code == 200 and "Campaigns are marketing or zodiac messages." in refused.content.decode()
    late = client.post(
        "/backoffice/notifications/campaign/add/", {**form, "purpose": "marketing", "local_time": "23:00"}
    )
    assert "inside quiet hours" in late.content.decode()
    created = client.post("/backoffice/notifications/campaign/add/", {**form, "purpose": "marketing"})

    assert created.status_code == 302
    campaign = Campaign.objects.get(name="Back office offer")
    from samia.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="notifications.campaign.create", target_id=str(campaign.pk)).exists()


def test_a_second_suppression_of_the_same_user_is_refused_in_the_form(personas):
    client = _logged_in(personas["admin"])
    form = {"channel": "sms", "user": personas["client"].pk, "reason": "manual"}

    assert client.post("/backoffice/notifications/suppression/add/", form).status_code == 302
    again = client.post("/backoffice/notifications/suppression/add/", form)

    assert again.status_code == 200 and "already covers" in again.content.decode()
    assert Suppression.objects.count() == 1
    assert (
        client.post("/backoffice/notifications/suppression/add/", {"channel": "sms", "reason": "manual"}).status_code
        == 200
    )


def test_the_webhook_inbox_page_never_shows_a_senders_number(personas):
    from notifications.models import WebhookEvent

    event = WebhookEvent.objects.create(
        kind="inbound",
        channel="sms",
        digest="d" * 64,
        payload={"sid": "SM1", "from": "+447700900999", "keyword": "stop"},
    )

    page = _logged_in(personas["admin"]).get(f"/backoffice/notifications/webhookevent/{event.pk}/change/")

    assert page.status_code == 200
    assert "+447700900999" not in page.content.decode() and "SM1" in page.content.decode()
