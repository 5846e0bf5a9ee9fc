"""A large schedule queued from the back office, and campaign edits that must not save over a schedule.

The Schedule button and bulk action say the schedule runs in the background, and the page offers no
second one meanwhile. A save from a page read before a schedule, pause or resume, or made while one
runs, is refused with the edits kept (NOTIFICATIONS_README.md, "Campaigns").
"""

import pytest

from notifications import tasks
from notifications.admin.campaigns import CampaignAdmin
from notifications.models import Campaign
from tests import factories
from tests.notifications.helpers import CAMPAIGN
from tests.notifications.schedule_helpers import draft, order_of, run_job
from tests.test_admin import _logged_in

pytestmark = pytest.mark.django_db


def test_the_back_office_button_and_action_queue_a_large_schedule_and_say_so(personas, queued, published):
    admin = personas["admin"]
    campaign_id = draft(admin)
    client = _logged_in(admin)
    page = f"/backoffice/notifications/campaign/{campaign_id}/change/"

    answer = client.post(f"/backoffice/notifications/campaign/{campaign_id}/schedule/", follow=True)

    assert answer.status_code == 200
    assert "Scheduling in the background" in answer.content.decode()
    (order,) = published
    assert order_of(order) == (campaign_id, admin.pk)
    assert Campaign.objects.get(pk=campaign_id).status == "draft"
    # while it is queued, the page says so and offers no second Schedule, to anyone
    for reader in (client, _logged_in(factories.UserFactory(role="superadmin"))):
        html = reader.get(page).content.decode()
        assert "Scheduling in the background" in html and f"{campaign_id}/schedule/" not in html
    again = client.post(f"/backoffice/notifications/campaign/{campaign_id}/schedule/", follow=True)
    assert "Scheduling in the background" in again.content.decode() and len(published) == 1

    tasks.schedule_campaign.run(order)
    assert "Scheduling in the background" not in client.get(page).content.decode()

    # the bulk action, on a draft of its own
    other = draft(admin)
    answer = client.post(
        "/backoffice/notifications/campaign/", {"action": "schedule", "_selected_action": [other]}, follow=True
    )
    assert len(published) == 2
    assert "Scheduling in the background" in answer.content.decode()


def _edit(campaign: Campaign) -> dict:
    """The change form of a draft, its name and English text changed."""
    return {
        "name": "Edited meanwhile",
        "purpose": campaign.purpose,
        "channel": campaign.channel,
        "audience": campaign.audience_id,
        "body_en": "Changed text",
        "send_on": campaign.send_on.isoformat(),
        "local_time": campaign.local_time.strftime("%H:%M"),
        "window_hours": str(campaign.window_hours),
        "seen": f"{campaign.status}:{campaign.planned_count}",  # as the page carries it
    }


def test_a_draft_edit_saved_after_its_schedule_ran_is_refused_not_saved_over_it(personas, queued, monkeypatch):
    admin = personas["admin"]
    campaign = Campaign.objects.get(pk=draft(admin))
    read = CampaignAdmin.get_object

    def read_then_scheduled(self, request, object_id, from_field=None):
        found = read(self, request, object_id, from_field)
        run_job(campaign.pk, admin.pk)  # the queued job lands between read and save
        return found

    monkeypatch.setattr(CampaignAdmin, "get_object", read_then_scheduled)
    answer = _logged_in(admin).post(f"/backoffice/notifications/campaign/{campaign.pk}/change/", _edit(campaign))

    assert answer.status_code == 200
    assert "scheduled, paused or resumed while you edited it" in answer.content.decode()
    campaign.refresh_from_db()
    assert (campaign.status, campaign.planned_count, campaign.name) == ("scheduled", 2, CAMPAIGN["name"])
    assert campaign.templates["en"]["body"] == CAMPAIGN["templates"]["en"]["body"]


def test_a_save_from_a_page_read_before_the_schedule_is_refused(personas, queued):
    # The page was opened while a draft; the schedule ran (another window, the job); then Save.
    admin = personas["admin"]
    campaign = Campaign.objects.get(pk=draft(admin))
    client = _logged_in(admin)
    page = client.get(f"/backoffice/notifications/campaign/{campaign.pk}/change/").content.decode()
    assert 'name="seen" value="draft:0"' in page
    run_job(campaign.pk, admin.pk)

    answer = client.post(
        f"/backoffice/notifications/campaign/{campaign.pk}/change/", {**_edit(campaign), "seen": "draft:0"}
    )

    assert answer.status_code == 200
    assert "scheduled, paused or resumed while you edited it" in answer.content.decode()
    campaign.refresh_from_db()
    assert (campaign.status, campaign.name) == ("scheduled", CAMPAIGN["name"])
    assert campaign.templates["en"]["body"] == CAMPAIGN["templates"]["en"]["body"]


def test_a_scheduled_campaigns_name_is_edited_and_its_history_lists_only_that(personas, queued):
    from django.contrib.admin.models import LogEntry

    admin = personas["admin"]
    campaign = Campaign.objects.get(pk=draft(admin))
    run_job(campaign.pk, admin.pk)
    campaign.refresh_from_db()
    form = {**_edit(campaign), "seen": "scheduled:2"}
    del form["body_en"]  # not on a scheduled campaign's page

    answer = _logged_in(admin).post(f"/backoffice/notifications/campaign/{campaign.pk}/change/", form)

    assert answer.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.status, campaign.name, campaign.planned_count) == ("scheduled", "Edited meanwhile", 2)
    (entry,) = LogEntry.objects.filter(object_id=str(campaign.pk))
    assert entry.get_change_message() == "Changed Name."


@pytest.mark.parametrize(
    "seen", ["", None, "scheduled:1", "draft:2"], ids=["empty", "missing", "fewer-planned", "status-only"]
)
def test_a_save_that_does_not_say_the_state_it_was_read_in_is_refused(personas, queued, seen):
    admin = personas["admin"]
    campaign = Campaign.objects.get(pk=draft(admin))
    run_job(campaign.pk, admin.pk)  # scheduled:2
    campaign.refresh_from_db()
    if seen == "draft:2":
        Campaign.objects.filter(pk=campaign.pk).update(status="draft")  # same count, other status
        campaign.refresh_from_db()
        seen = "scheduled:2"
    form = {**_edit(campaign), "seen": seen}
    if seen is None:
        del form["seen"]

    answer = _logged_in(admin).post(f"/backoffice/notifications/campaign/{campaign.pk}/change/", form)

    assert answer.status_code == 200
    assert "while you edited it" in answer.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).name == CAMPAIGN["name"]


def test_a_draft_edit_without_a_schedule_meanwhile_is_saved(personas, queued):
    admin = personas["admin"]
    campaign = Campaign.objects.get(pk=draft(admin))

    answer = _logged_in(admin).post(f"/backoffice/notifications/campaign/{campaign.pk}/change/", _edit(campaign))

    assert answer.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.status, campaign.name, campaign.templates["en"]["body"]) == (
        "draft",
        "Edited meanwhile",
        "Changed text",
    )


def test_a_campaign_edit_while_its_schedule_runs_is_refused_at_once(queued, lock_holder):
    admin = factories.UserFactory(role="admin")
    campaign = Campaign.objects.get(pk=draft(admin))
    lock_holder(campaign.pk)

    # Refused at once (NOWAIT): were it to wait for the lock, it would wait for this test forever.
    answer = _logged_in(admin).post(f"/backoffice/notifications/campaign/{campaign.pk}/change/", _edit(campaign))

    assert answer.status_code == 200
    assert "being scheduled, paused or resumed right now" in answer.content.decode()
    campaign.refresh_from_db()
    assert (campaign.status, campaign.name) == ("draft", CAMPAIGN["name"])
