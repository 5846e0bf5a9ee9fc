from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samia.accounts.zodiac import Sign
from samia.marketplace.states import OrderStatus


class Service(models.Model):
    class Code(models.TextChoices):
        TAROT = "tarot", _("Tarot")
        COFFEE = "coffee", _("Coffee cup")
        ASTRO = "astro", _("Astrology")
        HEALING = "healing", _("Healing")
        DIRECT_CALL = "direct_call", _("Direct call")

    code = models.CharField(max_length=16, choices=Code.choices, unique=True)
    name = models.CharField(max_length=80)
    is_premium = models.BooleanField(default=False)
    base_price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [models.CheckConstraint(condition=Q(base_price__gte=0), name="service_price_not_negative")]

    def __str__(self):
        return self.name


class Order(models.Model):
    # FK columns led by a composite index below need no index of their own.
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="orders")
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_orders",
        db_index=False,
    )
    question = models.TextField(max_length=2000)
    is_gold = models.BooleanField(default=False, help_text="Priority order.")
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.NEW)
    rejection_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    assigned_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    held_from = models.CharField(
        max_length=20, choices=OrderStatus.choices, blank=True, help_text="While held or unlisted: where it returns."
    )
    held_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            # Each persona's list is "my orders, newest first": one index per scoping column.
            models.Index(fields=["client", "-id"], name="order_client_recent_idx"),
            models.Index(fields=["reader", "-id"], name="order_reader_recent_idx"),
            models.Index(fields=["status", "-id"], name="order_status_recent_idx"),
            # The back office's stuck orders (awaiting approval since before a moment): the oldest
            # is the first entry, and the capped count reads only the entries it counts.
            models.Index(fields=["status", "submitted_at"], name="order_status_submitted_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="order_status_valid"),
            models.CheckConstraint(
                condition=Q(status__in=["new", "cancelled"]) | Q(reader__isnull=False) | Q(held_from="new"),
                name="order_reader_set_once_assigned",
            ),
        ]

    def __str__(self):
        return f"Order #{self.pk} ({self.get_status_display()})"


class OrderIdempotencyKey(models.Model):
    """A client's `Idempotency-Key` on `POST /orders`: a retry within 24 hours gets the same order back."""

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=255)
    # sha256 of the validated request (service, question, gold): the same key with another body is refused.
    fingerprint = models.CharField(max_length=64)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="order_idempotency_key_unique")]
        indexes = [models.Index(fields=["created_at"], name="order_idempotency_created_idx")]

    def __str__(self):
        return f"Idempotency key #{self.pk}"


class MediaAsset(models.Model):
    class Kind(models.TextChoices):
        AUDIO = "audio", _("Audio")
        IMAGE = "image", _("Image")
        PDF = "pdf", _("PDF")
        OTHER = "other", _("Other")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="media_assets", db_index=False
    )
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="media_assets", db_index=False
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    storage_key = models.CharField(max_length=255, unique=True, help_text="Key in private storage; never a public URL.")
    content_type = models.CharField(max_length=100)
    bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    duration_seconds = models.DecimalField(
        max_digits=9, decimal_places=3, null=True, blank=True, help_text="Measured from the bytes for audio."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    removed_at = models.DateTimeField(
        null=True, blank=True, help_text="Set by moderation: the stored object is deleted, the lineage stays."
    )

    class Meta:
        verbose_name = _("media asset")
        verbose_name_plural = _("media assets")
        indexes = [
            models.Index(fields=["owner", "-id"], name="media_owner_recent_idx"),
            models.Index(fields=["order"], name="media_order_idx"),
            models.Index(fields=["removed_at"], name="media_removed_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"


class Call(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        RINGING = "ringing", _("Ringing")
        ANSWERED = "answered", _("Answered")
        ENDED = "ended", _("Ended")
        DROPPED = "dropped", _("Dropped")
        FAILED = "failed", _("Failed")

    class Party(models.TextChoices):
        CLIENT = "client", _("Client")
        READER = "reader", _("Reader")
        SYSTEM = "system", _("System")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="calls", db_index=False)
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="client_calls", db_index=False
    )
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reader_calls", db_index=False
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    scheduled_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=40, blank=True)
    dropped_by = models.CharField(max_length=8, choices=Party.choices, blank=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        indexes = [
            models.Index(fields=["client", "-id"], name="call_client_recent_idx"),
            models.Index(fields=["reader", "-id"], name="call_reader_recent_idx"),
            models.Index(fields=["order"], name="call_order_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "ringing", "answered", "ended", "dropped", "failed"]),
                name="call_status_valid",
            ),
        ]

    def __str__(self):
        return f"Call #{self.pk} ({self.get_status_display()})"


class Payment(models.Model):
    class Provider(models.TextChoices):
        STRIPE = "stripe", _("Stripe")
        SQUARE = "square", _("Square")
        MANUAL = "manual", _("Manual")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        REFUNDED = "refunded", _("Refunded")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments", db_index=False)
    provider = models.CharField(max_length=8, choices=Provider.choices)
    country = models.CharField(max_length=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt = models.PositiveSmallIntegerField(default=1)
    fallback_of = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fallback",
        help_text="The failed payment this one replaced.",
    )
    provider_reference = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(fields=["order", "attempt"], name="payment_order_attempt_unique"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "succeeded", "failed", "refunded"]), name="payment_status_valid"
            ),
        ]

    def __str__(self):
        return f"Payment #{self.pk} ({self.get_provider_display()}, {self.get_status_display()})"


class Horoscope(models.Model):
    class Scope(models.TextChoices):
        DAILY = "daily", _("Daily")

    class Approval(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    sign = models.CharField(max_length=12, choices=Sign.choices)
    date = models.DateField()
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.DAILY)
    text = models.TextField(max_length=4000)
    audio = models.ForeignKey(MediaAsset, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    approval_status = models.CharField(max_length=8, choices=Approval.choices, default=Approval.PENDING)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("horoscope")
        verbose_name_plural = _("horoscopes")
        constraints = [models.UniqueConstraint(fields=["sign", "date", "scope"], name="horoscope_one_per_sign_day")]
        indexes = [models.Index(fields=["date", "approval_status"], name="horoscope_date_approval_idx")]

    def __str__(self):
        return f"{self.get_sign_display()} {self.date:%Y-%m-%d}"
