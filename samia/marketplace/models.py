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

    code = models.CharField(max_length=16, choices=Code.choices, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=80, verbose_name=_("name"))
    is_premium = models.BooleanField(default=False, verbose_name=_("is premium"))
    base_price = models.DecimalField(max_digits=10, decimal_places=2, verbose_name=_("base price"))
    currency = models.CharField(max_length=3, default="USD", verbose_name=_("currency"))
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [models.CheckConstraint(condition=Q(base_price__gte=0), name="service_price_not_negative")]

    def __str__(self):
        return self.name


class Order(models.Model):
    # FK columns led by a composite index below need no index of their own.
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
        verbose_name=_("client"),
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="orders", verbose_name=_("service"))
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_orders",
        db_index=False,
        verbose_name=_("reader"),
    )
    question = models.TextField(max_length=2000, verbose_name=_("question"))
    is_gold = models.BooleanField(default=False, help_text=_("Priority order."), verbose_name=_("is gold"))
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.NEW, verbose_name=_("status")
    )
    rejection_reason = models.CharField(max_length=500, blank=True, verbose_name=_("rejection reason"))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    assigned_at = models.DateTimeField(null=True, blank=True, verbose_name=_("assigned at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    submitted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("submitted at"))
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))
    cancelled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("cancelled at"))
    held_from = models.CharField(
        max_length=20,
        choices=OrderStatus.choices,
        blank=True,
        help_text=_("While held or unlisted: where it returns."),
        verbose_name=_("held from"),
    )
    held_at = models.DateTimeField(null=True, blank=True, verbose_name=_("held at"))
    released_at = models.DateTimeField(null=True, blank=True, verbose_name=_("released at"))

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
        return _("Order #%(id)s (%(status)s)") % {"id": self.pk, "status": self.get_status_display()}


class OrderIdempotencyKey(models.Model):
    """A client's `Idempotency-Key` on `POST /orders`: a retry within 24 hours gets the same order back."""

    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("client")
    )
    key = models.CharField(max_length=255, verbose_name=_("key"))
    # sha256 of the validated request (service, question, gold): the same key with another body is refused.
    fingerprint = models.CharField(max_length=64, verbose_name=_("fingerprint"))
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("order")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="order_idempotency_key_unique")]
        indexes = [models.Index(fields=["created_at"], name="order_idempotency_created_idx")]

    def __str__(self):
        return _("Idempotency key #%(id)s") % {"id": self.pk}


class MediaAsset(models.Model):
    class Kind(models.TextChoices):
        AUDIO = "audio", _("Audio")
        IMAGE = "image", _("Image")
        PDF = "pdf", _("PDF")
        OTHER = "other", _("Other")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="media_assets",
        db_index=False,
        verbose_name=_("owner"),
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="media_assets",
        db_index=False,
        verbose_name=_("order"),
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, verbose_name=_("kind"))
    storage_key = models.CharField(
        max_length=255,
        unique=True,
        help_text=_("Key in private storage; never a public URL."),
        verbose_name=_("storage key"),
    )
    content_type = models.CharField(max_length=100, verbose_name=_("content type"))
    bytes = models.PositiveBigIntegerField(verbose_name=_("bytes"))
    sha256 = models.CharField(max_length=64, db_index=True, verbose_name=_("SHA-256"))
    duration_seconds = models.DecimalField(
        max_digits=9,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_("Measured from the bytes for audio."),
        verbose_name=_("duration seconds"),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    removed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Set by moderation: the stored object is deleted, the lineage stays."),
        verbose_name=_("removed at"),
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

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="calls", db_index=False, verbose_name=_("order")
    )
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="client_calls",
        db_index=False,
        verbose_name=_("client"),
    )
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="reader_calls",
        db_index=False,
        verbose_name=_("reader"),
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED, verbose_name=_("status"))
    scheduled_at = models.DateTimeField(verbose_name=_("scheduled at"))
    answered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("answered at"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended at"))
    end_reason = models.CharField(max_length=40, blank=True, verbose_name=_("end reason"))
    dropped_by = models.CharField(max_length=8, choices=Party.choices, blank=True, verbose_name=_("dropped by"))

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
        return _("Call #%(id)s (%(status)s)") % {"id": self.pk, "status": self.get_status_display()}


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

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="payments", db_index=False, verbose_name=_("order")
    )
    provider = models.CharField(max_length=8, choices=Provider.choices, verbose_name=_("provider"))
    country = models.CharField(max_length=2, verbose_name=_("country"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("amount"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("status"))
    attempt = models.PositiveSmallIntegerField(default=1, verbose_name=_("attempt"))
    fallback_of = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fallback",
        help_text=_("The failed payment this one replaced."),
        verbose_name=_("fallback of"),
    )
    provider_reference = models.CharField(max_length=120, blank=True, verbose_name=_("provider reference"))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

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
        return _("Payment #%(id)s (%(provider)s, %(status)s)") % {
            "id": self.pk,
            "provider": self.get_provider_display(),
            "status": self.get_status_display(),
        }


class Horoscope(models.Model):
    class Scope(models.TextChoices):
        DAILY = "daily", _("Daily")

    class Approval(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    sign = models.CharField(max_length=12, choices=Sign.choices, verbose_name=_("sign"))
    date = models.DateField(verbose_name=_("date"))
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.DAILY, verbose_name=_("scope"))
    text = models.TextField(max_length=4000, verbose_name=_("text"))
    audio = models.ForeignKey(
        MediaAsset, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("audio")
    )
    approval_status = models.CharField(
        max_length=8, choices=Approval.choices, default=Approval.PENDING, verbose_name=_("approval status")
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("approved at"))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("horoscope")
        verbose_name_plural = _("horoscopes")
        constraints = [models.UniqueConstraint(fields=["sign", "date", "scope"], name="horoscope_one_per_sign_day")]
        indexes = [models.Index(fields=["date", "approval_status"], name="horoscope_date_approval_idx")]

    def __str__(self):
        return f"{self.get_sign_display()} {self.date:%Y-%m-%d}"
