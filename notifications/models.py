"""Notifications: who agreed to hear what, on which channel, and every message planned or sent.

Tables and what they hold (no message body is ever logged; bodies live only in the rows that
must render them):
- DeviceToken: a user's push tokens (FCM or APNs), deactivated when the provider says they are dead.
- Consent: an append-only record per (user, channel, purpose); the latest row is the current choice.
- Suppression: addresses or users a channel must not reach (hard bounce, complaint, STOP, dead
  token, manual); active until lifted, checked at send time.
- Audience / Campaign: who a bulk message goes to, in which languages, when in their local time.
- Notification: one transactional or staff-triggered message to one user.
- Send: one message to one recipient on one channel, with a delivery state that only moves forward.
- Bounce: a provider's report that a sent message did not arrive.
- WebhookEvent: the inbox of verified webhooks and tracking hits, processed by a job.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samia.accounts.models import Language, Role


class Channel(models.TextChoices):
    PUSH = "push", _("Push (FCM/APNs)")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")


class Purpose(models.TextChoices):
    # Order updates and account notices: sent under the contract unless the user opts out.
    TRANSACTIONAL = "transactional", _("Transactional")
    # Campaigns: sent only after an explicit opt-in.
    MARKETING = "marketing", _("Marketing")
    # The daily zodiac push: sent only after an explicit opt-in.
    ZODIAC = "zodiac", _("Daily horoscope")


# Purposes that need an explicit opt-in; the others are sent until the user opts out.
OPT_IN_PURPOSES = (Purpose.MARKETING, Purpose.ZODIAC)


class DeviceToken(models.Model):
    class Platform(models.TextChoices):
        FCM = "fcm", _("FCM (Android/Web)")
        APNS = "apns", _("APNs (iOS)")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="device_tokens")
    platform = models.CharField(max_length=4, choices=Platform.choices)
    token = models.CharField(max_length=4096)
    active = models.BooleanField(default=True)
    # When the app last (re-)registered this token: APNs' 410 only counts if it is newer.
    registered_at = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivated_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = _("device token")
        verbose_name_plural = _("device tokens")
        constraints = [models.UniqueConstraint(fields=["platform", "token"], name="device_token_unique")]
        indexes = [models.Index(fields=["user", "active"], name="device_token_user_active")]

    def __str__(self):
        return f"{self.platform} device #{self.pk}"


class Consent(models.Model):
    class Status(models.TextChoices):
        GRANTED = "granted", _("Granted")
        REVOKED = "revoked", _("Revoked")

    class Basis(models.TextChoices):
        CONSENT = "consent", _("Consent")
        CONTRACT = "contract", _("Contract")

    class Source(models.TextChoices):
        API = "api", _("App / API")
        SMS_KEYWORD = "sms_keyword", _("SMS/WhatsApp keyword")
        ADMIN = "admin", _("Staff")
        IMPORT = "import", _("Import")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    status = models.CharField(max_length=8, choices=Status.choices)
    lawful_basis = models.CharField(max_length=8, choices=Basis.choices)
    source = models.CharField(max_length=12, choices=Source.choices)
    text_version = models.CharField(max_length=32, help_text="The version of the consent wording shown.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        indexes = [
            # "The latest row per (user, channel, purpose)", for one user and for a whole audience.
            models.Index(fields=["user", "channel", "purpose", "-recorded_at", "-id"], name="consent_latest"),
            models.Index(fields=["channel", "purpose", "user", "-recorded_at", "-id"], name="consent_audience"),
        ]

    def __str__(self):
        return f"{self.channel}/{self.purpose} {self.status}"


class LiftReason(models.TextChoices):
    # Why staff lifted a suppression: a code for the audit trail, never a free-text note.
    CUSTOMER_REQUEST = "customer_request", _("The recipient asked to be reached again")
    ADDRESS_FIXED = "address_fixed", _("The number or token was corrected")
    PROVIDER_RESOLVED = "provider_resolved", _("The provider's problem is resolved")
    ADDED_IN_ERROR = "added_in_error", _("Added by mistake")


class Suppression(models.Model):
    class Reason(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", _("Hard bounce")
        COMPLAINT = "complaint", _("Complaint")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed at the provider (21610)")
        STOP = "stop", _("STOP keyword")
        INVALID_TOKEN = "invalid_token", _("Invalid device token")
        MANUAL = "manual", _("Manual")

    class Source(models.TextChoices):
        AUTOMATIC = "automatic", _("Automatic")
        MANUAL = "manual", _("Manual")

    channel = models.CharField(max_length=8, choices=Channel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # A keyed hash of the address (E.164 number or device token): matched without storing it.
    address_hash = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    note = models.CharField(max_length=200, blank=True, help_text="A code or a ticket reference, not personal data.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("suppression")
        verbose_name_plural = _("suppressions")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(user__isnull=True, address_hash=""), name="suppression_names_someone"
            ),
            models.UniqueConstraint(
                fields=["channel", "user"],
                condition=models.Q(lifted_at__isnull=True, user__isnull=False),
                name="suppression_one_active_per_user",
            ),
            models.UniqueConstraint(
                fields=["channel", "address_hash"],
                condition=models.Q(lifted_at__isnull=True) & ~models.Q(address_hash=""),
                name="suppression_one_active_per_address",
            ),
        ]

    def __str__(self):
        return f"{self.channel} suppression ({self.reason})"

    @property
    def active(self) -> bool:
        return self.lifted_at is None


class Audience(models.Model):
    class Segment(models.TextChoices):
        EVERYONE = "everyone", _("Everyone")
        LISTENED_7D = "listened_7d", _("Listened to a horoscope in the last 7 days")
        ACTIVE_30D = "active_30d", _("Opened the app in the last 30 days")
        DORMANT_30D = "dormant_30d", _("Not seen in the last 30 days")
        ORDERED_90D = "ordered_90d", _("Ordered a reading in the last 90 days")

    name = models.CharField(max_length=120)
    roles = models.JSONField(default=list, blank=True, help_text="Empty: clients and readers.")
    countries = models.JSONField(default=list, blank=True, help_text="ISO codes; empty: every country.")
    languages = models.JSONField(default=list, blank=True, help_text="ar/en; empty: both.")
    segment = models.CharField(max_length=16, choices=Segment.choices, default=Segment.EVERYONE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

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

    name = models.CharField(max_length=120)
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.MARKETING)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    audience = models.ForeignKey(Audience, on_delete=models.PROTECT, related_name="campaigns")
    # {"en": {"title": ..., "body": ...}, "ar": {...}}; WhatsApp: {"en": {"content_sid": "HX...",
    # "variables": {"1": "..."}}}. A recipient gets their language, else English.
    templates = models.JSONField()
    link_url = models.URLField(blank=True, help_text="Where a tracked click leads (optional).")
    # Each recipient gets it at local_time on send_on in their own timezone, and not after the window.
    send_on = models.DateField()
    local_time = models.TimeField()
    window_hours = models.PositiveSmallIntegerField(default=6)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    planned_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    scheduled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self):
        return self.name


class Notification(models.Model):
    """One message to one user (an order update, a staff notice), on one or more channels."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40, help_text="A dotted code, e.g. order.delivered.")
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.TRANSACTIONAL)
    # A critical transactional message may be sent in quiet hours.
    critical = models.BooleanField(default=False)
    title = models.CharField(max_length=120)
    body = models.CharField(max_length=1000)
    data = models.JSONField(default=dict, blank=True, help_text="IDs and codes for the app (strings).")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.kind} #{self.pk}"


class Encoding(models.TextChoices):
    GSM7 = "gsm7", _("GSM-7")
    UCS2 = "ucs2", _("UCS-2")


class Send(models.Model):
    class State(models.TextChoices):
        PLANNED = "planned", _("Planned")
        QUEUED = "queued", "Queued"  # handed to the dispatcher: in flight or waiting for a retry
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

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, null=True, blank=True, related_name="sends"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, null=True, blank=True, related_name="sends")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    critical = models.BooleanField(default=False)
    kind = models.CharField(max_length=40)
    # What the message is about, for rendering at send time (the zodiac push: the horoscope id).
    subject_id = models.BigIntegerField(null=True, blank=True)
    # One send per recipient per message: campaign:<id>:<user>, zodiac:<date>:<user>, notification:<id>:<channel>
    dedupe_key = models.CharField(max_length=80, unique=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    due_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.PLANNED)
    state_changed_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Set while a dispatcher holds the send: past it, the attempt is presumed lost (worker killed).
    lease_until = models.DateTimeField(null=True, blank=True)
    # Committed just before the provider is called: after a crash, a send with this set may have
    # gone out (its outcome is unknown); one without it certainly did not and is safe to retry.
    in_flight_since = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=12, blank=True)
    sandbox = models.BooleanField(default=False)
    message_id = models.CharField(max_length=200, blank=True)
    # The provider's or our own error code ("provider_unavailable", "21610", ...); never a body.
    last_error = models.CharField(max_length=40, blank=True)
    # SMS only: GSM-7 or UCS-2 and the segment count of the exact text, measured when the campaign
    # is planned (an estimate: the tracked link's length varies) and again when it goes in flight.
    encoding = models.CharField(max_length=4, choices=Encoding.choices, blank=True, default="", db_default="")
    segments = models.PositiveSmallIntegerField(null=True, blank=True)
    # SMS/WhatsApp: the keyed hash of the number it went to (set when it goes in flight), so the
    # first text to a number is known per number and channel, whoever owns the number now.
    address_hash = models.CharField(max_length=64, blank=True, default="", db_default="")
    # Monitors see escalations only (complaints: a recipient reported the message).
    escalated = models.BooleanField(default=False)
    # Its campaign is paused: out of the dispatcher's due index until the campaign resumes.
    held = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)

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
            models.Index(fields=["provider", "message_id"], name="send_message_id"),
            models.Index(fields=["escalated"], condition=models.Q(escalated=True), name="send_escalated"),
            models.Index(fields=["address_hash", "channel"], condition=~models.Q(address_hash=""), name="send_address"),
        ]

    def __str__(self):
        return f"{self.channel} send #{self.pk} ({self.state})"

    @property
    def collapse_id(self) -> str:
        """Stable across re-sends of this message, so a device shows it once."""
        return f"samia-{self.pk}"


class Bounce(models.Model):
    class Kind(models.TextChoices):
        HARD = "hard", _("Hard")
        SOFT = "soft", _("Soft")
        COMPLAINT = "complaint", _("Complaint")

    send = models.ForeignKey(Send, on_delete=models.CASCADE, related_name="bounces")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    code = models.CharField(max_length=40)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("bounce")
        verbose_name_plural = _("bounces")
        indexes = [models.Index(fields=["kind", "received_at"], name="bounce_kind")]

    def __str__(self):
        return f"{self.kind} bounce {self.code}"


class WebhookEvent(models.Model):
    """A verified webhook or tracking hit, stored before it is acted on (by the inbox job)."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Twilio status callback")
        INBOUND = "inbound", _("Twilio inbound message")
        OPEN = "open", _("Tracked open")
        CLICK = "click", _("Tracked click")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices, blank=True)
    # sha256 of what makes the request unique: a replay collides here and is refused.
    digest = models.CharField(max_length=64, unique=True)
    # Only what processing needs: sids, statuses, error codes, keyword, send id, the sender's number.
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=40, blank=True)

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

    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.WHATSAPP)
    address_hash = models.CharField(max_length=64)
    last_inbound_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "address_hash"], name="conversation_window_unique"),
        ]

    def __str__(self):
        return f"{self.channel} window until {self.last_inbound_at:%Y-%m-%d %H:%M}"


class Cursor(models.Model):
    """How far a job has read a stream (the order-update planner reads events_raw)."""

    name = models.CharField(max_length=40, unique=True)
    position = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.position:%Y-%m-%d %H:%M:%S}"
