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

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    tier = models.PositiveSmallIntegerField(default=1)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["tier", "starts_at"]
        indexes = [models.Index(fields=["tier", "starts_at", "ends_at"], name="oncall_tier_time")]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="oncall_order")
        ]

    def __str__(self):
        return f"tier {self.tier} #{self.user_id}"


class EscalationStep(models.Model):
    """An incident of `severity` still unacknowledged `after_minutes` after its declaration pages `tier`."""

    severity = models.CharField(max_length=4, choices=Severity.choices)
    tier = models.PositiveSmallIntegerField()
    after_minutes = models.PositiveIntegerField()

    class Meta:
        ordering = ["severity", "tier"]
        constraints = [models.UniqueConstraint(fields=["severity", "tier"], name="escalation_step_unique")]

    def __str__(self):
        return f"{self.severity} tier {self.tier} after {self.after_minutes} min"


class Runbook(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    component = models.CharField(max_length=20, choices=Component.choices)
    title = models.CharField(max_length=200)
    markdown = models.TextField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.slug


class Incident(models.Model):
    class Status(models.TextChoices):
        DECLARED = "declared", _("Declared")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        MITIGATED = "mitigated", _("Mitigated")
        RESOLVED = "resolved", _("Resolved")

    severity = models.CharField(max_length=4, choices=Severity.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DECLARED)
    component = models.CharField(max_length=20, choices=Component.choices)
    title = models.CharField(max_length=200)
    runbook = models.ForeignKey(Runbook, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    declared_at = models.DateTimeField(default=timezone.now)
    # The highest tier paged so far (1 at declaration) and when.
    tier = models.PositiveSmallIntegerField(default=1)
    paged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
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
    incident = models.OneToOneField(Incident, on_delete=models.PROTECT, related_name="postmortem")
    summary = models.TextField()
    root_cause = models.TextField()
    actions = models.TextField(help_text=_("Follow-up actions, one a line."))
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"post-mortem of #{self.incident_id}"
