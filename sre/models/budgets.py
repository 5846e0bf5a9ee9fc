from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Metric(models.TextChoices):
    SMS = "sms", _("SMS sent")
    WHATSAPP = "whatsapp", _("WhatsApp messages sent")
    PUSH = "push", _("Push notifications sent")
    STORAGE_BYTES = "storage_bytes", _("Stored bytes")
    EGRESS_BYTES = "egress_bytes", _("Egress bytes")
    TRANSLATION_CHARS = "translation_chars", _("Translated characters")


def default_thresholds() -> list[int]:
    return [50, 80, 100]


class Budget(models.Model):
    """A monthly limit on one metered quantity; raising the limit ends its degraded mode at once."""

    metric = models.CharField(max_length=20, choices=Metric.choices, unique=True, verbose_name=_("metric"))
    monthly_limit = models.BigIntegerField(
        help_text=_("Units a month (messages, bytes or characters)."), verbose_name=_("monthly limit")
    )
    unit_cost = models.DecimalField(
        max_digits=20, decimal_places=12, help_text=_("Cost of one unit."), verbose_name=_("unit cost")
    )
    currency = models.CharField(max_length=3, default="USD", verbose_name=_("currency"))
    thresholds = ArrayField(
        models.PositiveSmallIntegerField(), default=default_thresholds, verbose_name=_("thresholds")
    )
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        ordering = ["metric"]
        constraints = [models.CheckConstraint(condition=models.Q(monthly_limit__gt=0), name="budget_limit_positive")]

    def __str__(self):
        return self.get_metric_display()


class BudgetUsage(models.Model):
    """A budget's use this month as last measured: the actual figure and the month-end forecast."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="usages", verbose_name=_("budget"))
    month = models.DateField(help_text=_("First day of the UTC month."), verbose_name=_("month"))
    actual = models.BigIntegerField(default=0, verbose_name=_("actual"))
    forecast = models.BigIntegerField(default=0, verbose_name=_("forecast"))
    evaluated_at = models.DateTimeField(default=timezone.now, verbose_name=_("evaluated at"))

    class Meta:
        verbose_name = _("budget usage")
        verbose_name_plural = _("budget usages")
        constraints = [models.UniqueConstraint(fields=["budget", "month"], name="budget_usage_month_unique")]

    def __str__(self):
        return f"{self.budget} {self.month:%Y-%m}"


class BudgetAlert(models.Model):
    """One alert per budget, month, kind (actual or forecast) and threshold: sent once."""

    class Kind(models.TextChoices):
        ACTUAL = "actual", _("Actual")
        FORECAST = "forecast", _("Forecast")

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("budget"))
    month = models.DateField(verbose_name=_("month"))
    kind = models.CharField(max_length=8, choices=Kind.choices, verbose_name=_("kind"))
    threshold = models.PositiveSmallIntegerField(verbose_name=_("threshold"))
    percent = models.PositiveIntegerField(verbose_name=_("percent"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("budget alert")
        verbose_name_plural = _("budget alerts")
        constraints = [
            models.UniqueConstraint(fields=["budget", "month", "kind", "threshold"], name="budget_alert_once"),
        ]

    def __str__(self):
        return f"{self.budget} {self.kind} {self.threshold}%"
