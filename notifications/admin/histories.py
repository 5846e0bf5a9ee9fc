"""Back office: read-only histories of consents, sends, devices, bounces and webhooks."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from notifications.admin.display import person, when
from notifications.models import Bounce, Consent, DeviceToken, Send, WebhookEvent
from samia.rls.admin import ReadOnlyAdmin

# Our own error and deactivation codes in words; a provider's code (e.g. Twilio's 30003) stays as is.
CODES = {
    "provider_unavailable": _("Deferred: provider unavailable"),
    "quiet_hours": _("Waiting for the end of quiet hours"),
    "worker_lost": _("Worker lost during the send"),
    "too_many_attempts": _("Too many attempts"),
    "template_required": _("WhatsApp needs an approved template"),
    "content_withdrawn": _("Content withdrawn"),
    "recipient_inactive": _("Recipient inactive or blocked"),
    "no_device": _("No active device"),
    "no_address": _("No phone number"),
    "no_sender": _("No sender configured"),
    "invalid_token": _("Invalid device token"),
    "user_removed": _("Removed by the user"),
    "21610": _("Unsubscribed at the provider (21610)"),
}


def in_words(code: str) -> str:
    return CODES.get(code, code) if code else "-"


class _ForPeople(ReadOnlyAdmin):
    """A history whose rows name a user: shown by display name and masked email."""

    list_select_related = ["user"]

    @admin.display(description=_("user"))
    def recipient(self, row):
        return person(row.user)


@admin.register(Consent)
class ConsentAdmin(_ForPeople):
    list_display = ["recipient", "channel", "purpose", "status", "lawful_basis", "source", "text_version", "recorded"]
    list_filter = ["channel", "purpose", "status", "source"]
    raw_id_fields = ["user"]

    @admin.display(description=_("recorded"), ordering="recorded_at")
    def recorded(self, consent):
        return when(consent.recorded_at)


class DeferredFilter(admin.SimpleListFilter):
    title = _("waiting")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [
            ("provider", _("Deferred: provider unavailable")),
            ("retry", _("Waiting for a retry")),
            ("quiet", _("Quiet hours")),
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
class SendAdmin(_ForPeople):
    list_display = ["id", "about", "channel", "recipient", "state", "mode", "due", "attempts", "error", "sent"]
    list_select_related = ["user", "campaign"]
    list_filter = ["state", "channel", "purpose", "sandbox", DeferredFilter, "escalated"]
    search_fields = ["=id", "=message_id", "kind"]
    raw_id_fields = ["user", "campaign", "notification"]
    ordering = ["-id"]

    @admin.display(description=_("about"))
    def about(self, send):
        return send.campaign.name if send.campaign_id else send.kind

    @admin.display(description=_("mode"))
    def mode(self, send):
        return _("sandbox") if send.sandbox else (send.provider or "-")

    @admin.display(description=_("due"), ordering="due_at")
    def due(self, send):
        return when(send.due_at)

    @admin.display(description=_("sent"), ordering="sent_at")
    def sent(self, send):
        return when(send.sent_at)

    @admin.display(description=_("last error"))
    def error(self, send):
        return in_words(send.last_error)


@admin.register(DeviceToken)
class DeviceTokenAdmin(_ForPeople):
    list_display = ["id", "recipient", "platform", "active", "registered", "deactivated"]
    list_filter = ["platform", "active"]
    exclude = ["token"]
    raw_id_fields = ["user"]

    @admin.display(description=_("registered"), ordering="registered_at")
    def registered(self, device):
        return when(device.registered_at)

    @admin.display(description=_("deactivated"))
    def deactivated(self, device):
        if device.deactivated_at is None:
            return "-"
        return f"{when(device.deactivated_at)} ({in_words(device.deactivated_reason)})"


@admin.register(Bounce)
class BounceAdmin(ReadOnlyAdmin):
    list_display = ["id", "send", "channel", "kind", "code", "received"]
    list_select_related = ["send"]
    list_filter = ["kind", "channel"]

    @admin.display(description=_("received"), ordering="received_at")
    def received(self, bounce):
        return when(bounce.received_at)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "channel", "received", "processed", "outcome"]
    list_filter = ["kind", "channel", "outcome"]
    exclude = ["payload"]
    readonly_fields = ["details"]

    @admin.display(description=_("received"), ordering="received_at")
    def received(self, event):
        return when(event.received_at)

    @admin.display(description=_("processed"), ordering="processed_at")
    def processed(self, event):
        return when(event.processed_at)

    @admin.display(description=_("payload"))
    def details(self, event):
        # Sids, statuses, codes, keywords; never the sender's number (hashed once processed).
        return {key: value for key, value in event.payload.items() if key != "from"}
