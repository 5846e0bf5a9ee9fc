"""The notifications back office as staff use it: a campaign written per language with a live
preview, the steps each role may take, suppressions through the services, people and labels in
every list, and refusals in words."""

import re
import zoneinfo

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format

from notifications import selectors
from notifications.models import Campaign, DeviceToken, Send, Suppression
from samia.audit.models import AuditEntry
from tests.conftest import api_as
from tests.notifications.helpers import recipient
from tests.test_admin import _logged_in

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/backoffice/notifications/campaign/"
PREVIEW = f"{CAMPAIGNS}preview/"
SUPPRESSIONS = "/backoffice/notifications/suppression/"
ARABIC = "قراءة البدر بخصم"
API_CAMPAIGN = {
    "name": "Full moon",
    "channel": "sms",
    "purpose": "marketing",
    "audience": {"roles": ["client"]},
    "templates": {"en": {"title": "Moon", "body": "A full moon reading"}, "ar": {"title": "", "body": ARABIC}},
    "link_url": "https://samia.test/moon",
    "send_on": "2026-12-20",
    "local_time": "11:00:00",
    "window_hours": 6,
}
STEPS = ("schedule", "pause", "resume")
STATES = ("draft", "scheduled", "paused", "completed")


def _api_campaign(admin, **changes) -> Campaign:
    answer = api_as(admin).post("/admin/campaigns", {**API_CAMPAIGN, **changes}, format="json")
    assert answer.status_code == 201, answer.json()
    return Campaign.objects.get(pk=answer.json()["id"])


def _form(audience_id: int, **changes) -> dict:
    form = {
        "name": "Full moon (back office)",
        "purpose": "marketing",
        "channel": "sms",
        "audience": audience_id,
        "link_url": "https://samia.test/moon",
        "send_on": "2026-12-20",
        "local_time": "11:00",
        "window_hours": "6",
        "title_en": "Moon",
        "body_en": "A full moon reading",
        "body_ar": ARABIC,
    }
    return {**form, **changes}


def _said(response) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def _offered(page: str) -> set[str]:
    return set(re.findall(r'formaction="/backoffice/notifications/campaign/\d+/(\w+)/"', page))


# ---------------------------------------------------------------------------------------------
# The campaign form


@pytest.mark.parametrize("role", ["admin", "superadmin"])
def test_it_creates_from_the_per_language_form_the_campaign_the_api_creates(personas, role):
    staff = personas[role]
    by_api = _api_campaign(staff)
    client = _logged_in(staff)

    page = client.get(f"{CAMPAIGNS}add/").content.decode()
    created = client.post(f"{CAMPAIGNS}add/", _form(by_api.audience_id))

    assert 'name="templates"' not in page and 'name="body_ar"' in page and 'name="content_sid_en"' in page
    assert re.search(r'<textarea[^>]*name="body_ar"', page) and 'dir="auto" lang="ar"' in page
    assert created.status_code == 302, created.content.decode()[-3000:]
    by_form = Campaign.objects.get(name="Full moon (back office)")
    fields = ("templates", "channel", "purpose", "audience_id", "link_url", "send_on", "local_time", "window_hours")
    assert {f: getattr(by_form, f) for f in fields} == {f: getattr(by_api, f) for f in fields}
    assert by_form.status == "draft" and by_form.created_by == staff
    assert AuditEntry.objects.filter(action="notifications.campaign.create", target_id=str(by_form.pk)).exists()


def test_a_whatsapp_campaign_takes_a_template_sid_and_variables_per_language(personas):
    admin = personas["admin"]
    templates = {"en": {"content_sid": "HX" + "1" * 32, "variables": {"1": "Moon", "2": "20%"}}}
    by_api = _api_campaign(admin, channel="whatsapp", templates=templates)
    form = _form(by_api.audience_id, channel="whatsapp", content_sid_en="HX" + "1" * 32, variables_en="1=Moon\n2=20%")

    assert _logged_in(admin).post(f"{CAMPAIGNS}add/", form).status_code == 302

    assert Campaign.objects.get(name="Full moon (back office)").templates == by_api.templates
    page = _logged_in(admin).get(f"{CAMPAIGNS}{by_api.pk}/change/").content.decode()
    assert 'name="content_sid_ar"' in page and 'name="body_en"' not in page  # the channel's own fields


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"purpose": "transactional"}, "purpose", "Campaigns are marketing or zodiac messages."),
        ({"local_time": "23:00"}, "local_time", "This local time is inside quiet hours for this channel."),
        ({"channel": "push", "title_en": ""}, "body_en", "en: a title of at most 120 characters (push needs one)."),
        # English is what every campaign needs: said next to its English text
        ({"title_en": "", "body_en": ""}, "body_en", "An object keyed by language (ar, en) with at least en."),
        ({"channel": "whatsapp"}, "content_sid_en", "An object keyed by language (ar, en) with at least en."),
        ({"channel": "whatsapp", "content_sid_en": "HX1", "variables_en": "no sign"}, "variables_en", "One variable"),
    ],
)
def test_planning_refusals_come_back_as_form_errors(personas, changes, field, message):
    admin = personas["admin"]
    audience_id = _api_campaign(admin).audience_id

    answer = _logged_in(admin).post(f"{CAMPAIGNS}add/", _form(audience_id, **changes))

    assert answer.status_code == 200
    errors = answer.context["adminform"].form.errors
    assert any(message in text for text in errors.get(field or "__all__", [])), errors
    assert not Campaign.objects.filter(name="Full moon (back office)").exists()


def test_in_arabic_a_refused_form_says_how_many_errors_to_correct(personas):
    admin = personas["admin"]
    admin.language = "ar"
    admin.save(update_fields=["language"])
    audience_id = _api_campaign(admin).audience_id

    page = _logged_in(admin).post(f"{CAMPAIGNS}add/", _form(audience_id, title_en="", body_en="")).content.decode()

    # unfold counted 0 errors on a change form, which Arabic words as "there are no errors to correct"
    assert "الرجاء تصحيح الخطأ أدناه." in page
    assert "لا توجد أخطاء لتصحيحها" not in page


def test_a_planned_campaigns_message_is_fixed_and_shown_not_edited(personas):
    admin = personas["admin"]
    campaign = _api_campaign(admin)
    Campaign.objects.filter(pk=campaign.pk).update(status="scheduled")

    page = _logged_in(admin).get(f"{CAMPAIGNS}{campaign.pk}/change/").content.decode()

    assert 'name="body_en"' not in page and 'name="channel"' not in page and ARABIC in page


# ---------------------------------------------------------------------------------------------
# The preview


def test_the_preview_endpoint_renders_arabic_right_to_left(personas):
    client = _logged_in(personas["admin"])

    answer = client.post(PREVIEW, {"channel": "sms", "purpose": "marketing", "body_en": "Hello", "body_ar": ARABIC})

    assert answer.status_code == 200
    data = answer.json()
    arabic = next(p for p in data["previews"] if p["language"] == "ar")
    assert arabic["dir"] == "rtl" and arabic["message"]["body"] == ARABIC and data["errors"] == []
    section = re.search(r'<section[^>]*lang="ar" dir="rtl"[^>]*>(.*?)</section>', data["html"], re.S)
    assert section and f'<p dir="auto" style="white-space: pre-line">{ARABIC}</p>' in section.group(1)
    assert 'lang="en" dir="ltr"' in data["html"]


def test_the_preview_says_what_is_wrong_and_which_language_falls_back(personas):
    client = _logged_in(personas["admin"])

    empty = client.post(PREVIEW, {"channel": "push", "purpose": "marketing"}).json()
    only_english = client.post(PREVIEW, {"channel": "push", "body_en": "Hello", "title_en": "Hi"}).json()

    assert "at least en" in " ".join(empty["errors"]) and "write the English text first" in empty["html"]
    arabic = next(p for p in only_english["previews"] if p["language"] == "ar")
    assert arabic["dir"] == "ltr" and arabic["message"]["body"] == "Hello"
    assert "recipients get the English text" in only_english["html"]


def test_the_preview_lists_whatever_else_the_renderer_measures(personas):
    typed = {"channel": "sms", "purpose": "marketing", "body_en": "Hello", "link_url": "https://samia.test/x"}
    campaign = Campaign(channel="sms", purpose="marketing", templates={"en": {"title": "", "body": "Hello"}})
    measured = set(selectors.campaign_preview(campaign=campaign, language="en")) - {"language", "title", "body"}

    html = _logged_in(personas["admin"]).post(PREVIEW, typed).json()["html"]

    for key in measured:  # e.g. the SMS's exact text, encoding and segments
        assert f"<dt>{key.replace('_', ' ').capitalize()}</dt>" in html


def test_the_preview_endpoint_is_for_those_who_may_read_campaigns(personas):
    assert _logged_in(personas["monitor"]).post(PREVIEW, {"channel": "sms"}).status_code == 403
    assert _logged_in(personas["admin"]).get(PREVIEW).status_code == 405
    assert _logged_in(personas["admin"]).post(PREVIEW, {"channel": "fax"}).status_code == 400


def test_the_campaign_page_shows_the_preview_on_load(personas):
    admin = personas["admin"]
    campaign = _api_campaign(admin)

    page = _logged_in(admin).get(f"{CAMPAIGNS}{campaign.pk}/change/").content.decode()

    assert f'id="campaign-preview" data-url="{PREVIEW}"' in page
    assert re.search(rf'lang="ar" dir="rtl".*?<p dir="auto"[^>]*>{ARABIC}</p>', page, re.S)
    assert "notifications/campaign_preview.js" in page


# ---------------------------------------------------------------------------------------------
# Steps: offered exactly when the guard lets them through


def _in_state(admin, status: str) -> Campaign:
    campaign = _api_campaign(admin)
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    return campaign


@pytest.mark.parametrize("role", ["monitor", "admin", "superadmin"])
@pytest.mark.parametrize("status", STATES)
def test_the_steps_offered_equal_the_guards_answer(personas, role, status):
    staff = personas[role]
    admitted = set()
    for step in STEPS:
        answer = api_as(staff).post(f"/admin/campaigns/{_in_state(personas['admin'], status).pk}/{step}")
        if answer.status_code == 200:
            admitted.add(step)
    campaign = _in_state(personas["admin"], status)

    page = _logged_in(staff).get(f"{CAMPAIGNS}{campaign.pk}/change/")

    assert page.status_code == (403 if role == "monitor" else 200)
    assert _offered(page.content.decode()) == admitted


@pytest.mark.parametrize(
    ("status", "step", "after", "said"),
    [
        ("draft", "schedule", "scheduled", ("success", "Scheduled: 0 new sends planned, 0 in all.")),
        ("scheduled", "pause", "paused", ("success", "Paused: nothing more goes out until it is resumed.")),
        ("paused", "resume", "scheduled", ("success", "Resumed.")),
        ("paused", "schedule", "paused", ("error", "This step is not open to you for a campaign in this state.")),
        ("completed", "pause", "completed", ("error", "This step is not open to you for a campaign in this state.")),
    ],
)
def test_a_step_runs_the_service_or_says_why_not(personas, status, step, after, said):
    admin = personas["admin"]
    campaign = _in_state(admin, status)

    answer = _logged_in(admin).post(f"{CAMPAIGNS}{campaign.pk}/{step}/")

    assert answer.status_code == 302 and answer["Location"] == f"{CAMPAIGNS}{campaign.pk}/change/"
    assert _said(answer) == [said]
    campaign.refresh_from_db()
    assert campaign.status == after


def test_a_monitor_forging_a_step_changes_nothing(personas):
    campaign = _in_state(personas["admin"], "scheduled")

    answer = _logged_in(personas["monitor"]).post(f"{CAMPAIGNS}{campaign.pk}/pause/")

    assert answer.status_code == 302 and _said(answer) == [("error", "No such campaign.")]
    campaign.refresh_from_db()
    assert campaign.status == "scheduled"
    assert _logged_in(personas["admin"]).get(f"{CAMPAIGNS}{campaign.pk}/pause/").status_code == 405


def test_a_bulk_step_reports_done_and_refused_at_the_right_level(personas):
    admin = personas["admin"]
    draft, paused = _in_state(admin, "draft"), _in_state(admin, "paused")
    client = _logged_in(admin)

    mixed = client.post(CAMPAIGNS, {"action": "schedule", "_selected_action": [draft.pk, paused.pk]})
    refused = client.post(CAMPAIGNS, {"action": "resume", "_selected_action": [draft.pk]})

    assert _said(mixed) == [
        ("warning", f"1 done, 1 refused. #{paused.pk}: This campaign is paused: resume it instead.")
    ]
    assert _said(refused)[-1:] == [("error", f"0 done, 1 refused. #{draft.pk}: Only a paused campaign can be resumed.")]
    assert Campaign.objects.get(pk=draft.pk).status == "scheduled"
    assert Campaign.objects.get(pk=paused.pk).status == "paused"


def test_the_figures_are_a_table_of_the_funnel(personas):
    admin = personas["admin"]
    recipient(zone="Europe/Paris", phone="+33612345678")
    campaign = _api_campaign(admin)
    client = _logged_in(admin)
    client.post(f"{CAMPAIGNS}{campaign.pk}/schedule/")

    page = client.get(f"{CAMPAIGNS}{campaign.pk}/change/").content.decode()

    labels = ["Planned", "Sent", "Delivered", "Opened", "Clicked", "Bounced", "Suppressed", "Opted out", "Failed"]
    figures = dict(re.findall(r"<tr><th scope='row'>([^<]+)</th><td>(\d+)</td></tr>", page))
    assert {label: figures[label] for label in labels} == {"Planned": "1", **{label: "0" for label in labels[1:]}}
    assert figures["Deferred (provider unavailable)"] == "0"


# ---------------------------------------------------------------------------------------------
# Suppressions


def test_suppressions_are_added_and_lifted_through_the_services_with_reason_codes(personas):
    admin, user = personas["admin"], personas["client"]
    client = _logged_in(admin)

    added = client.post(f"{SUPPRESSIONS}add/", {"channel": "sms", "user": user.pk, "reason": "complaint"})
    suppression = Suppression.objects.get()
    lifted = client.post(SUPPRESSIONS, {"action": "lift_address_fixed", "_selected_action": [suppression.pk]})
    again = client.post(SUPPRESSIONS, {"action": "lift_added_in_error", "_selected_action": [suppression.pk]})

    assert added.status_code == 302 and suppression.source == "manual" and suppression.created_by == admin
    assert _said(lifted)[-1:] == [("success", "1 done.")]
    entry = AuditEntry.objects.get(action="notifications.suppression.lift")
    assert entry.details["reason"] == "address_fixed"
    assert _said(again)[-1:] == [
        ("error", f"0 done, 1 refused. #{suppression.pk}: This suppression is already lifted.")
    ]


def test_a_number_is_suppressed_by_its_hash_and_a_second_time_is_refused_in_words(personas):
    client = _logged_in(personas["admin"])
    form = {"channel": "sms", "address": "+447700900555", "reason": "manual"}

    first = client.post(f"{SUPPRESSIONS}add/", form)
    second = client.post(f"{SUPPRESSIONS}add/", form)
    bad = client.post(f"{SUPPRESSIONS}add/", {**form, "address": "07700"})

    assert first.status_code == 302 and Suppression.objects.get().address_hash
    assert second.status_code == 302
    assert _said(second)[-1:] == [("error", "An active suppression already covers this recipient.")]
    assert bad.status_code == 200 and "An E.164 number" in bad.content.decode()
    page = client.get(SUPPRESSIONS).content.decode()
    assert "+447700900555" not in page and "a number or token (hashed)" in page


def test_lifting_is_offered_only_to_those_the_declaration_lets_update(personas):
    admin_page = _logged_in(personas["admin"]).get(SUPPRESSIONS).content.decode()

    assert 'value="lift_customer_request"' in admin_page and "Lift, because: Added by mistake" in admin_page
    monitor_page = _logged_in(personas["monitor"]).get(SUPPRESSIONS)  # a monitor reads their own
    assert monitor_page.status_code == 200 and "lift_customer_request" not in monitor_page.content.decode()


# ---------------------------------------------------------------------------------------------
# People, labels and times in every list, in a constant number of queries


def _rows(admin, count: int) -> None:
    for index in range(count):
        user = recipient(phone=f"+4477009001{index:02d}", device=f"token-{count}-{index}")
        Suppression.objects.create(channel="sms", user=user, reason="stop", source="automatic")
        Send.objects.create(
            campaign=_api_campaign(admin) if index == 0 else Campaign.objects.last(),
            user=user,
            channel="sms",
            purpose="marketing",
            kind="campaign.marketing",
            dedupe_key=f"test:{count}:{index}",
            due_at=timezone.now(),
            expires_at=timezone.now(),
            last_error="provider_unavailable",
        )


@pytest.mark.parametrize("model", ["send", "devicetoken", "consent", "campaign", "suppression", "audience"])
def test_lists_show_people_and_labels_in_a_constant_number_of_queries(personas, model):
    admin = personas["admin"]
    client = _logged_in(admin)
    url = f"/backoffice/notifications/{model}/"
    _rows(admin, 2)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _rows(admin, 5)

    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()

    assert len(many.captured_queries) == len(few.captured_queries)
    if model in ("campaign", "audience"):
        assert str(admin) in page  # their creator
    else:
        user = DeviceToken.objects.last().user
        assert str(user) in page and " #" not in str(user)
        assert user.email not in page and user.phone not in page
    now = date_format(timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(admin.timezone)), "DATE_FORMAT")
    if model in ("send", "devicetoken", "consent", "suppression"):
        assert f"{now}, " in page and f"({admin.timezone})" in page  # in the staff member's zone, named
    labels = {
        "send": "Deferred: provider unavailable",
        "suppression": "STOP keyword",
        "devicetoken": "FCM (Android/Web)",
    }
    assert labels.get(model, "") in page
