"""Back office: audiences and campaigns (a form per language with a live preview, schedule, pause,
resume offered as the API's guards allow, and the funnel as a table)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminURLInputWidget

from notifications import planning, schedule_requests, selectors
from notifications.admin.display import person, when
from notifications.admin.templates import (
    LANGUAGES,
    TEXT_PARTS,
    WHATSAPP_PARTS,
    language_name,
    previews,
    template_fields,
    template_initial,
    templates_from,
)
from notifications.apis import CampaignPauseView, CampaignResumeView, CampaignScheduleView
from notifications.models import Audience, Campaign, Channel, Purpose, Send
from samia import audit
from samia.rls.admin import REFUSALS, DeclaredModelAdmin, run_action, service_refusal
from samia.rls.registry import Identity

PREVIEW_TEMPLATE = "notifications/admin/campaign_preview.html"
NAME = "notifications_campaign"
# The theme's own button look (its stylesheet carries only the classes its templates use).
BUTTON = "bg-primary-600 cursor-pointer font-medium px-3 py-2 rounded-default text-sm text-white"

# The workflow buttons: what the API route needs (its `access`, so the same declaration decides)
# and the states the service accepts. planning.campaign_schedule refuses paused and completed ones.
WORKFLOW = {
    "schedule": (CampaignScheduleView.access["POST"], (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)),
    "pause": (CampaignPauseView.access["POST"], CampaignPauseView.access["POST"].sources),
    "resume": (CampaignResumeView.access["POST"], CampaignResumeView.access["POST"].sources),
}
LABELS = {"schedule": _("Schedule"), "pause": _("Pause"), "resume": _("Resume")}
DONE = {
    "schedule": _("Scheduled: %(created)s new sends planned, %(planned)s in all."),
    "pause": _("Paused: nothing more goes out until it is resumed."),
    "resume": _("Resumed."),
}
NOT_OPEN = _("This step is not open to you for a campaign in this state.")
# Saving a campaign whose workflow is busy or moved since the page was read (CampaignFormBase).
BUSY = _("This campaign is being scheduled, paused or resumed right now. Save again in a minute.")
MOVED = _("This campaign was scheduled, paused or resumed while you edited it. Reload the page, then edit it.")
# A schedule too large for the request (schedule_requests.campaign_schedule_request) runs as a job.
QUEUED = _(
    "Scheduling in the background: the campaign turns Scheduled when its sends are planned. Reload this page to see it."
)

# The funnel in the order staff read it; other figures the selector returns are listed after it.
STATS = [
    ("planned", _("Planned")),
    ("sent", _("Sent")),
    ("delivered", _("Delivered")),
    ("opened", _("Opened")),
    ("clicked", _("Clicked")),
    ("bounced", _("Bounced")),
    ("suppressed", _("Suppressed")),
    ("opted_out_total", _("Opted out")),
    ("failed", _("Failed")),
    ("deferred", _("Deferred (provider unavailable)")),
    ("pending", _("Pending")),
    ("skipped_quiet_hours", Send.State.SKIPPED_QUIET_HOURS.label),
    ("expired", Send.State.EXPIRED.label),
    ("cancelled", Send.State.CANCELLED.label),
    ("unknown", Send.State.UNKNOWN.label),
    ("sandbox", _("Sent to sandbox devices")),
    ("segments_planned", _("SMS segments planned")),
    ("segments_sent", _("SMS segments sent")),
    ("unsubscribed_after", _("Opted out after it reached them")),
]


def _perform(name: str, identity: Identity, campaign_id: int) -> dict:
    if name == "schedule":
        campaign, created = schedule_requests.campaign_schedule_request(identity=identity, campaign_id=campaign_id)
        return {"created": created, "planned": campaign.planned_count, "queued": created is None}
    planning.campaign_pause(identity=identity, campaign_id=campaign_id, pause=name == "pause")
    return {}


def offered(identity: Identity, campaign: Campaign) -> list[str]:
    """The workflow steps `identity` may take on `campaign` in its current state (not Schedule while
    a schedule of it, anyone's, waits in the queue or runs)."""
    steps = [
        name
        for name, (access, states) in WORKFLOW.items()
        if campaign.status in states and identity.persona in access.roles()
    ]
    if "schedule" in steps and schedule_requests.being_scheduled(campaign.pk):
        steps.remove("schedule")
        campaign.scheduling = True
    return steps


@admin.register(Audience)
class AudienceAdmin(DeclaredModelAdmin):
    list_display = ["name", "segment", "roles", "countries", "languages", "creator", "created"]
    list_select_related = ["created_by"]
    readonly_fields = ["creator", "created"]
    exclude = ["created_by", "created_at"]

    @admin.display(description=_("created by"))
    def creator(self, audience):
        return person(audience.created_by) if audience.created_by_id else "-"

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, audience):
        return when(audience.created_at)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        audit.record(
            action=f"notifications.audience.{'update' if change else 'create'}",
            actor=Identity.of(request.user),
            target=obj,
            details={"segment": obj.segment, "via": "backoffice"},
        )


def _state(status: str, planned_count: int) -> str:
    return f"{status}:{planned_count}"


class CampaignFormBase(forms.ModelForm):
    """The same checks as POST /admin/campaigns (planning.campaign_check), one field per language."""

    link_url = forms.URLField(
        label=capfirst(Campaign._meta.get_field("link_url").verbose_name),
        help_text=Campaign._meta.get_field("link_url").help_text,
        required=False,
        assume_scheme="https",
        max_length=200,
        widget=UnfoldAdminURLInputWidget(attrs={"dir": "ltr"}),
    )

    class Meta:
        model = Campaign
        fields = ["name", "purpose", "channel", "audience", "link_url", "send_on", "local_time", "window_hours"]

    # The workflow state the page was read in (status:planned count), so a save from a page opened
    # before a schedule, pause or resume is refused rather than applied to a campaign that moved on.
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, value in template_initial(self.instance.templates).items():
            self.initial.setdefault(name, value)
        if self.instance.pk is not None:
            self.initial["seen"] = _state(self.instance.status, self.instance.planned_count)
            if self.instance.status != Campaign.Status.DRAFT:
                # Its texts are fixed once planned: not on the page, so neither saved nor listed as changed.
                for name in template_fields():
                    self.fields.pop(name, None)

    def clean(self):
        data = super().clean()
        if self.instance.pk is not None:
            self._locked_as_read()
        channel = data.get("channel")
        if self.instance.status != Campaign.Status.DRAFT or channel is None:
            return data  # once planned, what recipients get is fixed
        timing = ("purpose", "send_on", "local_time", "window_hours")
        try:
            templates = templates_from(data, channel)
            if all(data.get(key) is not None for key in timing):
                checked = {key: data[key] for key in timing}
                self.instance.templates = planning.campaign_check(channel=channel, templates=templates, **checked)
            else:
                planning.validate_templates(channel, templates)
        except ValidationError as error:
            self._planning_errors(error, channel)
        return data

    def _locked_as_read(self) -> None:
        """Hold the campaign's row until this save commits; refuse when its workflow moved since it was read.

        The form saves the whole row, status and counts included. A schedule queued as a job may run
        while someone edits the draft, and a pause may land meanwhile: saving over them would put
        the campaign back in the state this page was read in.
        """
        try:
            found = selectors.campaign_state_locked(campaign_id=self.instance.pk)
        except selectors.CampaignBusy:
            raise ValidationError(BUSY) from None
        # A page that does not say what it was read in (not this form's) cannot show what it changes.
        read = self.data.get(self.add_prefix("seen"))
        if found is None or _state(*found) != read:
            raise ValidationError(MOVED)

    def _planning_errors(self, error: ValidationError, channel: str) -> None:
        """Put each refusal next to the field it is about (a language's message: its first field)."""
        detail = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        first = "content_sid" if channel == Channel.WHATSAPP else "body"
        for field, texts in detail.items():
            for text in texts:
                target = field
                if field == "templates":
                    code = text.split(":", 1)[0]
                    # Not about one language: about the English text every campaign needs.
                    target = f"{first}_{code if code in LANGUAGES else 'en'}"
                self.add_error(target if target in self.fields else None, text)


CampaignForm = type("CampaignForm", (CampaignFormBase,), template_fields())


def _run_bulk(modeladmin, request, queryset, name: str) -> None:
    identity = Identity.of(request.user)
    results = []
    run_action(request, queryset, lambda campaign: results.append(_perform(name, identity, campaign.pk)))
    if any(result.get("queued") for result in results):
        messages.info(request, QUEUED)


@admin.action(description=_("Schedule: plan one send per recipient"), permissions=["schedule"])
def schedule(modeladmin, request, queryset):
    _run_bulk(modeladmin, request, queryset, "schedule")


@admin.action(description=_("Pause"), permissions=["pause"])
def pause(modeladmin, request, queryset):
    _run_bulk(modeladmin, request, queryset, "pause")


@admin.action(description=_("Resume"), permissions=["resume"])
def resume(modeladmin, request, queryset):
    _run_bulk(modeladmin, request, queryset, "resume")


@admin.register(Campaign)
class CampaignAdmin(DeclaredModelAdmin):
    form = CampaignForm
    list_display = ["name", "channel", "purpose", "status", "audience", "send_on", "local_time", "planned_count"]
    list_display += ["scheduled", "creator"]
    list_select_related = ["audience", "created_by"]
    list_filter = ["status", "channel", "purpose"]
    search_fields = ["name"]
    actions = [schedule, pause, resume]
    readonly_fields = ["status", "planned_count", "scheduled", "creator", "created", "preview", "buttons", "stats"]
    fixed_once_planned = ["purpose", "channel", "audience", "send_on", "local_time", "window_hours"]

    class Media:
        js = ["notifications/campaign_preview.js"]

    def get_fieldsets(self, request, obj=None):
        main = ["name", "purpose", "channel", "audience", "link_url", "send_on", "local_time", "window_hours"]
        if obj is not None:
            main.append("seen")
        fieldsets = [(None, {"fields": main})]
        if obj is None or obj.status == Campaign.Status.DRAFT:
            parts = TEXT_PARTS + WHATSAPP_PARTS  # the page's script shows the channel's own
            if obj is not None:
                parts = WHATSAPP_PARTS if obj.channel == Channel.WHATSAPP else TEXT_PARTS
            for code in LANGUAGES:
                fieldsets.append((language_name(code), {"fields": [f"{part}_{code}" for part in parts]}))
        fieldsets.append((_("Preview"), {"fields": ["preview"]}))
        if obj is not None:
            status = ["status", "buttons", "stats", "planned_count", "scheduled", "creator", "created"]
            fieldsets.append((_("Status"), {"fields": status}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None and obj.status != Campaign.Status.DRAFT:
            fields += self.fixed_once_planned  # pause it and create a new one instead
        return fields

    def get_object(self, request, object_id, from_field=None):
        campaign = super().get_object(request, object_id, from_field)
        if campaign is not None:
            # Read-only fields see the object only: what this person may do travels with it.
            campaign.offered = offered(Identity.of(request.user), campaign)
        return campaign

    def _may(self, request, name: str) -> bool:
        return request.user.is_active and Identity.of(request.user).persona in WORKFLOW[name][0].roles()

    def has_schedule_permission(self, request):
        return self._may(request, "schedule")

    def has_pause_permission(self, request):
        return self._may(request, "pause")

    def has_resume_permission(self, request):
        return self._may(request, "resume")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("preview/", wrap(self.preview_view), name="notifications_campaign_preview"),
            *(
                path(f"<int:campaign_id>/{step}/", wrap(self.workflow_view), {"step": step}, name=f"{NAME}_{step}")
                for step in WORKFLOW
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request):
        """Render the message per language as typed, through the same renderer as the saved campaign's."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        channel = request.POST.get("channel") or Channel.PUSH
        purpose = request.POST.get("purpose") or Purpose.MARKETING
        if channel not in Channel.values or purpose not in Purpose.values:
            return JsonResponse({"errors": [str(_("Choose a channel and a purpose."))]}, status=400)
        errors = []
        try:
            planning.validate_templates(channel, templates_from(request.POST, channel))
        except ValidationError as error:
            errors = error.messages
        templates = templates_from(request.POST, channel, strict=False)
        # The link as typed: an SMS's length, and so its segments, include the tracked link.
        link_url = request.POST.get("link_url", "")[:200]
        campaign = Campaign(channel=channel, purpose=purpose, templates=templates, link_url=link_url)
        shown = previews(campaign)
        html = render_to_string(PREVIEW_TEMPLATE, {"previews": shown, "errors": errors}, request=request)
        data = [{"language": p["code"], "dir": p["dir"], "message": p["message"]} for p in shown]
        return JsonResponse({"previews": data, "errors": errors, "html": html})

    def workflow_view(self, request, campaign_id: int, step: str):
        """Schedule, pause or resume one campaign through planning, then come back to its page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        identity = Identity.of(request.user)
        page = reverse("admin:notifications_campaign_change", args=[campaign_id])
        try:
            campaign = selectors.campaign_get(identity=identity, campaign_id=campaign_id)
        except Campaign.DoesNotExist as error:
            self.message_user(request, service_refusal(error, Campaign), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:notifications_campaign_changelist"))
        if step not in offered(identity, campaign):
            if getattr(campaign, "scheduling", False):
                self.message_user(request, QUEUED, messages.INFO)
            else:
                self.message_user(request, NOT_OPEN, messages.ERROR)
            return HttpResponseRedirect(page)
        try:
            with transaction.atomic():
                figures = _perform(step, identity, campaign.pk)
        except REFUSALS as error:
            reason = service_refusal(error, Campaign)
            if reason is None:
                raise
            self.message_user(request, reason, messages.ERROR)
        else:
            self.message_user(request, QUEUED if figures.get("queued") else DONE[step] % figures, messages.SUCCESS)
        return HttpResponseRedirect(page)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        audit.record(
            action=f"notifications.campaign.{'update' if change else 'create'}",
            actor=Identity.of(request.user),
            target=obj,
            details={"channel": obj.channel, "purpose": obj.purpose, "via": "backoffice"},
        )

    @admin.display(description=_("scheduled"), ordering="scheduled_at")
    def scheduled(self, campaign):
        return when(campaign.scheduled_at)

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, campaign):
        return when(campaign.created_at)

    @admin.display(description=_("created by"))
    def creator(self, campaign):
        return person(campaign.created_by) if campaign.created_by_id else "-"

    @admin.display(description=_("Preview per language"))
    def preview(self, campaign):
        context = {"previews": previews(campaign)}
        return format_html(
            '<div id="campaign-preview" data-url="{}">{}</div>',
            reverse("admin:notifications_campaign_preview"),
            render_to_string(PREVIEW_TEMPLATE, context),
        )

    @admin.display(description=_("Steps"))
    def buttons(self, campaign):
        steps = getattr(campaign, "offered", [])
        scheduling = format_html("<p>{}</p>", QUEUED) if getattr(campaign, "scheduling", False) else ""
        if not steps:
            return scheduling or _("No step is open to you in this state.")
        return format_html(
            "{}{}",
            scheduling,
            format_html_join(
                " ",
                '<button type="submit" class="{}" formmethod="post" formnovalidate formaction="{}">{}</button>',
                ((BUTTON, reverse(f"admin:{NAME}_{step}", args=[campaign.pk]), LABELS[step]) for step in steps),
            ),
        )

    @admin.display(description=_("Figures"))
    def stats(self, campaign):
        figures = dict(selectors.campaign_stats(campaign=campaign))
        figures.setdefault("opted_out_total", figures.get("opted_out", 0))
        rows = [(label, figures.pop(key, 0)) for key, label in STATS]
        figures.pop("opted_out", None)
        rows += [(key.replace("_", " ").capitalize(), value) for key, value in figures.items()]
        return format_html(
            '<table class="campaign-stats"><tbody>{}</tbody></table>',
            format_html_join("", "<tr><th scope='row'>{}</th><td>{}</td></tr>", rows),
        )
