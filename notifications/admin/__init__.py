"""Back office: campaigns (create, preview per language, schedule, pause, stats), suppressions,
and read-only histories of consents, sends, devices, bounces and webhooks."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.utils.html import format_html, format_html_join

from notifications import planning, selectors, services
from notifications.models import (
    Audience,
    Bounce,
    Campaign,
    Consent,
    DeviceToken,
    Send,
    Suppression,
    WebhookEvent,
)
from samia import audit
from samia.accounts.models import Language
from samia.exceptions import DomainError
from samia.rls.admin import DeclaredModelAdmin, ReadOnlyAdmin
from samia.rls.registry import Identity

# What a service raises when it refuses: shown to the operator as a message, never a 500.
REFUSALS = (ValidationError, ObjectDoesNotExist, PermissionDenied, DomainError)


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def _run(modeladmin, request, action, success: str) -> None:
    try:
        action()
    except REFUSALS as error:
        modeladmin.message_user(request, _message(error), messages.ERROR)
    else:
        modeladmin.message_user(request, success)


@admin.register(Audience)
class AudienceAdmin(DeclaredModelAdmin):
    list_display = ["name", "segment", "roles", "countries", "languages", "created_at"]
    readonly_fields = ["created_by", "created_at"]

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


@admin.action(description="Schedule: plan one send per recipient (idempotent)", permissions=["change"])
def schedule(modeladmin, request, queryset):
    for campaign in queryset:
        _run(
            modeladmin,
            request,
            lambda c=campaign: planning.campaign_schedule(identity=Identity.of(request.user), campaign_id=c.pk),
            f"{campaign.name}: scheduled.",
        )


@admin.action(description="Pause", permissions=["change"])
def pause(modeladmin, request, queryset):
    for campaign in queryset:
        _run(
            modeladmin,
            request,
            lambda c=campaign: planning.campaign_pause(
                identity=Identity.of(request.user), campaign_id=c.pk, pause=True
            ),
            f"{campaign.name}: paused.",
        )


@admin.action(description="Resume", permissions=["change"])
def resume(modeladmin, request, queryset):
    for campaign in queryset:
        _run(
            modeladmin,
            request,
            lambda c=campaign: planning.campaign_pause(
                identity=Identity.of(request.user), campaign_id=c.pk, pause=False
            ),
            f"{campaign.name}: resumed.",
        )


def _form_errors(error: ValidationError) -> forms.ValidationError:
    detail = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    return forms.ValidationError(
        {field if field != "detail" else "__all__": messages_ for field, messages_ in detail.items()}
    )


class CampaignForm(forms.ModelForm):
    """The same checks as POST /admin/campaigns (planning.campaign_check)."""

    link_url = forms.URLField(required=False, assume_scheme="https", max_length=200)

    class Meta:
        model = Campaign
        fields = [
            "name",
            "purpose",
            "channel",
            "audience",
            "templates",
            "link_url",
            "send_on",
            "local_time",
            "window_hours",
        ]

    def clean(self):
        data = super().clean()
        needed = ("channel", "purpose", "send_on", "local_time", "window_hours", "templates")
        if self.instance.status == Campaign.Status.DRAFT and all(data.get(k) is not None for k in needed):
            try:
                data["templates"] = planning.campaign_check(**{k: data[k] for k in needed})
            except ValidationError as error:
                raise _form_errors(error) from None
        return data


@admin.register(Campaign)
class CampaignAdmin(DeclaredModelAdmin):
    form = CampaignForm
    list_display = ["name", "channel", "purpose", "status", "send_on", "local_time", "planned_count", "scheduled_at"]
    list_filter = ["status", "channel", "purpose"]
    search_fields = ["name"]
    actions = [schedule, pause, resume]
    readonly_fields = ["status", "planned_count", "scheduled_at", "created_by", "created_at", "preview", "stats"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None and obj.status != Campaign.Status.DRAFT:
            # Once planned, what recipients get is fixed; pause it and create a new one instead.
            fields += ["purpose", "channel", "audience", "templates", "send_on", "local_time", "window_hours"]
        return fields

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

    @admin.display(description="Preview per language")
    def preview(self, campaign):
        if campaign.pk is None:
            return "-"
        rows = []
        for language in Language.values:
            shown = selectors.campaign_preview(campaign=campaign, language=language)
            text = shown.get("body") or f"template {shown.get('content_sid')} {shown.get('variables')}"
            rows.append((language, shown.get("language"), shown.get("title", ""), text))
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>({})</td><td><b>{}</b></td><td dir='auto'>{}</td></tr>", rows),
        )

    @admin.display(description="Stats")
    def stats(self, campaign):
        if campaign.pk is None:
            return "-"
        numbers = selectors.campaign_stats(campaign=campaign)
        return format_html_join(", ", "{}: {}", numbers.items())


@admin.action(description="Lift the selected suppressions", permissions=["change"])
def lift(modeladmin, request, queryset):
    for suppression in queryset.filter(lifted_at__isnull=True):
        _run(
            modeladmin,
            request,
            lambda s=suppression: services.suppression_lift(suppression_id=s.pk, actor=Identity.of(request.user)),
            f"Suppression #{suppression.pk} lifted.",
        )


class ActiveFilter(admin.SimpleListFilter):
    title = "active"
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", "Active"), ("no", "Lifted")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(lifted_at__isnull=self.value() == "yes")
        return queryset


class SuppressionForm(forms.ModelForm):
    """A manual suppression names a user; one already covered is refused before saving."""

    class Meta:
        model = Suppression
        fields = ["channel", "user", "reason", "note"]

    def clean(self):
        data = super().clean()
        if not data.get("user"):
            raise forms.ValidationError({"user": ["Choose the user to suppress (numbers: POST /admin/suppressions)."]})
        if Suppression.objects.filter(channel=data.get("channel"), user=data["user"], lifted_at__isnull=True).exists():
            raise forms.ValidationError("An active suppression already covers this user on this channel.")
        return data


@admin.register(Suppression)
class SuppressionAdmin(DeclaredModelAdmin):
    form = SuppressionForm
    list_display = ["id", "channel", "user", "reason", "source", "created_at", "lifted_at"]
    list_filter = [ActiveFilter, "channel", "reason", "source"]
    fields = ["channel", "user", "reason", "note"]
    raw_id_fields = ["user"]
    actions = [lift]

    def has_change_permission(self, request, obj=None):
        # Only lifting (the action) changes a suppression.
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # Through the service: one active suppression per recipient, and an audit entry.
        saved = services.suppression_add(
            channel=obj.channel,
            reason=obj.reason,
            actor=Identity.of(request.user),
            user_id=obj.user_id,
            note=obj.note,
        )
        obj.pk = saved.pk


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["user", "channel", "purpose", "status", "lawful_basis", "source", "text_version", "recorded_at"]
    list_filter = ["channel", "purpose", "status", "source"]
    raw_id_fields = ["user"]


class DeferredFilter(admin.SimpleListFilter):
    title = "waiting"
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [
            ("provider", "Deferred: provider unavailable"),
            ("retry", "Waiting for a retry"),
            ("quiet", "Quiet hours"),
        ]

    def queryset(self, request, queryset):
        codes = {"provider": "provider_unavailable", "quiet": "quiet_hours"}
        if self.value() in codes:
            return queryset.filter(state__in=["planned", "queued"], last_error=codes[self.value()])
        if self.value() == "retry":
            return queryset.filter(state="queued", attempts__gt=0).exclude(
                last_error__in=["provider_unavailable", "quiet_hours"]
            )
        return queryset


@admin.register(Send)
class SendAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "channel", "user", "state", "mode", "due_at", "attempts", "last_error", "sent_at"]
    list_filter = ["state", "channel", "purpose", "sandbox", DeferredFilter, "escalated"]
    search_fields = ["=id", "=message_id", "kind"]
    raw_id_fields = ["user", "campaign", "notification"]
    ordering = ["-id"]

    @admin.display(description="mode")
    def mode(self, send):
        return "sandbox" if send.sandbox else (send.provider or "-")


@admin.register(DeviceToken)
class DeviceTokenAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "platform", "active", "registered_at", "deactivated_reason"]
    list_filter = ["platform", "active"]
    exclude = ["token"]
    raw_id_fields = ["user"]


@admin.register(Bounce)
class BounceAdmin(ReadOnlyAdmin):
    list_display = ["id", "send", "channel", "kind", "code", "received_at"]
    list_filter = ["kind", "channel"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "channel", "received_at", "processed_at", "outcome"]
    list_filter = ["kind", "channel", "outcome"]
    exclude = ["payload"]
    readonly_fields = ["details"]

    @admin.display(description="payload")
    def details(self, event):
        # Sids, statuses, codes, keywords; never the sender's number (hashed once processed).
        return {key: value for key, value in event.payload.items() if key != "from"}
