from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Severity(models.TextChoices):
    SEV1 = "sev1", _("SEV1: outage")
    SEV2 = "sev2", _("SEV2: major degradation")
    SEV3 = "sev3", _("SEV3: minor degradation")
    SEV4 = "sev4", _("SEV4: low impact")


class Component(models.TextChoices):
    API = "api", _("API")
    DATABASE = "database", _("Database")
    REDIS = "redis", _("Redis")
    WORKER = "worker", _("Workers and Beat")
    NOTIFICATIONS = "notifications", _("Notifications")
    PAYMENTS = "payments", _("Payments")
    CALLS = "calls", _("Calls")
    STORAGE = "storage", _("Storage and AR assets")
    TRANSLATION = "translation", _("Translation")
    BACKOFFICE = "backoffice", _("Back office")
    AUDIT = "audit", _("Audit trail")
    BACKUPS = "backups", _("Backups")


class OnCallShift(models.Model):
    """Who answers pages of one tier between two times (UTC)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    tier = models.PositiveSmallIntegerField(default=1, verbose_name=_("tier"))
    starts_at = models.DateTimeField(verbose_name=_("starts at"))
    ends_at = models.DateTimeField(verbose_name=_("ends at"))

    class Meta:
        verbose_name = _("on-call shift")
        verbose_name_plural = _("on-call shifts")
        ordering = ["tier", "starts_at"]
        indexes = [models.Index(fields=["tier", "starts_at", "ends_at"], name="oncall_tier_time")]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="oncall_order")
        ]

    def __str__(self):
        return _("tier %(tier)s #%(user)s") % {"tier": self.tier, "user": self.user_id}


class EscalationStep(models.Model):
    """An incident of `severity` still unacknowledged `after_minutes` after its declaration pages `tier`."""

    severity = models.CharField(max_length=4, choices=Severity.choices, verbose_name=_("severity"))
    tier = models.PositiveSmallIntegerField(verbose_name=_("tier"))
    after_minutes = models.PositiveIntegerField(verbose_name=_("after minutes"))

    class Meta:
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        ordering = ["severity", "tier"]
        constraints = [models.UniqueConstraint(fields=["severity", "tier"], name="escalation_step_unique")]

    def __str__(self):
        return _("%(severity)s tier %(tier)s after %(minutes)s min") % {
            "severity": self.get_severity_display(),
            "tier": self.tier,
            "minutes": self.after_minutes,
        }


class Runbook(models.Model):
    slug = models.SlugField(max_length=80, unique=True, verbose_name=_("slug"))
    component = models.CharField(max_length=20, choices=Component.choices, verbose_name=_("component"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    markdown = models.TextField(verbose_name=_("markdown"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("runbook")
        verbose_name_plural = _("runbooks")
        ordering = ["slug"]

    def __str__(self):
        return self.slug


class Incident(models.Model):
    class Status(models.TextChoices):
        DECLARED = "declared", _("Declared")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        MITIGATED = "mitigated", _("Mitigated")
        RESOLVED = "resolved", _("Resolved")

    severity = models.CharField(max_length=4, choices=Severity.choices, verbose_name=_("severity"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DECLARED, verbose_name=_("status"))
    component = models.CharField(max_length=20, choices=Component.choices, verbose_name=_("component"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    runbook = models.ForeignKey(
        Runbook, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("runbook")
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("declared by")
    )
    declared_at = models.DateTimeField(default=timezone.now, verbose_name=_("declared at"))
    # The highest tier paged so far (1 at declaration) and when.
    tier = models.PositiveSmallIntegerField(default=1, verbose_name=_("tier"))
    paged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("paged at"))
    acknowledged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("acknowledged at"))
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    mitigated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("mitigated at"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-declared_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["component"], condition=~models.Q(status="resolved"), name="incident_one_open_per_component"
            ),
        ]
        indexes = [
            models.Index(fields=["status"], condition=models.Q(status="declared"), name="incident_unacknowledged")
        ]

    def __str__(self):
        return f"{self.severity} #{self.pk} {self.component}"


class PostMortem(models.Model):
    incident = models.OneToOneField(
        Incident, on_delete=models.PROTECT, related_name="postmortem", verbose_name=_("incident")
    )
    summary = models.TextField(verbose_name=_("summary"))
    root_cause = models.TextField(verbose_name=_("root cause"))
    actions = models.TextField(help_text=_("Follow-up actions, one a line."), verbose_name=_("actions"))
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("written by")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("post-mortem")
        verbose_name_plural = _("post-mortems")

    def __str__(self):
        return _("post-mortem of #%(id)s") % {"id": self.incident_id}
