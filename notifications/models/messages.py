"""What is sent: audiences and campaigns, notifications, sends, bounces, webhooks and cursors."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from notifications.models.preferences import Channel, Purpose
from samia.accounts.models import Language, Role


class Audience(models.Model):
    class Segment(models.TextChoices):
        EVERYONE = "everyone", _("Everyone")
        LISTENED_7D = "listened_7d", _("Listened to a horoscope in the last 7 days")
        ACTIVE_30D = "active_30d", _("Opened the app in the last 30 days")
        DORMANT_30D = "dormant_30d", _("Not seen in the last 30 days")
        ORDERED_90D = "ordered_90d", _("Ordered a reading in the last 90 days")

    name = models.CharField(max_length=120, verbose_name=_("name"))
    roles = models.JSONField(
        default=list, blank=True, help_text=_("Empty: clients and readers."), verbose_name=_("roles")
    )
    countries = models.JSONField(
        default=list, blank=True, help_text=_("ISO codes; empty: every country."), verbose_name=_("countries")
    )
    languages = models.JSONField(
        default=list, blank=True, help_text=_("ar/en; empty: both."), verbose_name=_("languages")
    )
    segment = models.CharField(
        max_length=16, choices=Segment.choices, default=Segment.EVERYONE, verbose_name=_("segment")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("audience")
        verbose_name_plural = _("audiences")

    def __str__(self):
        return self.name


DEFAULT_AUDIENCE_ROLES = (Role.CLIENT, Role.READER)


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        PAUSED = "paused", _("Paused")
        COMPLETED = "completed", _("Completed")

    name = models.CharField(max_length=120, verbose_name=_("name"))
    purpose = models.CharField(
        max_length=16, choices=Purpose.choices, default=Purpose.MARKETING, verbose_name=_("purpose")
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, verbose_name=_("channel"))
    audience = models.ForeignKey(
        Audience, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("audience")
    )
    # {"en": {"title": ..., "body": ...}, "ar": {...}}; WhatsApp: {"en": {"content_sid": "HX...",
    # "variables": {"1": "..."}}}. A recipient gets their language, else English.
    templates = models.JSONField(verbose_name=_("templates"))
    link_url = models.URLField(
        blank=True, help_text=_("Where a tracked click leads (optional)."), verbose_name=_("link URL")
    )
    # Each recipient gets it at local_time on send_on in their own timezone, and not after the window.
    send_on = models.DateField(verbose_name=_("send on"))
    local_time = models.TimeField(verbose_name=_("local time"))
    window_hours = models.PositiveSmallIntegerField(default=6, verbose_name=_("window hours"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, verbose_name=_("status"))
    planned_count = models.PositiveIntegerField(default=0, verbose_name=_("planned count"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    scheduled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("scheduled at"))

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self):
        return self.name


class Notification(models.Model):
    """One message to one user (an order update, a staff notice), on one or more channels."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    kind = models.CharField(max_length=40, help_text=_("A dotted code, e.g. order.delivered."), verbose_name=_("kind"))
    purpose = models.CharField(
        max_length=16, choices=Purpose.choices, default=Purpose.TRANSACTIONAL, verbose_name=_("purpose")
    )
    # A critical transactional message may be sent in quiet hours.
    critical = models.BooleanField(default=False, verbose_name=_("critical"))
    title = models.CharField(max_length=120, verbose_name=_("title"))
    body = models.CharField(max_length=1000, verbose_name=_("body"))
    data = models.JSONField(
        default=dict, blank=True, help_text=_("IDs and codes for the app (strings)."), verbose_name=_("data")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    def __str__(self):
        return f"{self.kind} #{self.pk}"


class Encoding(models.TextChoices):
    GSM7 = "gsm7", _("GSM-7")
    UCS2 = "ucs2", _("UCS-2")


class Send(models.Model):
    class State(models.TextChoices):
        PLANNED = "planned", _("Planned")
        QUEUED = "queued", _("Queued")  # handed to the dispatcher: in flight or waiting for a retry
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        OPENED = "opened", _("Opened / read")
        CLICKED = "clicked", _("Clicked")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")
        SUPPRESSED = "suppressed", _("Suppressed")
        OPTED_OUT = "opted_out", _("Opted out")
        SKIPPED_QUIET_HOURS = "skipped_quiet_hours", _("Skipped (quiet hours)")
        EXPIRED = "expired", _("Expired (window over)")
        CANCELLED = "cancelled", _("Cancelled")
        UNKNOWN = "unknown", _("Unknown outcome")

    # Every index is written once per planned send (1,000,000 for a big campaign): the three
    # foreign keys are served by the indexes in Meta (campaign and user lead two of them; a
    # notification's sends by a partial one, campaign sends having none) rather than their own.
    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sends",
        db_index=False,
        verbose_name=_("notification"),
    )
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sends",
        db_index=False,
        verbose_name=_("campaign"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("user")
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, verbose_name=_("channel"))
    purpose = models.CharField(max_length=16, choices=Purpose.choices, verbose_name=_("purpose"))
    critical = models.BooleanField(default=False, verbose_name=_("critical"))
    kind = models.CharField(max_length=40, verbose_name=_("kind"))
    # What the message is about, for rendering at send time (the zodiac push: the horoscope id).
    subject_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("subject ID"))
    # One send per recipient per message: campaign:<id>:<user>, zodiac:<date>:<user>, notification:<id>:<channel>
    # Unique through Meta's constraint: a plain unique index, without the LIKE index unique=True adds.
    dedupe_key = models.CharField(max_length=80, verbose_name=_("dedupe key"))
    language = models.CharField(
        max_length=2, choices=Language.choices, default=Language.ENGLISH, verbose_name=_("language")
    )
    due_at = models.DateTimeField(verbose_name=_("due at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    state = models.CharField(max_length=20, choices=State.choices, default=State.PLANNED, verbose_name=_("state"))
    state_changed_at = models.DateTimeField(default=timezone.now, verbose_name=_("state changed at"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    # Set while a dispatcher holds the send: past it, the attempt is presumed lost (worker killed).
    lease_until = models.DateTimeField(null=True, blank=True, verbose_name=_("lease until"))
    # Committed just before the provider is called: after a crash, a send with this set may have
    # gone out (its outcome is unknown); one without it certainly did not and is safe to retry.
    in_flight_since = models.DateTimeField(null=True, blank=True, verbose_name=_("in flight since"))
    provider = models.CharField(max_length=12, blank=True, verbose_name=_("provider"))
    sandbox = models.BooleanField(default=False, verbose_name=_("sandbox"))
    message_id = models.CharField(max_length=200, blank=True, verbose_name=_("message ID"))
    # The provider's or our own error code ("provider_unavailable", "21610", ...); never a body.
    last_error = models.CharField(max_length=40, blank=True, verbose_name=_("last error"))
    # SMS only: GSM-7 or UCS-2 and the segment count of the exact text, measured when the campaign
    # is planned (an estimate: the tracked link's length varies) and again when it goes in flight.
    encoding = models.CharField(
        max_length=4, choices=Encoding.choices, blank=True, default="", db_default="", verbose_name=_("encoding")
    )
    segments = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("segments"))
    # SMS/WhatsApp: the keyed hash of the number it went to (set when it goes in flight), so the
    # first text to a number is known per number and channel, whoever owns the number now.
    address_hash = models.CharField(
        max_length=64, blank=True, default="", db_default="", verbose_name=_("address hash")
    )
    # Monitors see escalations only (complaints: a recipient reported the message).
    escalated = models.BooleanField(default=False, verbose_name=_("escalated"))
    # Its campaign is paused: out of the dispatcher's due index until the campaign resumes.
    held = models.BooleanField(default=False, verbose_name=pgettext_lazy("flag", "held"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))
    opened_at = models.DateTimeField(null=True, blank=True, verbose_name=_("opened at"))
    clicked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("clicked at"))

    class Meta:
        verbose_name = _("send")
        verbose_name_plural = _("sends")
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=models.Q(state__in=["planned", "queued"], held=False),
                name="send_due",
            ),
            models.Index(fields=["user", "-created_at"], name="send_user_recent"),
            models.Index(fields=["campaign", "state"], name="send_campaign_state"),
            # Only sent rows carry a provider's id (delivery receipts look them up): a planned send
            # adds no entry, which spares a campaign's schedule one index insert per recipient.
            models.Index(fields=["provider", "message_id"], condition=~models.Q(message_id=""), name="send_message_id"),
            models.Index(fields=["escalated"], condition=models.Q(escalated=True), name="send_escalated"),
            models.Index(fields=["address_hash", "channel"], condition=~models.Q(address_hash=""), name="send_address"),
            models.Index(
                fields=["notification"], condition=models.Q(notification__isnull=False), name="send_notification"
            ),
        ]
        constraints = [models.UniqueConstraint(fields=["dedupe_key"], name="send_dedupe_key_unique")]

    def __str__(self):
        return _("%(channel)s send #%(id)s (%(state)s)") % {
            "channel": self.get_channel_display(),
            "id": self.pk,
            "state": self.get_state_display(),
        }

    @property
    def collapse_id(self) -> str:
        """Stable across re-sends of this message, so a device shows it once."""
        return f"samia-{self.pk}"


class Bounce(models.Model):
    class Kind(models.TextChoices):
        HARD = "hard", _("Hard")
        SOFT = "soft", _("Soft")
        COMPLAINT = "complaint", _("Complaint")

    send = models.ForeignKey(Send, on_delete=models.CASCADE, related_name="bounces", verbose_name=_("send"))
    channel = models.CharField(max_length=8, choices=Channel.choices, verbose_name=_("channel"))
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    code = models.CharField(max_length=40, verbose_name=_("code"))
    received_at = models.DateTimeField(default=timezone.now, verbose_name=_("received at"))

    class Meta:
        verbose_name = _("bounce")
        verbose_name_plural = _("bounces")
        indexes = [models.Index(fields=["kind", "received_at"], name="bounce_kind")]

    def __str__(self):
        return _("%(kind)s bounce %(code)s") % {"kind": self.get_kind_display(), "code": self.code}


class WebhookEvent(models.Model):
    """A verified webhook or tracking hit, stored before it is acted on (by the inbox job)."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Twilio status callback")
        INBOUND = "inbound", _("Twilio inbound message")
        OPEN = "open", _("Tracked open")
        CLICK = "click", _("Tracked click")

    kind = models.CharField(max_length=8, choices=Kind.choices, verbose_name=_("kind"))
    channel = models.CharField(max_length=8, choices=Channel.choices, blank=True, verbose_name=_("channel"))
    # sha256 of what makes the request unique: a replay collides here and is refused.
    digest = models.CharField(max_length=64, unique=True, verbose_name=_("digest"))
    # Only what processing needs: sids, statuses, error codes, keyword, send id, the sender's number.
    payload = models.JSONField(default=dict, verbose_name=_("payload"))
    received_at = models.DateTimeField(default=timezone.now, verbose_name=_("received at"))
    processed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("processed at"))
    outcome = models.CharField(max_length=40, blank=True, verbose_name=_("outcome"))

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        indexes = [
            models.Index(fields=["received_at"], condition=models.Q(processed_at__isnull=True), name="webhook_pending"),
        ]

    def __str__(self):
        return f"{self.kind} #{self.pk}"


class ConversationWindow(models.Model):
    """When a number last wrote to us on WhatsApp: free-form replies are allowed for 24 hours after."""

    channel = models.CharField(
        max_length=8, choices=Channel.choices, default=Channel.WHATSAPP, verbose_name=_("channel")
    )
    address_hash = models.CharField(max_length=64, verbose_name=_("address hash"))
    last_inbound_at = models.DateTimeField(verbose_name=_("last inbound at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "address_hash"], name="conversation_window_unique"),
        ]

    def __str__(self):
        return _("%(channel)s window until %(time)s") % {
            "channel": self.get_channel_display(),
            "time": f"{self.last_inbound_at:%Y-%m-%d %H:%M}",
        }


class Cursor(models.Model):
    """How far a job has read a stream (the order-update planner reads events_raw)."""

    name = models.CharField(max_length=40, unique=True, verbose_name=_("name"))
    position = models.DateTimeField(verbose_name=_("position"))

    def __str__(self):
        return _("%(name)s at %(time)s") % {"name": self.name, "time": f"{self.position:%Y-%m-%d %H:%M:%S}"}
