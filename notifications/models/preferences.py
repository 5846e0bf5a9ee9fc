"""Who agreed to hear what: channels, purposes, device tokens, consent and suppressions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="device_tokens", verbose_name=_("user")
    )
    platform = models.CharField(max_length=4, choices=Platform.choices, verbose_name=_("platform"))
    token = models.CharField(max_length=4096, verbose_name=_("token"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    # When the app last (re-)registered this token: APNs' 410 only counts if it is newer.
    registered_at = models.DateTimeField(default=timezone.now, verbose_name=_("registered at"))
    deactivated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("deactivated at"))
    deactivated_reason = models.CharField(max_length=40, blank=True, verbose_name=_("deactivated reason"))

    class Meta:
        verbose_name = _("device token")
        verbose_name_plural = _("device tokens")
        constraints = [models.UniqueConstraint(fields=["platform", "token"], name="device_token_unique")]
        indexes = [models.Index(fields=["user", "active"], name="device_token_user_active")]

    def __str__(self):
        return _("%(platform)s device #%(id)s") % {"platform": self.get_platform_display(), "id": self.pk}


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

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, verbose_name=_("channel"))
    purpose = models.CharField(max_length=16, choices=Purpose.choices, verbose_name=_("purpose"))
    status = models.CharField(max_length=8, choices=Status.choices, verbose_name=_("status"))
    lawful_basis = models.CharField(max_length=8, choices=Basis.choices, verbose_name=_("lawful basis"))
    source = models.CharField(max_length=12, choices=Source.choices, verbose_name=_("source"))
    text_version = models.CharField(
        max_length=32, help_text=_("The version of the consent wording shown."), verbose_name=_("text version")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(default=timezone.now, verbose_name=_("recorded at"))

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        indexes = [
            # "The latest row per (user, channel, purpose)", for one user and for a whole audience: the
            # audience's is read in its order with the status in it (an index-only scan, no sort).
            models.Index(fields=["user", "channel", "purpose", "-recorded_at", "-id"], name="consent_latest"),
            models.Index(
                fields=["channel", "purpose", "user", "-recorded_at", "-id"],
                include=["status"],
                name="consent_audience_status",
            ),
        ]

    def __str__(self):
        return _("%(channel)s/%(purpose)s: %(status)s") % {
            "channel": self.get_channel_display(),
            "purpose": self.get_purpose_display(),
            "status": self.get_status_display(),
        }


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

    channel = models.CharField(max_length=8, choices=Channel.choices, verbose_name=_("channel"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    # A keyed hash of the address (E.164 number or device token): matched without storing it.
    address_hash = models.CharField(max_length=64, blank=True, verbose_name=_("address hash"))
    reason = models.CharField(max_length=16, choices=Reason.choices, verbose_name=_("reason"))
    source = models.CharField(max_length=10, choices=Source.choices, verbose_name=_("source"))
    note = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("A code or a ticket reference, not personal data."),
        verbose_name=_("note"),
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
    lifted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("lifted at"))
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lifted by"),
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
        return _("%(channel)s suppression (%(reason)s)") % {
            "channel": self.get_channel_display(),
            "reason": self.get_reason_display(),
        }

    @property
    def active(self) -> bool:
        return self.lifted_at is None
