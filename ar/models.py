"""AR assets (overlays, effects, 3D models, animations) stored privately, and their links to readings."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samia.marketplace.models import Horoscope, Order


class ArAsset(models.Model):
    class Kind(models.TextChoices):
        OVERLAY = "overlay", _("Overlay")
        EFFECT = "effect", _("Effect")
        MODEL_3D = "model_3d", _("3D model")
        ANIMATION = "animation", _("Animation")

    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    storage_key = models.CharField(
        max_length=255,
        unique=True,
        help_text=_("Key in private storage; never a public URL."),
        verbose_name=_("storage key"),
    )
    content_type = models.CharField(
        max_length=64,
        help_text=_("Sniffed from the bytes, never taken from the client."),
        verbose_name=_("content type"),
    )
    sha256 = models.CharField(max_length=64, unique=True, verbose_name=_("SHA-256"))
    bytes = models.PositiveBigIntegerField(verbose_name=_("bytes"))
    duration_ms = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("duration (ms)"))
    frame_count = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("frame count"))
    width = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("width"))
    height = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("height"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    removed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Set by removal: the stored object is deleted, the lineage stays."),
        verbose_name=_("removed at"),
    )

    class Meta:
        verbose_name = _("AR asset")
        verbose_name_plural = _("AR assets")
        indexes = [
            models.Index(fields=["kind", "-id"], name="ar_asset_kind_recent_idx"),
            models.Index(fields=["removed_at"], name="ar_asset_removed_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"


class ArLink(models.Model):
    """An asset tried on one order or one horoscope (exactly one of the two)."""

    asset = models.ForeignKey(ArAsset, on_delete=models.PROTECT, related_name="links", verbose_name=_("asset"))
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("order")
    )
    horoscope = models.ForeignKey(
        Horoscope, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("horoscope")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("AR link")
        verbose_name_plural = _("AR links")
        constraints = [
            models.CheckConstraint(
                condition=Q(order__isnull=False, horoscope__isnull=True)
                | Q(order__isnull=True, horoscope__isnull=False),
                name="ar_link_one_target",
            ),
            models.UniqueConstraint(
                fields=["asset", "order"], condition=Q(order__isnull=False), name="ar_link_asset_order_unique"
            ),
            models.UniqueConstraint(
                fields=["asset", "horoscope"],
                condition=Q(horoscope__isnull=False),
                name="ar_link_asset_horoscope_unique",
            ),
        ]

    def __str__(self):
        if self.order_id:
            return _("AR asset #%(asset)s on order #%(id)s") % {"asset": self.asset_id, "id": self.order_id}
        return _("AR asset #%(asset)s on horoscope #%(id)s") % {"asset": self.asset_id, "id": self.horoscope_id}
