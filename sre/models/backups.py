from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Backup(models.Model):
    """One pg_dump -Fc snapshot: where it is, its sha256 and the row count of every table."""

    class Kind(models.TextChoices):
        DAILY = "daily", _("Daily")
        MONTHLY = "monthly", _("Monthly")

    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.DAILY)
    file_name = models.CharField(max_length=200, unique=True)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    row_counts = models.JSONField(default=dict)
    server_version = models.CharField(max_length=40)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-finished_at"]

    def __str__(self):
        return self.file_name


class RestoreDrill(models.Model):
    """A restore of one backup into a scratch database, checked and dropped."""

    class Result(models.TextChoices):
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")

    backup = models.ForeignKey(Backup, on_delete=models.SET_NULL, null=True, related_name="drills")
    started_at = models.DateTimeField(default=timezone.now)
    duration_seconds = models.FloatField()
    result = models.CharField(max_length=8, choices=Result.choices)
    # Codes and counts only: the tables whose counts differ, the checks that failed.
    details = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"drill {self.started_at:%Y-%m-%d %H:%M} {self.result}"
